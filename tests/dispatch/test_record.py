"""A provider's record: orders given back, late arrivals, offers turned down or left to expire,
each with its time and reason; the provider sees theirs, operators and the merchant's managers
any of theirs, nobody else."""

from __future__ import annotations

import datetime as dt

from django.test import Client
from django.utils import timezone

from tests.conftest import api_for, make_user
from yuyue.accounts.models import MerchantStaff, StaffRole
from yuyue.catalog.models import Merchant, MerchantStatus
from yuyue.dispatch import assigning, services
from yuyue.dispatch.models import Breach, Offer
from yuyue.orders import fulfilment
from yuyue.orders.models import Booking

from .conftest import HOME


def onsite(customer, service, when):
    status, body = api_for(customer).post(
        "/api/orders/onsite",
        {
            "service_id": service.pk,
            "starts_at": when.isoformat(),
            "address": "1 Nanjing Rd",
            "lat": HOME[0],
            "lng": HOME[1],
        },
    )
    assert status == 201, body
    return Booking.objects.get(pk=body["id"])


def test_late_arrivals_turned_down_and_expired_offers_are_on_the_record(
    customer, onsite_service, crew, at_ten, settings, merchant, operator
):
    settings.YUYUE_STEP_EARLY_MINUTES = {}
    near, second, _third = crew
    first = onsite(customer, onsite_service, at_ten)
    (offer,) = services.run_dispatch_round()
    assert offer.provider_id == near.pk
    services.reject_offer(actor=near.user, offer_id=offer.pk, reason="too far")
    (offer,) = services.run_dispatch_round()
    assert offer.provider_id == second.pk
    Offer.objects.filter(pk=offer.pk).update(expires_at=timezone.now())  # left to run out
    (offer,) = services.run_dispatch_round()
    services.accept_offer(actor=offer.provider.user, offer_id=offer.pk)
    # the order's start moved into the past: arriving now is 40 minutes late
    start = timezone.now() - dt.timedelta(minutes=40)
    Booking.objects.filter(pk=first.pk).update(
        starts_at=start, ends_at=start + dt.timedelta(hours=2)
    )
    fulfilment.depart(actor=offer.provider.user, booking_id=first.pk, lat=HOME[0], lng=HOME[1])
    fulfilment.arrive(actor=offer.provider.user, booking_id=first.pk, lat=HOME[0], lng=HOME[1])
    late = Breach.objects.get(kind="late_arrival")
    assert late.provider_id == offer.provider_id and late.note == "40 min late"

    # on time: no breach
    on_time = onsite(customer, onsite_service, at_ten + dt.timedelta(hours=4))
    assigning.assign_order(actor=operator, booking_id=on_time.pk, provider_id=near.pk)
    fulfilment.depart(actor=near.user, booking_id=on_time.pk, lat=HOME[0], lng=HOME[1])
    fulfilment.arrive(actor=near.user, booking_id=on_time.pk, lat=HOME[0], lng=HOME[1])
    assert Breach.objects.filter(kind="late_arrival").count() == 1

    settings.YUYUE_MISSED_OFFERS_ALLOWED = 0  # nothing forgiven: the turned-down offer counts
    status, seen = api_for(operator).get(f"/api/ops/providers/{near.pk}/record")
    assert status == 200, seen
    assert (seen["offers"], seen["rejected"], seen["expired"]) == (1, 1, 0)
    assert seen["weighed"] == 1
    assert seen["lines"][0]["note"] == "too far"
    status, seen = api_for(operator).get(f"/api/ops/providers/{second.pk}/record")
    assert (seen["expired"], seen["rejected"]) == (1, 0)
    manager, stranger = make_user("Manager"), make_user("Other manager")
    MerchantStaff.objects.create(user=manager, merchant=merchant, role=StaffRole.MANAGER)
    other = Merchant.objects.create(name="Other", slug="other", status=MerchantStatus.ACTIVE)
    MerchantStaff.objects.create(user=stranger, merchant=other, role=StaffRole.MANAGER)
    assert api_for(manager).get(f"/api/ops/providers/{near.pk}/record")[0] == 200
    assert api_for(stranger).get(f"/api/ops/providers/{near.pk}/record")[0] == 403
    assert api_for(second.user).get(f"/api/ops/providers/{near.pk}/record")[0] == 403

    page = Client()
    page.force_login(near.user)
    html = page.get("/pro/record/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "too far" in html and 'id="rejected">1<' in html
    assert "Dispatch counts 1 breach against you" in html
