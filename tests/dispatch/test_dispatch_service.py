"""Ordering without a provider, dispatch rounds, offers, grabs and manual assignment."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command

from tests.conftest import api_for, make_user
from yuyue.accounts.models import Provider
from yuyue.dispatch import services
from yuyue.dispatch.models import Breach, Offer, OfferStatus
from yuyue.orders.models import Booking
from yuyue.scheduling.models import ProviderReservation

from .conftest import HOME


def order(customer, service, when, lat=HOME[0], lng=HOME[1]):
    return api_for(customer).post(
        "/api/orders/onsite",
        {
            "service_id": service.pk,
            "starts_at": when.isoformat(),
            "address": "1 Nanjing Rd",
            "lat": lat,
            "lng": lng,
        },
    )


def test_order_is_checked_up_front(customer, onsite_service, crew, at_ten):
    status, check = api_for(None).get(
        "/api/orders/onsite/check",
        {
            "service_id": onsite_service.pk,
            "starts_at": at_ten.isoformat(),
            "lat": HOME[0],
            "lng": HOME[1],
        },
    )
    assert status == 200 and check["available"] and check["providers"] == 3
    status, body = order(customer, onsite_service, at_ten)
    assert status == 201, body
    assert (body["channel"], body["status"], body["provider_id"]) == (
        "dispatch",
        "awaiting_provider",
        None,
    )


def test_no_provider_then_gives_alternatives(customer, onsite_service, crew, at_ten):
    late = at_ten.replace(hour=19)  # a 2 h job cannot end by 20:00
    status, body = order(customer, onsite_service, late)
    assert (status, body["code"]) == (409, "no_provider_available")
    assert body["errors"] and all("alternative" in e for e in body["errors"])
    status, body = order(customer, onsite_service, at_ten, lat=39.9, lng=116.4)  # Beijing
    assert (status, body["code"]) == (409, "outside_service_area")
    assert not Booking.objects.exists()


def test_round_offers_optimally_and_accept(customer, onsite_service, crew, at_ten):
    _, body = order(customer, onsite_service, at_ten)
    offers = services.run_dispatch_round()
    assert len(offers) == 1 and offers[0].provider_id == crew[0].pk  # nearest, well rated
    status, mine = api_for(crew[0].user).get("/api/provider/offers")
    assert [o["order"]["id"] for o in mine] == [body["id"]]
    assert "code" not in mine[0]["order"]
    assert services.run_dispatch_round() == []  # a pending offer is not offered again
    status, accepted = api_for(crew[0].user).post(f"/api/provider/offers/{offers[0].pk}/accept")
    assert status == 200 and accepted["status"] == "accepted"
    assert ProviderReservation.objects.filter(provider=crew[0], active=True).count() == 1
    status, again = api_for(crew[0].user).post(f"/api/provider/offers/{offers[0].pk}/accept")
    assert (status, again["code"]) == (409, "offer_not_pending")


def test_reject_moves_to_the_next_provider(customer, onsite_service, crew, at_ten):
    order(customer, onsite_service, at_ten)
    first = services.run_dispatch_round()[0]
    assert (
        api_for(crew[0].user).post(
            f"/api/provider/offers/{first.pk}/reject", {"reason": "too far"}
        )[0]
        == 204
    )
    second = services.run_dispatch_round()[0]
    assert second.provider_id != crew[0].pk and second.round_no == 2


def test_strangers_cannot_answer_an_offer(customer, onsite_service, crew, at_ten):
    order(customer, onsite_service, at_ten)
    offer = services.run_dispatch_round()[0]
    status, body = api_for(crew[1].user).post(f"/api/provider/offers/{offer.pk}/accept")
    assert (status, body["code"]) == (404, "not_found")


def test_ineligible_providers_are_never_offered(customer, onsite_service, crew, at_ten, settings):
    Provider.objects.filter(pk=crew[0].pk).update(verified=False)
    Provider.objects.filter(pk=crew[1].pk).update(max_open_orders=0)
    crew[2].services.clear()
    order(customer, onsite_service, at_ten)
    settings.YUYUE_DISPATCH_MAX_ROUNDS = 2
    assert services.run_dispatch_round() == []
    assert services.run_dispatch_round() == []
    booking = Booking.objects.get()
    assert booking.needs_operator and booking.dispatch_rounds == 2
    status, q = api_for(make_user("op", is_operator=True)).get("/api/ops/dispatch/queue")
    assert [b["id"] for b in q] == [booking.pk]


@pytest.mark.django_db(transaction=True)
def test_offer_times_out_in_the_worker(settings, customer, onsite_service, crew, at_ten):
    settings.YUYUE_OFFER_TIMEOUT_SECONDS = 0
    order(customer, onsite_service, at_ten)
    offer = services.run_dispatch_round()[0]
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    offer.refresh_from_db()
    assert offer.status == OfferStatus.EXPIRED
    status, body = api_for(offer.provider.user).post(f"/api/provider/offers/{offer.pk}/accept")
    assert (status, body["code"]) == (409, "offer_expired")
    nxt = services.run_dispatch_round()[0]
    assert nxt.provider_id != offer.provider_id


def test_grab_feed_and_grab(customer, onsite_service, crew, at_ten):
    _, body = order(customer, onsite_service, at_ten)
    status, feed = api_for(crew[1].user).get("/api/provider/grab-feed")
    assert [f["order"]["id"] for f in feed] == [body["id"]]
    assert api_for(crew[1].user).post(f"/api/provider/grab/{body['id']}")[0] == 200
    status, problem = api_for(crew[2].user).post(f"/api/provider/grab/{body['id']}")
    assert (status, problem["code"]) == (409, "already_taken")
    assert Booking.objects.get().provider_id == crew[1].pk


def test_operator_assigns_and_reassigns(customer, onsite_service, crew, at_ten, operator):
    _, body = order(customer, onsite_service, at_ten)
    ops = api_for(operator)
    url = f"/api/ops/orders/{body['id']}"
    assert ops.post(f"{url}/assign", {"provider_id": crew[2].pk})[1]["provider_id"] == crew[2].pk
    status, moved = ops.post(
        f"{url}/reassign", {"provider_id": crew[0].pk, "from_provider_id": crew[2].pk}
    )
    assert status == 200 and moved["provider_id"] == crew[0].pk
    status, stale = ops.post(
        f"{url}/reassign", {"provider_id": crew[1].pk, "from_provider_id": crew[2].pk}
    )
    assert (status, stale["code"]) == (409, "already_taken")
    active = ProviderReservation.objects.filter(active=True)
    assert [r.provider_id for r in active] == [crew[0].pk]
    status, problem = api_for(customer).post(f"{url}/assign", {"provider_id": crew[1].pk})
    assert (status, problem["code"]) == (403, "forbidden")


def test_provider_release_returns_to_dispatch_with_a_breach(customer, onsite_service, crew, at_ten):
    _, body = order(customer, onsite_service, at_ten)
    api_for(crew[0].user).post(f"/api/provider/grab/{body['id']}")
    status, released = api_for(crew[0].user).post(
        f"/api/provider/orders/{body['id']}/release", {"reason": "sick"}
    )
    assert status == 200 and released["status"] == "awaiting_provider"
    assert Breach.objects.get().provider_id == crew[0].pk
    assert not ProviderReservation.objects.filter(active=True).exists()
    assert Booking.objects.get().provider_id is None
    assert Offer.objects.count() == 0 and len(services.run_dispatch_round()) == 1


def test_bad_orders_change_nothing(customer, onsite_service, crew, at_ten, hall_service):
    past = at_ten - dt.timedelta(days=3)
    for body, code in [
        ({"starts_at": past.isoformat()}, "time_past"),
        ({"starts_at": at_ten.replace(minute=10).isoformat()}, "time_off_step"),
        ({"service_id": hall_service.pk}, "wrong_service_kind"),
        ({"lat": 95}, "invalid_input"),
        ({"address": ""}, "invalid_input"),  # the schema's: at least one character
        ({"address": "   "}, "address_required"),
    ]:
        payload = {
            "service_id": onsite_service.pk,
            "starts_at": at_ten.isoformat(),
            "address": "x",
            "lat": HOME[0],
            "lng": HOME[1],
            **body,
        }
        status, problem = api_for(customer).post("/api/orders/onsite", payload)
        assert problem["code"] == code, (body, problem)
    assert not Booking.objects.exists()
