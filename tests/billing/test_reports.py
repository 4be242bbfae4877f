"""Daily reconciliation against the sandbox's own book, and revenue by merchant and category."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.conf import settings
from django.utils import timezone
from openpyxl import load_workbook

from tests.billing.test_loyalty import pay_wallet
from tests.billing.test_payments import book, notify, top_up
from tests.conftest import api_for, make_user
from yuyue.accounts.models import MerchantStaff, StaffRole
from yuyue.billing.gateways.sandbox import SandboxGateway
from yuyue.billing.models import (
    LedgerAccount,
    Payment,
    ReconciliationRun,
    SandboxTransaction,
)
from yuyue.billing.refunds import refund
from yuyue.billing.reports import reconcile
from yuyue.billing.settlement import settle_order
from yuyue.catalog.models import Category
from yuyue.core.timeutil import zone
from yuyue.orders.models import Booking

pytestmark = pytest.mark.django_db


def today():
    return timezone.now().astimezone(zone(settings.YUYUE_DEFAULT_TIMEZONE)).date()


def pay_by_gateway(user, **body):
    status, out = api_for(user).post("/api/payments", body)
    assert status == 201, out
    payment = Payment.objects.get(out_trade_no=out["out_trade_no"])
    assert notify(SandboxGateway().notification_body(payment))[0] == 200
    payment.refresh_from_db()
    return payment


def test_a_clean_day_reconciles_and_every_kind_of_error_shows(customer, open_slot, operator):
    pay_by_gateway(customer, top_up_fen=5000)
    order = book(customer, open_slot)
    paid = pay_by_gateway(customer, booking_id=order["id"])
    refund(actor=operator, booking_id=order["id"], amount_fen=700, key="part")
    status, run = api_for(operator).post("/api/ops/reconciliations", {"day": str(today())})
    assert status == 200, run
    assert (run["ok"], run["matched"], run["discrepancies"]) == (True, 3, [])

    # the gateway lost a refund line, changed a payment's amount and knows a stranger
    SandboxTransaction.objects.filter(kind="refund").delete()
    SandboxTransaction.objects.filter(reference=paid.gateway_txn_id).update(amount_fen=1999)
    SandboxTransaction.objects.create(
        kind="payment", reference="sbt_stray", amount_fen=42, at=timezone.now()
    )
    # and somebody edited a balance behind the ledger's back
    drifted = LedgerAccount.objects.filter(code__startswith="customer_cash").first()
    LedgerAccount.objects.filter(pk=drifted.pk).update(balance=drifted.balance + 1)
    run = reconcile(day=today(), actor=operator)
    kinds = sorted(p["type"] for p in run.discrepancies)
    assert kinds == ["amount_mismatch", "balance_drift", "missing_at_gateway", "missing_here"]
    mismatch = next(p for p in run.discrepancies if p["type"] == "amount_mismatch")
    assert (mismatch["amount_fen"], mismatch["ours_fen"]) == (1999, 2000)
    assert not run.ok and run.matched == 1
    assert ReconciliationRun.objects.count() == 1  # the day's result was replaced

    status, content = api_for(operator).get(f"/api/ops/reconciliations/{today()}.xlsx")
    assert status == 200
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet.max_row == 5 and sheet["E1"].value == "Amount 金额"
    status, problem = api_for(customer).post("/api/ops/reconciliations", {"day": str(today())})
    assert (status, problem["code"]) == (403, "forbidden")


def test_revenue_by_merchant_and_category(customer, open_slot, merchant, operator, hall_service):
    category = Category.objects.create(name="证照 Papers", slug="papers")
    hall_service.category = category
    hall_service.save()
    merchant.commission_bp = 1000
    merchant.save()
    top_up(customer, 10_000)
    first, second = book(customer, open_slot), book(customer, open_slot)
    pay_wallet(customer, first["id"])
    pay_by_gateway(customer, booking_id=second["id"])
    refund(actor=operator, booking_id=second["id"], amount_fen=500, key="r")
    Booking.objects.filter(pk=first["id"]).update(status="checked_in")
    settle_order(booking_id=first["id"])
    day = str(today())
    status, report = api_for(operator).get(
        "/api/reports/revenue", {"date_from": day, "date_to": day}
    )
    assert status == 200, report
    [row] = report["rows"]
    assert (row["merchant"], row["category"], row["orders"]) == ("Sunrise Hall", "证照 Papers", 2)
    assert (row["paid_fen"], row["refunds_fen"], row["discounts_fen"]) == (4000, 500, 0)
    assert (row["commission_fen"], row["merchant_fen"], row["provider_fen"]) == (200, 1800, 0)
    assert report["totals"]["paid_fen"] == 4000

    owner = make_user("Owner")
    MerchantStaff.objects.create(user=owner, merchant=merchant, role=StaffRole.OWNER)
    mine = {"date_from": day, "date_to": day, "merchant_id": merchant.pk}
    assert api_for(owner).get("/api/reports/revenue", mine)[1]["totals"]["orders"] == 2
    status, content = api_for(owner).get("/api/reports/revenue.xlsx", mine)
    assert status == 200
    sheet = load_workbook(io.BytesIO(content)).active
    assert [c.value for c in sheet[2]][:5] == ["Sunrise Hall", "证照 Papers", 2, 40.0, 0.0]
    assert sheet["D2"].number_format == "#,##0.00"
    assert sheet["A3"].value == "Total 合计"

    clerk = make_user("Clerk")
    MerchantStaff.objects.create(user=clerk, merchant=merchant, role=StaffRole.CLERK)
    for who, params in (
        (clerk, mine),
        (customer, mine),
        (owner, {"date_from": day, "date_to": day}),
    ):
        status, problem = api_for(who).get("/api/reports/revenue", params)
        assert (status, problem["code"]) == (403, "forbidden"), who
    week_ago = str(today() - dt.timedelta(days=7))
    status, problem = api_for(operator).get(
        "/api/reports/revenue", {"date_from": day, "date_to": week_ago}
    )
    assert (status, problem["code"]) == (422, "invalid_input")
