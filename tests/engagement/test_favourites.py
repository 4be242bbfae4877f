"""Favourites (saved once, removed, only what exists), "book again" and "recommended for you"
(what customers like you booked first, then what is popular nearby; a new customer gets the
popular ones; what you booked is left out; far merchants left out); and their API."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import make_user
from tests.engagement.test_reviews import finished
from yuyue.accounts.tokens import issue_token
from yuyue.catalog.models import Merchant, MerchantStatus, Service
from yuyue.core.errors import DomainError
from yuyue.engagement import favourites
from yuyue.engagement.models import Favourite


@pytest.fixture
def shop():
    """Three services near People's Square and one 40 km away."""
    near = Merchant.objects.create(
        name="Near", slug="near", status=MerchantStatus.ACTIVE, lat=31.23, lng=121.47
    )
    far = Merchant.objects.create(
        name="Far", slug="far", status=MerchantStatus.ACTIVE, lat=31.59, lng=121.47
    )

    def service(merchant, name):
        return Service.objects.create(
            merchant=merchant, name=name, kind="on_site", duration_minutes=60, base_price_fen=5000
        )

    return {
        "cleaning": service(near, "Cleaning"),
        "windows": service(near, "Windows"),
        "ironing": service(near, "Ironing"),
        "far": service(far, "Far away"),
    }


def test_saving_is_once_and_only_what_exists(customer, shop, provider):
    cleaning = shop["cleaning"]
    first = favourites.save(actor=customer, kind="service", target_id=cleaning.pk)
    again = favourites.save(actor=customer, kind="service", target_id=cleaning.pk)
    favourites.save(actor=customer, kind="provider", target_id=provider.pk)
    assert first.pk == again.pk and Favourite.objects.count() == 2
    with pytest.raises(DomainError) as err:
        favourites.save(actor=customer, kind="service", target_id=999_999)
    assert err.value.code == "not_found"
    with pytest.raises(DomainError) as err:
        favourites.save(actor=customer, kind="slot", target_id=cleaning.pk)
    assert err.value.code == "invalid_input"
    saved = favourites.favourites(actor=customer)
    assert (saved["service"], saved["provider"], saved["merchant"]) == ([cleaning], [provider], [])
    Service.objects.filter(pk=cleaning.pk).update(active=False)
    assert favourites.favourites(actor=customer)["service"] == []  # gone from the list
    assert favourites.remove(actor=customer, kind="service", target_id=cleaning.pk)
    assert not favourites.remove(actor=customer, kind="service", target_id=cleaning.pk)


def test_book_again_is_the_finished_ones_latest_first(customer, shop, provider):
    finished(customer, shop["cleaning"], provider, days_ago=5)
    finished(customer, shop["windows"], provider, days_ago=2)
    finished(customer, shop["cleaning"], provider, days_ago=9)
    finished(customer, shop["ironing"], provider, status="cancelled", days_ago=1)
    assert favourites.book_again(actor=customer) == [shop["windows"], shop["cleaning"]]


def test_recommended_similar_first_then_popular_never_what_you_booked(customer, shop, provider):
    cleaning, windows, ironing, far = (shop[k] for k in ("cleaning", "windows", "ironing", "far"))
    finished(customer, cleaning, provider)
    peer = make_user("Peer")  # booked cleaning, and windows
    finished(peer, cleaning, provider)
    finished(peer, windows, provider)
    for i in range(3):  # ironing and the far one are popular with others
        other = make_user(f"Other {i}")
        finished(other, ironing, provider)
        finished(other, far, provider)
    found = favourites.recommend(actor=customer, lat=31.23, lng=121.47)
    assert found == [(windows, "similar"), (ironing, "popular")]  # far left out, cleaning too
    anywhere = favourites.recommend(actor=customer)
    assert [s for s, _ in anywhere] == [windows, ironing, far]
    newcomer = make_user("New")
    assert favourites.recommend(actor=newcomer, lat=31.23, lng=121.47) == [
        (ironing, "popular"),  # booked 3 times
        (cleaning, "popular"),  # twice
        (windows, "popular"),  # once
    ]


def test_the_api(customer, shop, provider):
    api = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {issue_token(user=customer, via='password')[0]}"}
    cleaning = shop["cleaning"]
    assert api.put(f"/api/favourites/service/{cleaning.pk}", **auth).json() == {"saved": True}
    assert api.put(f"/api/favourites/merchant/{cleaning.merchant_id}", **auth).status_code == 200
    listed = api.get("/api/favourites", **auth).json()
    assert [s["id"] for s in listed["services"]] == [cleaning.pk]
    assert [m["name"] for m in listed["merchants"]] == ["Near"]
    assert api.delete(f"/api/favourites/service/{cleaning.pk}", **auth).json() == {"saved": False}
    assert api.put("/api/favourites/service/999999", **auth).json()["code"] == "not_found"
    finished(customer, shop["windows"], provider)
    again = api.get("/api/book-again", **auth).json()
    assert [(s["service_id"], s["why"]) for s in again] == [(shop["windows"].pk, "again")]
    assert api.get("/api/recommendations?lat=31.23&lng=121.47", **auth).status_code == 200
