"""Reconciliation of a day made through the real flows: the sandbox is paid at its checkout and
calls our notify URL over HTTP (the worker), an operator refunds part of an order, a payment that
came after its order was gone is refunded by the worker, a provider's earnings are settled and
paid out. That day reconciles clean; then the gateway's book, and our ledger, are corrupted and
each corruption shows as its own discrepancy. The nightly job, and the admin's view and actions."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from openpyxl import load_workbook

from tests.billing.test_payments import book
from tests.conftest import api_for
from yuyue.billing import ledger
from yuyue.billing.models import (
    AccountKind,
    Entry,
    Payment,
    ReconciliationRun,
    Refund,
    SandboxTransaction,
)
from yuyue.billing.reports import reconcile
from yuyue.core.timeutil import zone
from yuyue.orders.models import Booking
from yuyue.orders.services import expire_unpaid
from yuyue.scheduling.models import TimeSlot, WorkingHours

SH = ZoneInfo("Asia/Shanghai")
HERE = {"lat": 31.2304, "lng": 121.4737}


def today():
    return timezone.now().astimezone(zone(django_settings.YUYUE_DEFAULT_TIMEZONE)).date()


def work(runs=1):
    for _ in range(runs):
        call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)


def checkout(api, body) -> Payment:
    """Start a sandbox payment and pay at its checkout; the sandbox notifies when the worker
    runs."""
    status, created = api.post("/api/payments", body)
    assert status == 201, created
    assert api.post(created["params"]["checkout_url"], {})[0] == 202
    return Payment.objects.get(out_trade_no=created["out_trade_no"])


def a_day_of_business(customer, provider, operator, open_slot, onsite_service, tomorrow_local):
    me = api_for(customer)
    checkout(me, {"top_up_fen": 5000})
    hall = book(customer, open_slot)
    checkout(me, {"booking_id": hall["id"]})
    # paid after the order expired and its place was sold: the worker refunds it
    late = book(customer, open_slot)
    _, created = me.post("/api/payments", {"booking_id": late["id"]})
    Booking.objects.filter(pk=late["id"]).update(pay_before=timezone.now())
    assert expire_unpaid(booking_id=late["id"])
    TimeSlot.objects.filter(pk=open_slot.pk).update(capacity=F("booked"))
    me.post(created["params"]["checkout_url"], {})
    # an on-site visit, done, settled, released, withdrawn and paid out
    WorkingHours.objects.create(
        provider=provider, weekday=tomorrow_local.weekday(), start=dt.time(8), end=dt.time(20)
    )
    status, visit = me.post(
        "/api/provider-bookings",
        {
            "service_id": onsite_service.pk,
            "provider_id": provider.pk,
            "address": "5 Ruijin Road",
            "starts_at": dt.datetime.combine(tomorrow_local, dt.time(10), tzinfo=SH).isoformat(),
        },
    )
    assert status == 201, visit
    checkout(me, {"booking_id": visit["id"]})
    work(2)  # notifications over HTTP, then the late payment's refund
    ops = api_for(operator)
    status, body = ops.post(
        f"/api/ops/bookings/{hall['id']}/refunds",
        {"amount_fen": 700, "reason": "part"},
        headers={"Idempotency-Key": "rec-part"},
    )
    assert status == 201, body
    p = api_for(provider.user)
    for step, extra in [
        ("depart", {}),
        ("arrive", {}),
        ("start", {"code": visit["code"]}),
        ("complete", {"code": visit["code"]}),
    ]:
        assert p.post(f"/api/provider/orders/{visit['id']}/{step}", {**HERE, **extra})[0] == 200
    work(2)  # settlement, then the release of the provider's earnings
    status, w = p.post("/api/provider/withdrawals", {"amount_fen": 5000})
    assert status == 201, w
    status, paid = ops.post(f"/api/ops/withdrawals/{w['id']}/decide", {"approve": True})
    assert status == 200 and paid["status"] == "paid", paid
    return hall, late, visit


@pytest.mark.django_db(transaction=True)
def test_a_day_made_over_http_reconciles_and_each_corruption_shows(
    live_server,
    settings,
    customer,
    provider,
    operator,
    open_slot,
    onsite_service,
    tomorrow_local,
):
    settings.YUYUE_PUBLIC_BASE_URL = live_server.url
    # tomorrow's visit is worked through now (the steps' windows: test_fulfilment.py)
    settings.YUYUE_STEP_EARLY_MINUTES = {}
    settings.YUYUE_SETTLE_AFTER_HOURS = 0
    settings.YUYUE_EARNINGS_FREEZE_HOURS = 0
    hall, late, visit = a_day_of_business(
        customer, provider, operator, open_slot, onsite_service, tomorrow_local
    )
    book_lines = sorted(SandboxTransaction.objects.values_list("kind", "amount_fen"))
    # top-up, hall order, late payment, visit; the operator's and the late refund; the payout
    assert book_lines == [
        ("payment", 2000),
        ("payment", 2000),
        ("payment", 5000),
        ("payment", 12000),
        ("payout", 5000),
        ("refund", 700),
        ("refund", 2000),
    ]
    late_payment = Payment.objects.get(booking_id=late["id"])
    assert not Refund.objects.filter(payment=late_payment).exists()  # only its ledger transfer

    ops = api_for(operator)
    status, run = ops.post("/api/ops/reconciliations", {"day": str(today())})
    assert status == 200, run
    assert (run["ok"], run["matched"], run["discrepancies"]) == (True, 7, [])

    # The gateway's book loses the operator's refund and the late refund, reports the visit's
    # payment for one fen less, and knows a payment we never had; our ledger's posting of the
    # hall order's payment is edited behind the ledger's back.
    SandboxTransaction.objects.filter(kind="refund").delete()
    visit_payment = Payment.objects.get(booking_id=visit["id"])
    SandboxTransaction.objects.filter(reference=visit_payment.gateway_txn_id).update(
        amount_fen=11999
    )
    SandboxTransaction.objects.create(
        kind="payment", reference="sbt_stranger", amount_fen=42, at=timezone.now()
    )
    hall_payment = Payment.objects.get(booking_id=hall["id"])
    with transaction.atomic():  # still balanced (PostgreSQL checks that at commit)
        posting = Entry.objects.filter(transfer__key=f"payment:{hall_payment.pk}")
        posting.filter(account__kind=AccountKind.GATEWAY_CLEARING).update(amount=-1990)
        posting.filter(account__kind=AccountKind.ORDER_ESCROW).update(amount=1990)
    status, run = ops.post("/api/ops/reconciliations", {"day": str(today())})
    assert status == 200 and not run["ok"]
    found = sorted(
        (p["type"], p.get("kind", ""), p.get("out_trade_no", ""), p.get("amount_fen"))
        for p in run["discrepancies"]
    )
    clearing = ledger.account(AccountKind.GATEWAY_CLEARING)
    assert found == sorted(
        [
            ("amount_mismatch", "payment", visit_payment.out_trade_no, 11999),
            ("missing_here", "payment", "", 42),
            ("missing_at_gateway", "refund", hall_payment.out_trade_no, 700),
            ("missing_at_gateway", "refund", late_payment.out_trade_no, 2000),
            ("ledger_mismatch", "payment", hall_payment.out_trade_no, 2000),
            ("balance_drift", "", "", None),
            ("balance_drift", "", "", None),
        ]
    )
    mismatch = next(p for p in run["discrepancies"] if p["type"] == "ledger_mismatch")
    assert mismatch["ours_fen"] == 1990
    escrow = ledger.account(AccountKind.ORDER_ESCROW)
    drifts = {
        (p["account"], p["balance_fen"], p["entries_fen"])
        for p in run["discrepancies"]
        if p["type"] == "balance_drift"
    }
    assert drifts == {
        (clearing.code, clearing.balance, clearing.balance + 10),
        (escrow.code, escrow.balance, escrow.balance - 10),
    }
    assert run["matched"] == 4  # top-up, hall order, late payment, payout
    assert ReconciliationRun.objects.count() == 1  # the day's result was replaced

    status, content = ops.get(f"/api/ops/reconciliations/{today()}.xlsx")
    assert status == 200
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet.max_row == 1 + len(run["discrepancies"])
    rows = {row[0].value + ":" + str(row[3].value): row for row in sheet.iter_rows(min_row=2)}
    row = rows[f"amount_mismatch:{visit_payment.out_trade_no}"]
    assert (row[4].value, row[5].value) == (119.99, 120.0)
    assert row[4].number_format == "#,##0.00"
    assert api_for(customer).get(f"/api/ops/reconciliations/{today()}.xlsx")[0] == 403
    listed = ops.get("/api/ops/reconciliations")[1]
    assert [(r["day"], r["ok"]) for r in listed] == [(str(today()), False)]


@pytest.mark.django_db(transaction=True)
def test_the_nightly_job_reconciles_yesterday_and_comes_back_at_two(customer, operator):
    """The job run by the worker: yesterday (platform time) with the sandbox, then itself
    again at 02:00 the next night."""
    from django_tasks_db.models import DBTaskResult

    from yuyue.billing.tasks import reconcile_job

    yesterday = today() - dt.timedelta(days=1)
    noon = dt.datetime.combine(yesterday, dt.time(12), tzinfo=SH)
    SandboxTransaction.objects.create(kind="payment", reference="sbt_y", amount_fen=1, at=noon)
    reconcile_job.enqueue()
    work()
    run = ReconciliationRun.objects.get(gateway="sandbox")
    assert run.day == yesterday and not run.ok
    assert [p["type"] for p in run.discrepancies] == ["missing_here"]
    nxt = DBTaskResult.objects.filter(status="READY", task_path__endswith="reconcile_job").get()
    local = nxt.run_after.astimezone(SH)
    assert (local.date(), local.time()) == (today() + dt.timedelta(days=1), dt.time(2))


def test_operators_see_runs_in_the_admin_run_them_again_and_download_them(operator):
    """The admin lists a day's runs with their discrepancies; its actions run a day again
    (replacing the result) and download it as .xlsx."""
    from django.test import Client

    from yuyue.accounts.models import User

    User.objects.filter(pk=operator.pk).update(is_superuser=True)
    SandboxTransaction.objects.create(
        kind="payment", reference="sbt_odd", amount_fen=1234, at=timezone.now()
    )
    run = reconcile(day=today(), actor=operator)
    assert [p["type"] for p in run.discrepancies] == ["missing_here"]
    client = Client()
    client.force_login(operator)
    page = client.get(f"/admin/billing/reconciliationrun/{run.pk}/change/")
    assert page.status_code == 200 and b"sbt_odd" in page.content
    SandboxTransaction.objects.all().delete()
    url = "/admin/billing/reconciliationrun/"
    chosen = {"_selected_action": [run.pk], "index": 0}
    response = client.post(url, {**chosen, "action": "reconcile_again"}, follow=True)
    assert response.status_code == 200
    run.refresh_from_db()
    assert (run.ok, run.discrepancies) == (True, [])
    response = client.post(url, {**chosen, "action": "download_xlsx"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.max_row == 1 and sheet["A1"].value == "Type 类型"
