"""Operators decide one after-sales case at the same moment on real servers: one decision wins,
the refund is paid once; with the claim replaced by read-then-write (the control), several are
told they decided."""

from __future__ import annotations

import pytest

from tests.conftest import make_user
from tests.livesrv import Call, bearer, storm
from yuyue.accounts.tokens import issue_token
from yuyue.billing.models import Refund
from yuyue.engagement import cases
from yuyue.engagement.models import CaseEvent

from .conftest import assert_clean, outcome

CLIENTS = 12


def _storm(server, case_id: int) -> list:
    keys = []
    for i in range(CLIENTS):
        who = make_user(f"Operator {case_id}-{i}", is_operator=True)
        keys.append(issue_token(user=who, via="password")[0])
    return storm(
        server.url,
        [
            Call(
                "POST",
                f"/api/ops/cases/{case_id}/decide",
                {"refund_fen": 5000, "note": f"op {i}"},
                bearer(k),
            )
            for i, k in enumerate(keys)
        ],
    )


@pytest.mark.django_db(transaction=True)
def test_concurrent_decisions_one_wins_and_the_refund_is_paid_once(server, paid_order, customer):
    case = cases.open_case(
        actor=customer, booking_id=paid_order.pk, reason="quality", text="没做完", amount_fen=5000
    )
    replies = _storm(server, case.pk)
    print(outcome(replies))
    assert_clean(replies, server)
    assert sorted(r.status for r in replies) == [200] + [409] * (CLIENTS - 1), outcome(replies)
    assert {r.body["code"] for r in replies if r.status == 409} == {"case_decided"}
    assert [r.amount_fen for r in Refund.objects.filter(payment__booking=paid_order)] == [5000]
    assert CaseEvent.objects.filter(case=case, kind="refunded").count() == 1


@pytest.mark.django_db(transaction=True)
def test_control_read_then_write_tells_several_they_decided(unguarded_server, paid_order, customer):
    case = cases.open_case(
        actor=customer, booking_id=paid_order.pk, reason="quality", text="没做完", amount_fen=5000
    )
    replies = _storm(unguarded_server, case.pk)
    print(outcome(replies))
    assert_clean(replies, unguarded_server)
    assert sum(r.status == 200 for r in replies) > 1, outcome(replies)  # the race the guard stops
