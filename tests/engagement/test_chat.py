"""Chat: who may talk in an order's conversation and when, phone numbers masked, one message per
key, unread counts from the receipts, reads seen by the other side, a support desk that reads
as one, pictures, order cards, history pages; and the API over it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from tests.dispatch.test_round_scale import open_order
from tests.engagement.test_reviews import finished, picture
from yuyue.accounts.tokens import issue_token
from yuyue.core.errors import DomainError
from yuyue.engagement import chat
from yuyue.engagement.models import Message, Receipt
from yuyue.orders.models import Booking, BookingStatus


def code_of(fn, *args, **kwargs) -> str:
    with pytest.raises(DomainError) as err:
        fn(*args, **kwargs)
    return err.value.code


@pytest.fixture
def accepted(customer, onsite_service, provider):
    return finished(customer, onsite_service, provider, status=BookingStatus.ACCEPTED, days_ago=-1)


def test_an_order_chat_is_its_customer_and_provider_from_acceptance(
    customer, other_customer, onsite_service, provider, accepted
):
    waiting = open_order(customer, onsite_service, timezone.now() + dt.timedelta(days=1))
    assert code_of(chat.open_order_chat, actor=customer, booking_id=waiting.pk) == (
        "chat_unavailable"
    )
    assert code_of(chat.open_order_chat, actor=other_customer, booking_id=accepted.pk) == (
        "not_found"
    )
    mine = chat.open_order_chat(actor=customer, booking_id=accepted.pk)
    theirs = chat.open_order_chat(actor=provider.user, booking_id=accepted.pk)
    assert mine.pk == theirs.pk  # one conversation per order
    assert code_of(chat.send_message, actor=other_customer, conversation_id=mine.pk, text="hi") == (
        "not_found"
    )
    assert code_of(chat.history, actor=other_customer, conversation_id=mine.pk) == "not_found"


def test_a_finished_order_can_be_talked_about_for_some_days_then_not(
    customer, onsite_service, provider, settings
):
    settings.YUYUE_CHAT_DAYS_AFTER = 7
    recent = finished(customer, onsite_service, provider, days_ago=6)
    old = finished(customer, onsite_service, provider, days_ago=8)
    cancelled = finished(customer, onsite_service, provider, status=BookingStatus.CANCELLED)
    talk = chat.open_order_chat(actor=customer, booking_id=recent.pk)
    chat.send_message(actor=customer, conversation_id=talk.pk, text="谢谢师傅", key="k1")
    assert code_of(chat.open_order_chat, actor=customer, booking_id=old.pk) == "chat_closed"
    assert code_of(chat.open_order_chat, actor=customer, booking_id=cancelled.pk) == "chat_closed"
    Booking.objects.filter(pk=recent.pk).update(ends_at=old.ends_at)
    assert code_of(chat.send_message, actor=customer, conversation_id=talk.pk, text="again") == (
        "chat_closed"
    )
    _c, _s, lines, _more = chat.history(actor=customer, conversation_id=talk.pk)
    assert [x.message.text for x in lines] == ["谢谢师傅"]  # the history stays readable
    assert not chat.can_write(talk)


@pytest.mark.parametrize(
    ("said", "stored"),
    [
        ("call me 13812345678", "call me 138****5678"),
        ("+86 138 1234 5678 ok", "138****5678 ok"),
        ("138-1234-5678", "138****5678"),
        ("座机 021-62345678", "座机 021-****5678"),
        ("order 202612070001 ok", "order 202612070001 ok"),  # not a phone: longer than one
        ("12345678901", "12345678901"),  # no mobile number starts 12
    ],
)
def test_phone_numbers_are_masked_before_they_are_stored(
    said, stored, customer, provider, accepted
):
    talk = chat.open_order_chat(actor=customer, booking_id=accepted.pk)
    message, _ = chat.send_message(actor=customer, conversation_id=talk.pk, text=said)
    assert Message.objects.get(pk=message.pk).text == stored


def test_a_retried_send_is_one_message(customer, provider, accepted):
    talk = chat.open_order_chat(actor=customer, booking_id=accepted.pk)
    first, new = chat.send_message(actor=customer, conversation_id=talk.pk, text="到了吗", key="a1")
    again, new_again = chat.send_message(
        actor=customer, conversation_id=talk.pk, text="到了吗", key="a1"
    )
    assert (new, new_again, again.pk) == (True, False, first.pk)
    assert Message.objects.count() == 1 and Receipt.objects.count() == 1
    assert chat.unread_count(provider.user_id) == 1
    other = chat.open_support(actor=customer)
    assert code_of(chat.send_message, actor=customer, conversation_id=other.pk, key="a1", text="x")
    assert Message.objects.count() == 1


def test_bad_sends_are_refused_and_change_nothing(customer, provider, accepted, other_customer):
    talk = chat.open_order_chat(actor=customer, booking_id=accepted.pk)
    assert code_of(chat.send_message, actor=customer, conversation_id=talk.pk, text="  ") == (
        "message_empty"
    )
    assert code_of(
        chat.send_message, actor=customer, conversation_id=talk.pk, text="长" * 2001
    ) == ("message_too_long")
    assert code_of(
        chat.send_message, actor=customer, conversation_id=talk.pk, image=b"not a picture"
    ) == ("invalid_image")
    theirs = finished(other_customer, accepted.service, provider)
    assert code_of(
        chat.send_message, actor=customer, conversation_id=talk.pk, booking_id=theirs.pk
    ) == ("not_found")  # a card of another's order
    assert Message.objects.count() == 0 and Receipt.objects.count() == 0


def test_unread_reads_and_the_read_mark_the_sender_sees(customer, provider, accepted):
    talk = chat.open_order_chat(actor=customer, booking_id=accepted.pk)
    ids = [
        chat.send_message(actor=customer, conversation_id=talk.pk, text=f"m{i}")[0].pk
        for i in range(3)
    ]
    chat.send_message(actor=provider.user, conversation_id=talk.pk, text="好的")
    assert (chat.unread_count(provider.user_id), chat.unread_count(customer.pk)) == (3, 1)
    [row] = chat.my_conversations(actor=provider.user)
    assert (row["conversation"].pk, row["unread"]) == (talk.pk, 3)
    assert chat.mark_read(actor=provider.user, conversation_id=talk.pk, up_to=ids[1]) == 2
    _c, side, lines, _ = chat.history(actor=customer, conversation_id=talk.pk)
    assert side == "customer"
    assert [(x.message.text, x.mine, x.read) for x in lines] == [
        ("m0", True, True),
        ("m1", True, True),
        ("m2", True, False),
        ("好的", False, False),
    ]
    assert chat.mark_read(actor=provider.user, conversation_id=talk.pk) == 1
    assert chat.mark_read(actor=provider.user, conversation_id=talk.pk) == 0  # nothing left
    assert chat.unread_count(provider.user_id) == 0


def test_the_support_desk_reads_as_one(customer, merchant, owner, clerk, operator):
    talk = chat.open_support(actor=customer, merchant_id=merchant.pk)
    assert chat.open_support(actor=customer, merchant_id=merchant.pk).pk == talk.pk
    chat.send_message(actor=customer, conversation_id=talk.pk, text="营业到几点？")
    assert chat.unread_count(owner.pk) == chat.unread_count(clerk.pk) == 1
    assert code_of(chat.support_queue, actor=operator, merchant_id=merchant.pk) == "forbidden"
    [row] = chat.support_queue(actor=clerk, merchant_id=merchant.pk)
    assert row["unread"] == 1
    chat.mark_read(actor=clerk, conversation_id=talk.pk)
    assert chat.unread_count(owner.pk) == 0  # the desk has read it
    reply, _ = chat.send_message(actor=owner, conversation_id=talk.pk, text="晚上九点")
    assert reply.side == "support" and chat.unread_count(customer.pk) == 1
    _c, _s, lines, _ = chat.history(actor=customer, conversation_id=talk.pk)
    assert [(x.mine, x.read) for x in lines] == [(True, True), (False, False)]
    platform = chat.open_support(actor=customer)
    chat.send_message(actor=customer, conversation_id=platform.pk, text="退款没到账")
    assert chat.unread_count(operator.pk) == 1 and chat.unread_count(owner.pk) == 0
    assert [r["conversation"].pk for r in chat.support_queue(actor=operator)] == [platform.pk]


def test_pictures_and_order_cards(customer, provider, accepted, onsite_service):
    talk = chat.open_order_chat(actor=customer, booking_id=accepted.pk)
    shot, _ = chat.send_message(actor=customer, conversation_id=talk.pk, image=picture())
    assert shot.kind == "image" and shot.image.name.endswith(".jpg")
    card, _ = chat.send_message(actor=customer, conversation_id=talk.pk, booking_id=accepted.pk)
    assert card.kind == "order" and card.booking_id == accepted.pk
    talk.refresh_from_db()
    assert (talk.last_kind, talk.last_text) == ("order", "")


def test_history_comes_in_pages(customer, provider, accepted, settings):
    talk = chat.open_order_chat(actor=customer, booking_id=accepted.pk)
    for i in range(7):
        chat.send_message(actor=customer, conversation_id=talk.pk, text=f"m{i}")
    _c, _s, newest, more = chat.history(actor=customer, conversation_id=talk.pk, limit=3)
    assert ([x.message.text for x in newest], more) == (["m4", "m5", "m6"], True)
    before = newest[0].message.pk
    _c, _s, older, more = chat.history(
        actor=customer, conversation_id=talk.pk, limit=5, before=before
    )
    assert ([x.message.text for x in older], more) == (["m0", "m1", "m2", "m3"], False)


def test_the_api_sends_once_per_key_and_counts_unread(customer, provider, accepted, other_customer):
    api = Client()
    mine = {"HTTP_AUTHORIZATION": f"Bearer {issue_token(user=customer, via='password')[0]}"}
    theirs = {"HTTP_AUTHORIZATION": f"Bearer {issue_token(user=provider.user, via='password')[0]}"}
    opened = api.post(f"/api/bookings/{accepted.pk}/chat", **mine)
    assert opened.status_code == 200, opened.content
    talk = opened.json()["id"]
    body = {"text": "电话 13912345678", "key": "k-77"}
    first = api.post(
        f"/api/conversations/{talk}/messages", body, content_type="application/json", **mine
    )
    again = api.post(
        f"/api/conversations/{talk}/messages", body, content_type="application/json", **mine
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"] and first.json()["text"] == "电话 139****5678"
    assert api.get("/api/conversations/unread", **theirs).json() == {"unread": 1}
    page = api.get(f"/api/conversations/{talk}/messages", **theirs).json()
    assert [(m["mine"], m["side"]) for m in page["messages"]] == [(False, "customer")]
    read = api.post(
        f"/api/conversations/{talk}/read",
        {"up_to": None},
        content_type="application/json",
        **theirs,
    )
    assert read.json() == {"marked": 1}
    assert api.get(f"/api/conversations/{talk}/messages", **mine).json()["messages"][0]["read"]
    empty = api.post(
        f"/api/conversations/{talk}/messages",
        {"text": "", "key": "k-78"},
        content_type="application/json",
        **mine,
    )
    assert (empty.status_code, empty.json()["code"]) == (422, "message_empty")
    pic = api.post(
        f"/api/conversations/{talk}/pictures",
        {"key": "k-79", "file": _upload()},
        **mine,
    )
    assert pic.status_code == 201, pic.content
    assert api.get(pic.json()["image_url"]).status_code == 302  # to sign in first
    members = Client()
    members.force_login(provider.user)
    shown = members.get(pic.json()["image_url"])
    assert (shown.status_code, shown["Content-Type"]) == (200, "image/jpeg")
    stranger = Client()
    stranger.force_login(other_customer)
    assert stranger.get(pic.json()["image_url"]).status_code == 404


def _upload():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("p.png", picture(), content_type="image/png")


def test_a_conversation_moves_with_its_order_to_another_provider(
    customer, accepted, onsite_service, merchant
):
    from tests.dispatch.test_round_scale import hire

    talk = chat.open_order_chat(actor=customer, booking_id=accepted.pk)
    other = hire(merchant, onsite_service, "Zhang")
    Booking.objects.filter(pk=accepted.pk).update(provider=other)
    assert chat.open_order_chat(actor=other.user, booking_id=accepted.pk).pk == talk.pk
    chat.send_message(actor=customer, conversation_id=talk.pk, text="换人了？")
    assert chat.unread_count(other.user_id) == 1


def test_the_unread_count_is_kept_with_the_receipts(customer, provider, accepted):
    talk = chat.open_order_chat(actor=customer, booking_id=accepted.pk)
    ids = [
        chat.send_message(actor=customer, conversation_id=talk.pk, text=f"m{i}")[0].pk
        for i in range(40)
    ]
    assert chat.unread_count(provider.user_id) == 40
    assert chat.mark_read(actor=provider.user, conversation_id=talk.pk, up_to=ids[14]) == 15
    chat.send_message(actor=customer, conversation_id=talk.pk, text="one more")
    unread = Receipt.objects.filter(user_id=provider.user_id, read_at__isnull=True).count()
    assert chat.unread_count(provider.user_id) == unread == 26
    assert chat.mark_read(actor=provider.user, conversation_id=talk.pk) == 26
    assert chat.unread_count(provider.user_id) == 0 and chat.unread_count(customer.pk) == 0


@pytest.mark.django_db(transaction=True)
def test_the_socket_sends_once_per_key_and_tells_both_sides(customer, provider, accepted):
    """Over `ws/chat/<id>/`: a stranger is closed with 4403; a send is acknowledged with the
    stored message, delivered to the other side's socket; a resend with the key after a dropped
    connection is the same message; a read reaches the sender."""
    import asyncio

    from channels.db import database_sync_to_async
    from channels.testing.websocket import WebsocketCommunicator

    from tests.conftest import make_user
    from yuyue.asgi import application

    talk = chat.open_order_chat(actor=customer, booking_id=accepted.pk)
    keys = {
        who: issue_token(user=user, via="password")[0]
        for who, user in (
            ("customer", customer),
            ("provider", provider.user),
            ("stranger", make_user("Stranger")),
        )
    }

    def socket(who):
        return WebsocketCommunicator(
            application,
            f"/ws/chat/{talk.pk}/?token={keys[who]}",
            headers=[(b"host", b"127.0.0.1"), (b"origin", b"http://127.0.0.1")],
        )

    async def scenario():
        stranger = socket("stranger")
        assert await stranger.connect(timeout=10) == (True, None)
        assert (await stranger.receive_output(timeout=5))["type"] == "websocket.close"
        me, pro = socket("customer"), socket("provider")
        for s in (me, pro):
            assert (await s.connect(timeout=10))[0]
            assert (await s.receive_json_from(timeout=5))["type"] == "ready"
        await me.send_json_to({"type": "send", "key": "w-1", "text": "call 13912345678"})
        replies = [await me.receive_json_from(timeout=5) for _ in range(2)]
        sent = next(r for r in replies if r["type"] == "sent")
        assert sent["text"] == "call 139****5678" and sent["key"] == "w-1"
        heard = await pro.receive_json_from(timeout=5)
        assert (heard["type"], heard["id"], heard["side"]) == ("message", sent["id"], "customer")
        await me.disconnect()
        again = socket("customer")
        await again.connect(timeout=10)
        await again.receive_json_from(timeout=5)
        await again.send_json_to({"type": "send", "key": "w-1", "text": "call 13912345678"})
        resent = await again.receive_json_from(timeout=5)
        assert (resent["type"], resent["id"]) == ("sent", sent["id"])  # nothing new
        assert await pro.receive_nothing(timeout=0.3)
        await pro.send_json_to({"type": "read", "up_to": sent["id"]})
        read = await again.receive_json_from(timeout=5)
        assert read == {"type": "read", "side": "provider", "up_to": sent["id"]}
        await again.send_json_to({"type": "send", "key": "w-2", "text": ""})
        refused = await again.receive_json_from(timeout=5)
        assert (refused["type"], refused["code"]) == ("refused", "message_empty")
        for s in (again, pro):
            await s.disconnect()
        return await database_sync_to_async(Message.objects.count)()

    assert asyncio.run(scenario()) == 1
    assert chat.unread_count(provider.user_id) == 0
