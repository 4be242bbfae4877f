"""The call over HTTP and the websocket: who may join and read, hanging up, refunds, reminders,
cancellations by the tiered rules."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from channels.testing.websocket import WebsocketCommunicator
from django.utils import timezone

from tests.calls.conftest import move_to_now
from tests.conftest import api_for
from yuyue.accounts.tokens import issue_token
from yuyue.asgi import application
from yuyue.billing.payments import wallet
from yuyue.calls import services as calls
from yuyue.calls.media import ice_servers
from yuyue.calls.models import CallSession
from yuyue.notifications.models import Notice
from yuyue.orders.models import BookingStatus

S = dt.timedelta(seconds=1)


# A socket's handshake reads the database (the token, the order): on a busy CI machine the
# first one in a process takes longer than the communicator's default second.
CONNECT_SECONDS = 10


def side_keys(booking) -> list[str]:
    """Bearer keys of the customer and the consultant (made before any event loop runs)."""
    return [
        issue_token(user=who, via="password")[0]
        for who in (booking.customer, booking.provider.user)
    ]


async def both_sides(booking, keys: list[str]) -> list[WebsocketCommunicator]:
    """The customer's and the consultant's sockets in the call's room, connected."""
    sockets = [
        WebsocketCommunicator(
            application,
            f"/ws/calls/{booking.pk}/?token={key}",
            headers=[(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")],
        )
        for key in keys
    ]
    for s in sockets:
        assert (await s.connect(timeout=CONNECT_SECONDS))[0]
    return sockets


def talked(booking, seconds=61):
    t0 = booking.starts_at
    calls.join(actor=booking.customer, booking_id=booking.pk, now=t0)
    calls.join(actor=booking.provider.user, booking_id=booking.pk, now=t0)
    for who in (booking.customer, booking.provider.user):  # their audio connects
        calls.heartbeat(actor=who, booking_id=booking.pk, now=t0, media="connected")
    for t in range(5, seconds, 5):
        calls.heartbeat(actor=booking.customer, booking_id=booking.pk, now=t0 + t * S)
        calls.heartbeat(actor=booking.provider.user, booking_id=booking.pk, now=t0 + t * S)
    return calls.hangup(actor=booking.customer, booking_id=booking.pk, now=t0 + seconds * S)


@pytest.mark.django_db
def test_record_for_both_sides_and_operators_not_strangers(book_call, other_customer, operator):
    booking = book_call(funds=10_000)
    talked(booking)
    for who in (booking.customer, booking.provider.user, operator):
        status, body = api_for(who).get(f"/api/calls/{booking.pk}")
        assert status == 200, body
        assert (body["metered_seconds"], body["charged_fen"], body["billing"]) == (
            61,
            122,
            "per_second",
        )
        kinds = [(e["party"], e["kind"]) for e in body["events"]]
        assert kinds[:2] == [("customer", "join"), ("consultant", "join")]
        assert ("customer", "media") in kinds and ("consultant", "media") in kinds
        assert ("system", "live") in kinds and ("system", "ended") in kinds
    status, body = api_for(other_customer).get(f"/api/calls/{booking.pk}")
    assert (status, body["code"]) == (404, "not_found")
    status, body = api_for(other_customer).post(f"/api/calls/{booking.pk}/hangup")
    assert (status, body["code"]) == (404, "not_found")


@pytest.mark.django_db
def test_operator_refunds_part_of_a_call_once(book_call, operator, customer):
    booking = book_call(funds=10_000)
    talked(booking)
    before = wallet(customer.pk).balance
    ops = api_for(operator)
    path = f"/api/ops/calls/{booking.pk}/refund"
    body = {"amount_fen": 100, "reason": "line was bad"}
    for _ in range(2):  # a retry with the same key
        status, out = ops.post(path, body, headers={"Idempotency-Key": "r1"})
        assert status == 200, out
        assert out["refunded_fen"] == 100
    assert wallet(customer.pk).balance == before + 100
    status, out = ops.post(path, {**body, "amount_fen": 22}, headers={"Idempotency-Key": "r2"})
    assert (status, out.get("refunded_fen")) == (200, 122), out
    status, out = ops.post(path, {**body, "amount_fen": 1}, headers={"Idempotency-Key": "r3"})
    assert (status, out["code"]) == (409, "refund_exceeds_payment")
    status, out = ops.post(path, {**body, "amount_fen": -5}, headers={"Idempotency-Key": "r4"})
    assert (status, out["code"]) == (422, "invalid_amount")
    status, out = api_for(customer).post(path, body, headers={"Idempotency-Key": "r5"})
    assert (status, out["code"]) == (403, "forbidden")
    assert wallet(customer.pk).balance == before + 122
    assert CallSession.objects.get(booking=booking).refunded_fen == 122


@pytest.mark.django_db
def test_booking_a_call_over_the_api(customer, consultant, call_service):
    from tests.calls.conftest import next_start, top_up

    top_up(customer, 5_000)
    api = api_for(customer)
    # a call has no place: its consultants' free times are found without a point
    day = next_start(3).astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    status, found = api.get(
        f"/api/services/{call_service.pk}/provider-availability", {"date": day.isoformat()}
    )
    assert status == 200, found
    [free] = found
    assert (free["provider_id"], free["distance_km"]) == (consultant.pk, None)
    offered = {dt.datetime.fromisoformat(s) for s in free["starts"]}
    assert next_start(3) in offered  # the time booked below is among them
    body = {
        "service_id": call_service.pk,
        "provider_id": consultant.pk,
        "starts_at": next_start(3).isoformat(),
        "minutes": 30,
    }
    status, out = api.post("/api/provider-bookings", body)
    assert status == 201, out
    assert (out["status"], out["payment_status"], out["price_fen"]) == ("accepted", "metered", 3600)
    status, out = api.post("/api/provider-bookings", {**body, "minutes": 7})
    assert (status, out["code"]) == (422, "invalid_call_length")
    status, out = api.post("/api/provider-bookings", {**body, "minutes": "30"})
    assert status == 422


@pytest.mark.django_db
def test_late_cancellation_costs_the_tiered_fee_early_is_free(book_call, customer, call_service):
    booking = book_call(funds=10_000)  # starts in 2 h; free only until 24 h before: 50 % fee
    status, out = api_for(customer).post(f"/api/bookings/{booking.pk}/cancel", {})
    assert status == 200, out
    assert wallet(customer.pk).balance == 10_000 - 900  # half of 15 min x 120 fen
    call = CallSession.objects.get(booking=booking)
    assert (call.status, call.end_reason, call.charged_fen) == ("missed", "cancelled", 900)

    call_service.refund_rules = {"free_hours": 1, "fee_percent": 50}
    call_service.save()
    early = book_call(funds=0, hours=5)
    api_for(customer).post(f"/api/bookings/{early.pk}/cancel", {})
    assert wallet(customer.pk).balance == 10_000 - 900
    early.refresh_from_db()
    assert early.status == BookingStatus.CANCELLED


@pytest.mark.django_db(transaction=True)
def test_reminders_at_each_time_in_app_and_by_sms(book_call, customer, settings):
    from django.core.management import call_command

    settings.YUYUE_SMS_SENDER = "tests.calls.test_call_api.KeptSms"
    booking = book_call(funds=10_000, rules={"reminders": [15, 0]})
    from yuyue.orders.services import send_due_reminders

    booking.refresh_from_db()
    assert booking.remind_at == booking.starts_at - dt.timedelta(minutes=15)
    assert send_due_reminders(now=booking.remind_at) == {"sent": 1, "dropped": 0}
    booking.refresh_from_db()
    assert booking.remind_at == booking.starts_at  # the next one: at the start
    # the worker's sweep sends it when it is due (here: made due now)
    type(booking).objects.filter(pk=booking.pk).update(remind_at=timezone.now())
    from yuyue.orders.tasks import send_reminders_job

    send_reminders_job.enqueue(reschedule=False)
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    for user in (customer, booking.provider.user):
        minutes = sorted(
            n.payload["minutes_before"]
            for n in Notice.objects.filter(user=user, kind="booking.reminder")
        )
        assert minutes == [0, 15]
    from yuyue.notifications.delivery import send_due

    KeptSms.sent = []
    assert send_due() == {"sent": 4}  # the sending job: each text once
    assert send_due() == {}
    status, seen = api_for(customer).get("/api/me/notices", {"unread": True})
    assert status == 200 and [n["kind"] for n in seen] == ["booking.reminder"] * 2
    status, read = api_for(customer).post(f"/api/me/notices/{seen[0]['id']}/read")
    assert status == 200 and read["read_at"]
    assert len(api_for(customer).get("/api/me/notices", {"unread": True})[1]) == 1
    other = api_for(booking.provider.user).post(f"/api/me/notices/{seen[1]['id']}/read")
    assert other[0] == 404
    texts = sorted(text for _, text in KeptSms.sent)
    assert len(texts) == 4 and any("15 分钟后" in t for t in texts)
    assert any("现在" in t for t in texts)


class KeptSms:
    """An SMS provider that keeps what it was asked to send (the outside world, not our code)."""

    sent: list[tuple[str, str]] = []

    def send(self, phone: str, text: str, *, kind=None, payload=None) -> None:
        KeptSms.sent.append((phone, text))


WAIT = 5  # seconds a socket may take to answer on a busy machine (the default is 1)


@pytest.mark.django_db(transaction=True)
def test_websocket_room_is_for_the_two_sides_only(book_call, other_customer):
    booking = move_to_now(book_call(funds=10_000))  # starts in a minute: the room is open
    keys = {
        "customer": issue_token(user=booking.customer, via="password")[0],
        "consultant": issue_token(user=booking.provider.user, via="password")[0],
        "stranger": issue_token(user=other_customer, via="password")[0],
    }

    async def scenario():
        def socket(who):
            return WebsocketCommunicator(
                application,
                f"/ws/calls/{booking.pk}/?token={keys[who]}",
                headers=[(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")],
            )

        stranger = socket("stranger")
        await stranger.connect(timeout=CONNECT_SECONDS)
        assert await stranger.receive_output(timeout=WAIT) == {
            "type": "websocket.close",
            "code": 4403,
        }

        customer = socket("customer")
        assert (await customer.connect(timeout=CONNECT_SECONDS))[0]
        hello = await customer.receive_json_from(timeout=WAIT)
        assert (hello["type"], hello["party"]) == ("hello", "customer")
        state = await customer.receive_json_from(timeout=WAIT)
        assert (state["type"], state["status"], state["customer_present"]) == (
            "state",
            "waiting",
            True,
        )
        consultant = socket("consultant")
        assert (await consultant.connect(timeout=CONNECT_SECONDS))[0]
        assert (await consultant.receive_json_from(timeout=WAIT))["party"] == "consultant"
        together = await customer.receive_json_from(timeout=WAIT)
        # both in, but no audio between them yet: the meter waits
        assert (together["status"], together["consultant_present"]) == ("waiting", True)
        for s in (customer, consultant):
            await s.send_json_to({"type": "media", "state": "connected"})
        while (live := await customer.receive_json_from(timeout=WAIT))["status"] != "live":
            assert live["type"] == "state" and live["status"] == "waiting", live
        assert live["customer_media"] and live["consultant_media"]

        await customer.send_json_to({"type": "signal", "data": {"sdp": {"type": "offer"}}})
        while (got := await consultant.receive_json_from(timeout=WAIT))["type"] != "signal":
            pass
        assert got == {"type": "signal", "from": "customer", "data": {"sdp": {"type": "offer"}}}

        await consultant.send_json_to({"type": "hangup"})
        while (got := await customer.receive_json_from(timeout=3))["type"] != "ended":
            pass
        assert got["reason"] == "hangup_consultant"
        for s in (customer, consultant):
            await s.disconnect()

    asyncio.run(scenario())
    call = CallSession.objects.get(booking=booking)
    assert call.status == "ended"


@pytest.mark.django_db(transaction=True)
def test_two_sockets_that_never_carry_audio_are_never_billed(book_call, settings):
    """Two plain websocket clients, no WebRTC at all: in the room together, beating every
    second for a few seconds, told the audio is not connected, never billed; at the booked end
    the call is marked no_media and costs nothing."""
    settings.YUYUE_CALL_TICK_SECONDS = 0.5
    booking = move_to_now(book_call(funds=10_000))
    keys = side_keys(booking)
    seen = []

    async def scenario():
        sockets = await both_sides(booking, keys)
        for _ in range(8):  # 4 s: heartbeats without any media, as a plain client sends
            await asyncio.sleep(0.5)
            for s in sockets:
                await s.send_json_to({"type": "heartbeat"})
        while not sockets[0].output_queue.empty():
            message = await sockets[0].receive_json_from()
            if message["type"] == "state":
                seen.append(message)
        for s in sockets:
            await s.disconnect()

    asyncio.run(scenario())
    together = [m for m in seen if m["customer_present"] and m["consultant_present"]]
    assert len(together) >= 4  # the ticks kept telling them, and never a running meter
    assert {m["status"] for m in seen} == {"waiting"}
    assert {(m["elapsed_seconds"], m["cost_fen"], m["hold_fen"]) for m in seen} == {(0, 0, 0)}
    call = CallSession.objects.get(booking=booking)
    assert call.hold_id is None and call.first_live_at is None and call.together_at
    ended = calls.tick(booking_id=booking.pk, now=booking.ends_at).snapshot
    assert (ended["status"], ended["end_reason"], ended["charged_fen"]) == (
        "missed",
        "no_media",
        0,
    )
    assert wallet(booking.customer_id).available == 10_000


@pytest.mark.django_db(transaction=True)
def test_audio_failing_mid_call_over_the_sockets_pauses_the_meter(book_call, settings):
    """Two sockets report their audio connected, talk about 3 s, then the customer's reports
    it failed while both keep beating: after the 1 s grace the meter pauses from the report;
    the bill is what was metered until then, and what they were shown never went past it."""
    settings.YUYUE_CALL_TICK_SECONDS = 0.25
    booking = move_to_now(
        book_call(rules={"grace_seconds": 0, "media_grace_seconds": 1}, funds=10_000)
    )
    keys = side_keys(booking)
    seen = []

    async def scenario():
        sockets = await both_sides(booking, keys)
        for s in sockets:
            await s.send_json_to({"type": "media", "state": "connected"})

        async def beat(seconds, customer_media):
            for _ in range(int(seconds * 4)):
                await asyncio.sleep(0.25)
                await sockets[0].send_json_to({"type": "heartbeat", "media": customer_media})
                await sockets[1].send_json_to({"type": "heartbeat", "media": "connected"})

        await beat(3, "connected")
        await sockets[0].send_json_to({"type": "media", "state": "failed"})
        await beat(2.5, "failed")
        await sockets[1].send_json_to({"type": "hangup"})
        while (got := await sockets[0].receive_json_from(timeout=3))["type"] != "ended":
            if got["type"] == "state":
                seen.append(got)
        for s in sockets:
            await s.disconnect()

    asyncio.run(scenario())
    call = CallSession.objects.get(booking=booking)
    events = {e.kind: e.at for e in call.events.filter(party="system").order_by("-at")}
    failed = call.events.get(party="customer", kind="media", detail__state="failed").at
    assert events["paused"] == failed  # the meter stopped at the report, not at the grace's end
    assert call.metered_seconds == int((failed - events["live"]).total_seconds())
    assert call.metered_seconds in (2, 3) and call.charged_fen == call.metered_seconds * 2
    assert {"live", "paused"} <= {m["status"] for m in seen}
    assert max(m["elapsed_seconds"] for m in seen) <= call.metered_seconds


@pytest.mark.django_db
def test_consultants_are_listed_with_their_rate(consultant, call_service, merchant):
    from tests.conftest import make_user
    from yuyue.accounts.models import Provider

    cheaper = Provider.objects.create(
        user=make_user("Junior Lin"), merchant=merchant, display_name="Lin", verified=True
    )
    cheaper.services.add(call_service)  # no rate of their own: the service's
    call_service.base_price_fen = 80
    call_service.save()
    status, cards = api_for(None).get(
        "/api/providers", {"service_id": call_service.pk, "sort": "price"}
    )
    assert status == 200
    assert [(c["name"], c["rate_per_minute_fen"]) for c in cards] == [("Lin", 80), ("Gao", 120)]
    status, cards = api_for(None).get(
        "/api/providers", {"service_id": call_service.pk, "price_max_fen": 100}
    )
    assert [c["name"] for c in cards] == ["Lin"]


@pytest.mark.django_db(transaction=True)
def test_a_client_without_origin_connects_with_its_token_and_browsers_are_checked(book_call):
    """A mini-program or native app sends no Origin: its token is enough. A browser page of
    another site (a foreign Origin) is refused, token or not; one without a token too."""
    booking = move_to_now(book_call(funds=10_000))
    key = issue_token(user=booking.customer, via="password")[0]

    async def scenario():
        def socket(headers, token=key):
            return WebsocketCommunicator(
                application, f"/ws/calls/{booking.pk}/?token={token}", headers=headers
            )

        native = socket([(b"host", b"127.0.0.1")])
        assert (await native.connect(timeout=CONNECT_SECONDS))[0]
        assert (await native.receive_json_from())["type"] == "hello"
        await native.disconnect()

        foreign = socket([(b"origin", b"https://evil.example"), (b"host", b"127.0.0.1")])
        connected, _ = await foreign.connect(timeout=CONNECT_SECONDS)
        assert not connected

        anonymous = socket([(b"host", b"127.0.0.1")], token="")
        await anonymous.connect(timeout=CONNECT_SECONDS)
        assert (await anonymous.receive_output())["type"] == "websocket.close"

    asyncio.run(scenario())


def test_each_side_gets_turn_credentials_of_its_own_that_expire(settings):
    """coturn's REST scheme, checked with an independent HMAC: "<expiry>:<user id>" and
    base64(HMAC-SHA1(secret, that)), valid for the configured time."""
    import base64
    import hashlib
    import hmac

    settings.YUYUE_ICE_SERVERS = [{"urls": "stun:stun.example.com:3478"}]
    settings.YUYUE_TURN_URLS = ["turn:turn.example.com:3478?transport=udp"]
    settings.YUYUE_TURN_SECRET = "s3cret"
    settings.YUYUE_TURN_TTL_SECONDS = 3600
    now = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)
    stun, turn = ice_servers(42, now)
    assert stun == {"urls": "stun:stun.example.com:3478"}
    assert turn["username"] == f"{int(now.timestamp()) + 3600}:42"
    expected = hmac.new(b"s3cret", turn["username"].encode(), hashlib.sha1).digest()
    assert turn["credential"] == base64.b64encode(expected).decode()
    assert turn["urls"] == ["turn:turn.example.com:3478?transport=udp"]
    assert ice_servers(43, now)[1]["credential"] != turn["credential"]
    settings.YUYUE_TURN_SECRET = ""
    assert ice_servers(42, now) == [stun]
