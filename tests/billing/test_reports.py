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


@pytest.fixture(autouse=True)
def _steps_any_time(settings):
    """These orders start tomorrow and are worked through now: the windows in which each step
    may be taken are tested on their own (test_fulfilment.py, test_steps_wait_for_their_window)."""
    settings.YUYUE_STEP_EARLY_MINUTES = {}


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


@pytest.mark.django_db(transaction=True)
def test_revenue_of_a_known_set_of_orders(
    customer,
    operator,
    merchant,
    other_merchant,
    open_slot,
    provider,
    onsite_service,
    tomorrow_local,
):
    """Four orders at two merchants in two categories, each ending its own way: settled, part
    refunded (still in escrow), a no-show the provider came to (30 % kept and split with the
    provider's share, 70 % back), cancelled inside the fee window (20 % kept). Every figure
    exact."""
    from django.core.management import call_command

    from tests.billing.test_no_shows import HERE, SH
    from yuyue.billing.refunds import escrow_held, settle_no_show
    from yuyue.catalog.models import Hall, Service, ServiceKind
    from yuyue.orders.models import BookingEvent
    from yuyue.scheduling.models import TimeSlot, WorkingHours

    papers = Category.objects.create(name="证照 Papers", slug="papers")
    home = Category.objects.create(name="家政 Home", slug="home")
    open_slot.service.category = papers
    open_slot.service.save()
    onsite_service.category = home
    onsite_service.refund_rules = {"no_show_percent": 30}
    onsite_service.save()
    merchant.commission_bp, merchant.provider_share_bp = 1000, 6000
    merchant.save()
    other_merchant.commission_bp = 2000
    other_merchant.save()
    moon_service = Service.objects.create(
        merchant=other_merchant,
        name="ID photo",
        kind=ServiceKind.HALL_SLOT,
        duration_minutes=30,
        base_price_fen=3000,
        category=papers,
        cancel_policy="any_time",
        refund_rules={"free_hours": 48, "fee_percent": 20},
    )
    start = timezone.now() + dt.timedelta(days=1)
    moon_slot = TimeSlot.objects.create(
        service=moon_service,
        hall=Hall.objects.create(merchant=other_merchant, name="Moon A"),
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=30),
        capacity=5,
    )
    top_up(customer, 50_000)
    me = api_for(customer)

    def paid(order):
        assert pay_wallet(customer, order["id"], no_coupon=True)[0] == 200
        return order

    settled, part = paid(book(customer, open_slot)), paid(book(customer, open_slot))
    Booking.objects.filter(pk=settled["id"]).update(status="checked_in")
    settle_order(booking_id=settled["id"])
    refund(actor=operator, booking_id=part["id"], amount_fen=500, key="part")

    WorkingHours.objects.create(
        provider=provider, weekday=tomorrow_local.weekday(), start=dt.time(8), end=dt.time(20)
    )
    _, visit = me.post(
        "/api/provider-bookings",
        {
            "service_id": onsite_service.pk,
            "provider_id": provider.pk,
            "address": "5 Ruijin Road",
            "starts_at": dt.datetime.combine(tomorrow_local, dt.time(10), tzinfo=SH).isoformat(),
        },
    )
    paid(visit)
    p, path = api_for(provider.user), f"/api/provider/orders/{visit['id']}"
    assert p.post(f"{path}/depart", HERE)[0] == p.post(f"{path}/arrive", HERE)[0] == 200
    past = timezone.now() - dt.timedelta(minutes=20)
    Booking.objects.filter(pk=visit["id"]).update(starts_at=past)
    BookingEvent.objects.filter(booking_id=visit["id"], step="arrive").update(at=past)
    assert p.post(f"{path}/customer-absent", HERE)[0] == 200
    settle_no_show(booking_id=visit["id"])

    cancelled = paid(book(customer, moon_slot))
    assert me.post(f"/api/bookings/{cancelled['id']}/cancel", {})[0] == 200
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)

    day = str(today())
    status, report = api_for(operator).get(
        "/api/reports/revenue", {"date_from": day, "date_to": day}
    )
    assert status == 200, report
    figures = [
        (r["merchant"], r["category"], r["orders"])
        + tuple(r[k] for k in ("paid_fen", "refunds_fen", "discounts_fen"))
        + tuple(r[k] for k in ("commission_fen", "merchant_fen", "provider_fen"))
        for r in report["rows"]
    ]
    assert figures == [
        # 3000 paid, 2400 back, 600 kept: 20 % commission
        ("Moon Hall", "证照 Papers", 1, 3000, 2400, 0, 120, 480, 0),
        # 12000 paid, 8400 back, 3600 kept: 360 commission, of 3240 the provider's 60 %
        ("Sunrise Hall", "家政 Home", 1, 12000, 8400, 0, 360, 1296, 1944),
        # 2000 settled (200 + 1800), 2000 paid of which 500 back and 1500 still in escrow
        ("Sunrise Hall", "证照 Papers", 2, 4000, 500, 0, 200, 1800, 0),
    ]
    totals = report["totals"]
    assert (totals["orders"], totals["paid_fen"], totals["refunds_fen"]) == (4, 19000, 11300)
    assert (totals["commission_fen"], totals["merchant_fen"], totals["provider_fen"]) == (
        680,
        3576,
        1944,
    )
    # what came in and was neither refunded nor split is what escrow still holds
    split = totals["commission_fen"] + totals["merchant_fen"] + totals["provider_fen"]
    assert totals["paid_fen"] + totals["discounts_fen"] - totals["refunds_fen"] - split == (
        escrow_held(part["id"])
    )

    manager = make_user("Manager")
    MerchantStaff.objects.create(user=manager, merchant=merchant, role=StaffRole.MANAGER)
    mine = {"date_from": day, "date_to": day, "merchant_id": merchant.pk}
    status, own = api_for(manager).get("/api/reports/revenue", mine)
    assert status == 200 and [r["category"] for r in own["rows"]] == ["家政 Home", "证照 Papers"]
    assert own["totals"]["paid_fen"] == 16000
    theirs = {**mine, "merchant_id": other_merchant.pk}
    for path in ("/api/reports/revenue", "/api/reports/revenue.xlsx"):
        status, problem = api_for(manager).get(path, theirs)
        assert (status, problem["code"]) == (403, "forbidden")
        status, problem = api_for(customer).get(path, mine)
        assert (status, problem["code"]) == (403, "forbidden")

    status, content = api_for(operator).get(
        "/api/reports/revenue.xlsx", {"date_from": day, "date_to": day}
    )
    assert status == 200
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet.max_column == 9
    assert [c.value for c in sheet[1]][:4] == [
        "Merchant 商家",
        "Category 类目",
        "Orders 订单数",
        "Paid in 收款",
    ]
    assert [c.value for c in sheet[3]] == [
        "Sunrise Hall",
        "家政 Home",
        1,
        120.0,
        0.0,
        84.0,
        3.6,
        12.96,
        19.44,
    ]
    assert [c.value for c in sheet[5]][:4] == ["Total 合计", None, 4, 190.0]
    assert all(c.number_format == "#,##0.00" for c in sheet[5][3:])
