"""Live tracking: positions from the provider, polling, the websocket, and the purge job."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from channels.db import database_sync_to_async
from channels.testing.websocket import WebsocketCommunicator
from django.core.management import call_command
from django.utils import timezone

from tests.conftest import api_for, make_user
from yuyue.accounts.tokens import issue_token
from yuyue.asgi import application
from yuyue.dispatch import tracking
from yuyue.dispatch.models import LocationPing
from yuyue.orders.models import Booking, BookingStatus

from .conftest import HOME

# A socket's handshake reads the database (the token, the order): on a busy CI machine the
# first one in a process takes longer than the communicator's default second.
CONNECT_SECONDS = 10


@pytest.fixture
def accepted(customer, onsite_service, crew, at_ten):
    _, body = api_for(customer).post(
        "/api/orders/onsite",
        {
            "service_id": onsite_service.pk,
            "starts_at": at_ten.isoformat(),
            "address": "x",
            "lat": HOME[0],
            "lng": HOME[1],
        },
    )
    assert api_for(crew[0].user).post(f"/api/provider/grab/{body['id']}")[0] == 200
    return Booking.objects.get(pk=body["id"])


def post(provider, booking, lat=31.25, lng=121.47):
    return api_for(provider.user).post(
        f"/api/provider/orders/{booking.pk}/location", {"lat": lat, "lng": lng}
    )


def test_provider_posts_customer_polls(accepted, crew, customer, other_customer):
    status, body = post(crew[0], accepted)
    assert status == 200 and body["eta_minutes"] > 0
    status, seen = api_for(customer).get(f"/api/bookings/{accepted.pk}/tracking")
    assert (seen["lat"], seen["lng"]) == (31.25, 121.47)
    status, problem = api_for(other_customer).get(f"/api/bookings/{accepted.pk}/tracking")
    assert (status, problem["code"]) == (404, "not_found")


def test_only_the_provider_only_while_active_not_too_often(accepted, crew, customer):
    status, body = post(crew[1], accepted)
    assert (status, body["code"]) == (404, "not_found")
    assert post(crew[0], accepted)[0] == 200
    status, body = post(crew[0], accepted)
    assert (status, body["code"]) == (429, "location_too_frequent")
    status, body = post(crew[0], accepted, lat=120)
    assert status == 422
    Booking.objects.filter(pk=accepted.pk).update(status=BookingStatus.COMPLETED)
    LocationPing.objects.update(at=timezone.now() - dt.timedelta(minutes=1))
    status, body = post(crew[0], accepted)
    assert (status, body["code"]) == (409, "illegal_transition")
    assert LocationPing.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_position_reaches_the_customers_socket_not_a_strangers(accepted, crew, customer):
    key = issue_token(user=customer, via="password")[0]
    stranger_key = issue_token(user=make_user("stranger"), via="password")[0]

    async def scenario():
        watcher = WebsocketCommunicator(
            application,
            f"/ws/bookings/{accepted.pk}/track/?token={key}",
            headers=[(b"host", b"127.0.0.1"), (b"origin", b"http://127.0.0.1")],
        )
        ok, _ = await watcher.connect(timeout=CONNECT_SECONDS)
        assert ok
        first = await watcher.receive_json_from(timeout=5)
        assert first["status"] == "accepted" and first["lat"] is None
        stranger = WebsocketCommunicator(
            application,
            f"/ws/bookings/{accepted.pk}/track/?token={stranger_key}",
            headers=[(b"host", b"127.0.0.1"), (b"origin", b"http://127.0.0.1")],
        )
        ok, code = await stranger.connect(timeout=CONNECT_SECONDS)
        assert not ok and code == 4403
        await database_sync_to_async(tracking.post_location)(
            actor=crew[0].user, booking_id=accepted.pk, lat=31.26, lng=121.48
        )
        update = await watcher.receive_json_from(timeout=5)
        assert (update["lat"], update["lng"]) == (31.26, 121.48) and update["eta_minutes"] > 0
        assert await stranger.receive_nothing(timeout=0.2)
        await watcher.disconnect()

    asyncio.run(scenario())


@pytest.mark.django_db(transaction=True)
def test_the_pages_session_signs_a_socket_in_but_not_from_another_site(accepted, crew, customer):
    """A page opens the socket without a token: the session's customer watches; a stranger's
    session, no session, or the customer's session from another site's page are refused."""
    from django.test import Client

    def cookie(user) -> bytes:
        client = Client()
        client.force_login(user)
        return f"sessionid={client.cookies['sessionid'].value}".encode()

    mine, strangers = cookie(customer), cookie(make_user("stranger"))
    url = f"/ws/bookings/{accepted.pk}/track/"

    def socket(session: bytes | None, origin: bytes = b"http://127.0.0.1"):
        headers = [(b"host", b"127.0.0.1"), (b"origin", origin)]
        if session:
            headers.append((b"cookie", session))
        return WebsocketCommunicator(application, url, headers=headers)

    async def scenario():
        watcher = socket(mine)
        ok, _ = await watcher.connect(timeout=CONNECT_SECONDS)
        assert ok and (await watcher.receive_json_from(timeout=5))["status"] == "accepted"
        await watcher.disconnect()
        for refused in (socket(strangers), socket(None)):
            ok, code = await refused.connect(timeout=CONNECT_SECONDS)
            assert not ok and code == 4403
        elsewhere = socket(mine, origin=b"https://evil.example")
        ok, _ = await elsewhere.connect(timeout=CONNECT_SECONDS)
        assert not ok

    asyncio.run(scenario())


@pytest.mark.django_db(transaction=True)
def test_purge_job_removes_positions_of_finished_orders(accepted, crew):
    from yuyue.dispatch.tasks import purge_positions_job

    post(crew[0], accepted)
    old = timezone.now() - dt.timedelta(days=8)
    LocationPing.objects.update(at=old)
    purge_positions_job.enqueue(reschedule=False)
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    assert LocationPing.objects.count() == 1  # the order is still active: its trail stays
    Booking.objects.filter(pk=accepted.pk).update(status=BookingStatus.COMPLETED)
    LocationPing.objects.create(booking=accepted, provider=crew[0], lat=1, lng=1)  # recent
    purge_positions_job.enqueue(reschedule=False)
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    assert list(LocationPing.objects.values_list("lat", flat=True)) == [1]
