"""Chat under simultaneous clients on real servers: one key sent many times at once is one
message (the control, with the unique (sender, key) constraint dropped, stores several); many
sends and reads at once leave every message with one receipt and counts that add up."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.engagement.test_reviews import finished
from tests.livesrv import Call, bearer, storm
from yuyue.accounts.tokens import issue_token
from yuyue.engagement import chat
from yuyue.engagement.models import Message, Receipt
from yuyue.orders.models import BookingStatus

from .conftest import assert_clean, outcome

RETRIES = 20


@pytest.fixture
def talk(customer, onsite_service, provider):
    order = finished(customer, onsite_service, provider, status=BookingStatus.ACCEPTED, days_ago=-1)
    return chat.open_order_chat(actor=customer, booking_id=order.pk)


def _retries(server, customer, talk) -> list:
    key = issue_token(user=customer, via="password")[0]
    body = {"text": "到了吗？", "key": "same-key-1"}
    call = Call("POST", f"/api/conversations/{talk.pk}/messages", body, bearer(key))
    return storm(server.url, [call] * RETRIES)


@pytest.mark.django_db(transaction=True)
def test_a_send_retried_at_once_is_one_message(server, customer, provider, talk):
    replies = _retries(server, customer, talk)
    print(outcome(replies))
    assert_clean(replies, server)
    assert sorted(r.status for r in replies) == [200] * (RETRIES - 1) + [201], outcome(replies)
    assert len({r.body["id"] for r in replies}) == 1
    assert Message.objects.count() == 1 and Receipt.objects.count() == 1
    assert chat.unread_count(provider.user_id) == 1


@pytest.mark.django_db(transaction=True)
def test_control_without_the_unique_key_a_retry_is_stored_several_times(
    unguarded_server, customer, talk
):
    guard = next(c for c in Message._meta.constraints if c.name == "chat_send_once")
    kept = Message._meta.constraints
    Message._meta.constraints = [c for c in kept if c is not guard]  # SQLite remakes the table
    try:  # from the model's constraints: without this one
        with connection.schema_editor() as editor:
            editor.remove_constraint(Message, guard)
    finally:
        Message._meta.constraints = kept
    try:
        replies = _retries(unguarded_server, customer, talk)
        print(outcome(replies))
        assert Message.objects.filter(client_key="same-key-1").count() > 1, outcome(replies)
    finally:
        Message.objects.all().delete()
        with connection.schema_editor() as editor:
            editor.add_constraint(Message, guard)


@pytest.mark.django_db(transaction=True)
def test_sends_and_reads_at_once_add_up(server, customer, provider, talk):
    keys = {
        "customer": issue_token(user=customer, via="password")[0],
        "provider": issue_token(user=provider.user, via="password")[0],
    }
    calls = []
    for i in range(12):
        for who in ("customer", "provider"):
            body = {"text": f"{who} {i}", "key": f"{who}-{i}"}
            calls.append(
                Call("POST", f"/api/conversations/{talk.pk}/messages", body, bearer(keys[who]))
            )
    for _ in range(8):
        for who in ("customer", "provider"):
            calls.append(
                Call(
                    "POST", f"/api/conversations/{talk.pk}/read", {"up_to": None}, bearer(keys[who])
                )
            )
    replies = storm(server.url, calls)
    print(outcome(replies))
    assert_clean(replies, server)
    assert all(r.status in (200, 201) for r in replies), outcome(replies)
    assert Message.objects.count() == 24
    assert Receipt.objects.count() == 24  # one per message, to the other side
    for who, user_id in (("customer", customer.pk), ("provider", provider.user_id)):
        reads = [r for r, c in zip(replies, calls, strict=True) if c.path.endswith("/read")]
        marked = sum(
            r.body["marked"]
            for r, c in zip(replies, calls, strict=True)
            if c.path.endswith("/read") and c.headers["Authorization"].endswith(keys[who])
        )
        read_now = Receipt.objects.filter(user_id=user_id, read_at__isnull=False).count()
        assert marked == read_now, (who, marked, read_now)  # no receipt counted twice
        assert chat.unread_count(user_id) == 12 - read_now
        assert reads
    rows = {r["conversation"].pk: r["unread"] for r in chat.my_conversations(actor=provider.user)}
    assert rows == {talk.pk: chat.unread_count(provider.user_id)}
