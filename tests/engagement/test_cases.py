"""After-sales cases: opened only by the customer of a finished, paid, unsettled order, one open
at a time; settlement waits while a case is open and happens when it closes; the merchant
answers once; the platform refunds part (through the refund path, keyed by the case) or closes;
a refund against a provider goes on their record; deadlines missed go to the operators."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.conftest import api_for
from tests.engagement.test_reviews import finished
from yuyue.billing.models import Refund, SettlementHold, Transfer
from yuyue.billing.settlement import settle_order
from yuyue.core.errors import DomainError
from yuyue.dispatch.models import Breach
from yuyue.engagement import cases
from yuyue.engagement.models import Case, CaseEvent, CaseStatus
from yuyue.notifications.models import Notice

pytestmark = pytest.mark.django_db


def test_a_case_holds_settlement_until_it_closes(paid_order, customer, operator, owner):
    case = cases.open_case(
        actor=customer, booking_id=paid_order.pk, reason="quality", text="窗户没擦", amount_fen=6000
    )
    assert settle_order(booking_id=paid_order.pk) is None  # held
    assert not Transfer.objects.filter(key=f"order:{paid_order.pk}:settled").exists()
    with pytest.raises(DomainError) as err:
        cases.open_case(
            actor=customer, booking_id=paid_order.pk, reason="other", text="again", amount_fen=1
        )
    assert err.value.code == "case_open"
    cases.answer_case(actor=owner, case_id=case.pk, text="我们派人回访")
    with pytest.raises(DomainError) as err:
        cases.answer_case(actor=owner, case_id=case.pk, text="twice")
    assert err.value.code == "case_decided"
    cases.decide_case(actor=operator, case_id=case.pk, refund_fen=0, note="已回访补擦，不退款")
    assert SettlementHold.objects.get().released_at is not None
    assert settle_order(booking_id=paid_order.pk) is not None  # settled now
    assert [e.kind for e in CaseEvent.objects.filter(case=case)] == ["opened", "answered", "closed"]
    assert Notice.objects.filter(user=customer, kind="case.closed").exists()


def test_the_platform_refunds_half_once_and_the_provider_is_on_record(
    paid_order, customer, operator, provider
):
    case = cases.open_case(
        actor=customer, booking_id=paid_order.pk, reason="damage", text="花瓶碎了", amount_fen=12000
    )
    decided = cases.decide_case(actor=operator, case_id=case.pk, refund_fen=6000, note="退一半")
    assert (decided.status, decided.refund_fen) == (CaseStatus.REFUNDED, 6000)
    assert [r.amount_fen for r in Refund.objects.filter(key=f"case:{case.pk}")] == [6000]
    with pytest.raises(DomainError) as err:
        cases.decide_case(actor=operator, case_id=case.pk, refund_fen=6000, note="again")
    assert err.value.code == "case_decided"
    assert Refund.objects.count() == 1
    breach = Breach.objects.get(provider=provider)
    assert breach.kind == "complaint"
    settled = settle_order(booking_id=paid_order.pk)
    assert (
        settled is not None and sum(e.amount for e in settled.entries.all() if e.amount > 0) == 6000
    )


def test_who_may_open_and_what(paid_order, other_customer, customer, onsite_service, provider):
    with pytest.raises(DomainError) as err:
        cases.open_case(
            actor=other_customer, booking_id=paid_order.pk, reason="quality", text="x", amount_fen=1
        )
    assert err.value.code == "not_found"
    for amount in (0, 12001, True):
        with pytest.raises(DomainError) as err:
            cases.open_case(
                actor=customer,
                booking_id=paid_order.pk,
                reason="quality",
                text="x",
                amount_fen=amount,
            )
        assert err.value.code == "invalid_amount"
    unpaid = finished(customer, onsite_service, provider)
    with pytest.raises(DomainError) as err:
        cases.open_case(
            actor=customer, booking_id=unpaid.pk, reason="quality", text="x", amount_fen=1
        )
    assert err.value.code == "not_caseable"
    settle_order(booking_id=paid_order.pk)  # the complaint window is over: settled
    with pytest.raises(DomainError) as err:
        cases.open_case(
            actor=customer, booking_id=paid_order.pk, reason="quality", text="x", amount_fen=1
        )
    assert err.value.code == "order_settled"
    assert not Case.objects.exists()


def test_a_missed_deadline_goes_to_the_operators_once(paid_order, customer, operator):
    case = cases.open_case(
        actor=customer, booking_id=paid_order.pk, reason="conduct", text="态度差", amount_fen=1000
    )
    assert cases.escalate_overdue() == 0
    later = timezone.now() + dt.timedelta(hours=49)
    assert cases.escalate_overdue(now=later) == 1
    assert cases.escalate_overdue(now=later) == 0
    case.refresh_from_db()
    assert case.escalated_at is not None
    assert Notice.objects.filter(user=operator, kind="case.escalated").count() == 1


def test_the_api_opens_reads_and_decides(
    paid_order, customer, operator, owner, other_customer, merchant
):
    status, body = api_for(customer).post(
        f"/api/bookings/{paid_order.pk}/cases",
        {"reason": "quality", "text": "地板没拖", "amount_fen": 3000},
    )
    assert status == 201, body
    case_id = body["id"]
    assert api_for(other_customer).get(f"/api/cases/{case_id}")[0] == 404
    status, body = api_for(owner).post(
        f"/api/merchants/{merchant.pk}/cases/{case_id}/answer", {"text": "已联系客户"}
    )
    assert (status, body["status"]) == (200, "answered")
    assert (
        api_for(owner).post(f"/api/ops/cases/{case_id}/decide", {"refund_fen": 1, "note": "x"})[0]
        == 403
    )
    status, body = api_for(operator).post(
        f"/api/ops/cases/{case_id}/decide", {"refund_fen": 3000, "note": "退 30 元"}
    )
    assert (status, body["status"], body["refund_fen"]) == (200, "refunded", 3000)
    assert [e["kind"] for e in body["events"]] == ["opened", "answered", "refunded"]
