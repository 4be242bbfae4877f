"""Announcements: the platform's (operators) and a merchant's (owners, managers), each to one
audience for a while; shown on that audience's pages only while current, withdrawable by their
side only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from tests.conftest import make_user
from yuyue.accounts.models import MerchantStaff, StaffRole
from yuyue.core.errors import DomainError
from yuyue.engagement import announcements
from yuyue.engagement.models import Announcement, Audience

pytestmark = pytest.mark.django_db


def later(days=7):
    return timezone.now() + dt.timedelta(days=days)


def test_who_may_announce_to_whom(operator, owner, clerk, merchant, other_merchant):
    platform = announcements.publish(
        actor=operator, audience=Audience.PROVIDERS, title="New rules", ends_at=later()
    )
    assert platform.merchant_id is None
    mine = announcements.publish(
        actor=owner,
        merchant_id=merchant.pk,
        audience=Audience.CUSTOMERS,
        title="Closed on Monday",
        body="The hall is painted.",
        ends_at=later(3),
    )
    assert mine.merchant_id == merchant.pk
    for actor, merchant_id in ((owner, None), (clerk, merchant.pk), (owner, other_merchant.pk)):
        with pytest.raises(DomainError) as refused:
            announcements.publish(
                actor=actor,
                merchant_id=merchant_id,
                audience=Audience.CUSTOMERS,
                title="x",
                ends_at=later(),
            )
        assert refused.value.code == "forbidden"
    assert Announcement.objects.count() == 2  # refusals made nothing


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"audience": "everyone"}, "invalid_input"),
        ({"title": "   "}, "invalid_input"),
        ({"title": "x" * 101}, "invalid_input"),
        ({"ends_at": "past"}, "invalid_date_range"),
        ({"ends_at": "too far"}, "invalid_date_range"),
    ],
)
def test_bad_announcements_are_refused(operator, fields, code):
    values = {"audience": Audience.CUSTOMERS, "title": "Hello", "ends_at": later()}
    values.update(fields)
    if values["ends_at"] == "past":
        values["ends_at"] = timezone.now() - dt.timedelta(minutes=1)
    elif values["ends_at"] == "too far":
        values["ends_at"] = later(400)
    with pytest.raises(DomainError) as refused:
        announcements.publish(actor=operator, **values)
    assert refused.value.code == code
    assert not Announcement.objects.exists()


def test_each_audience_sees_what_is_current_for_it(operator, owner, merchant, other_merchant):
    now = timezone.now()
    said = {
        "platform customers": announcements.publish(
            actor=operator, audience=Audience.CUSTOMERS, title="A", ends_at=later()
        ),
        "platform providers": announcements.publish(
            actor=operator, audience=Audience.PROVIDERS, title="B", ends_at=later()
        ),
        "merchant customers": announcements.publish(
            actor=owner,
            merchant_id=merchant.pk,
            audience=Audience.CUSTOMERS,
            title="C",
            ends_at=later(),
        ),
        "not yet": announcements.publish(
            actor=operator,
            audience=Audience.CUSTOMERS,
            title="D",
            starts_at=now + dt.timedelta(days=1),
            ends_at=later(),
        ),
    }
    ended = announcements.publish(
        actor=operator, audience=Audience.CUSTOMERS, title="E", ends_at=later()
    )
    Announcement.objects.filter(pk=ended.pk).update(
        starts_at=now - dt.timedelta(days=2), ends_at=now - dt.timedelta(seconds=1)
    )

    def titles(*args, **kwargs):
        return [a.title for a in announcements.current(*args, **kwargs)]

    assert titles(Audience.CUSTOMERS) == ["A"]  # the platform's, current, to customers
    assert sorted(titles(Audience.CUSTOMERS, merchant_ids=[merchant.pk])) == ["A", "C"]
    assert titles(Audience.CUSTOMERS, merchant_ids=[merchant.pk], platform=False) == ["C"]
    assert titles(Audience.CUSTOMERS, merchant_ids=[other_merchant.pk], platform=False) == []
    assert titles(Audience.PROVIDERS) == ["B"]
    assert titles(Audience.STAFF) == []
    # withdrawn by its side: gone; another side cannot even see it
    other_owner = make_user("Moon owner")
    MerchantStaff.objects.create(user=other_owner, merchant=other_merchant, role=StaffRole.OWNER)
    for stranger, made in (
        (other_owner, said["merchant customers"]),
        (owner, said["platform customers"]),
    ):
        with pytest.raises(DomainError) as refused:
            announcements.withdraw(actor=stranger, announcement_id=made.pk)
        assert refused.value.code == "not_found"
    announcements.withdraw(actor=owner, announcement_id=said["merchant customers"].pk)
    assert titles(Audience.CUSTOMERS, merchant_ids=[merchant.pk], platform=False) == []


def test_the_pages_show_each_audience_its_own(operator, owner, merchant, provider, customer):
    ops, shop = Client(), Client()
    ops.force_login(operator)
    shop.force_login(owner)
    answer = ops.post(
        "/ops/announcements/",
        {
            "audience": "providers",
            "title": "Masks from Monday",
            "body": "In every home.",
            "days": "5",
        },
    )
    assert answer.status_code == 302
    shop.post(
        "/shop/announcements/", {"audience": "customers", "title": "Closed on Monday", "days": "3"}
    )
    shop.post(
        "/shop/announcements/", {"audience": "staff", "title": "Stock-taking Friday", "days": "3"}
    )
    assert Announcement.objects.count() == 3
    pro = Client()
    pro.force_login(provider.user)
    assert "Masks from Monday" in pro.get("/pro/").content.decode()
    store = Client().get(f"/merchants/{merchant.slug}/").content.decode()
    assert "Closed on Monday" in store and "Masks from Monday" not in store
    assert "Stock-taking Friday" in shop.get("/shop/").content.decode()
    assert "Stock-taking Friday" not in store
    # a clerk may not announce; a customer reaches neither page
    refused = Client()
    refused.force_login(customer)
    assert refused.get("/ops/announcements/").status_code == 403
    assert refused.get("/shop/announcements/").status_code in (302, 403)


def test_the_api_tells_customers_and_providers(operator, owner, merchant, provider, customer):
    from tests.conftest import api_for

    announcements.publish(
        actor=operator, audience=Audience.CUSTOMERS, title="Platform news", ends_at=later()
    )
    announcements.publish(
        actor=owner,
        merchant_id=merchant.pk,
        audience=Audience.CUSTOMERS,
        title="Closed on Monday",
        ends_at=later(),
    )
    announcements.publish(
        actor=owner,
        merchant_id=merchant.pk,
        audience=Audience.PROVIDERS,
        title="Shoe covers",
        ends_at=later(),
    )
    status, told = api_for(None).get("/api/announcements")
    assert status == 200 and [a["title"] for a in told] == ["Platform news"]
    status, told = api_for(None).get(f"/api/announcements?merchant_id={merchant.pk}")
    assert [a["title"] for a in told] == ["Closed on Monday"]
    status, told = api_for(provider.user).get("/api/provider/announcements")
    assert status == 200 and [a["title"] for a in told] == ["Shoe covers"]
    status, problem = api_for(customer).get("/api/provider/announcements")
    assert (status, problem["code"]) == (403, "forbidden")
