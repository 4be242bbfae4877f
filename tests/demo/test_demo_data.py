"""`load_demo` (what `make run` loads): everything a newcomer is told about exists, works, and a
second run adds nothing."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.utils import timezone

from tests.conftest import Api
from yuyue.accounts.models import MerchantStaff, Provider, User
from yuyue.billing.models import Transfer
from yuyue.catalog.models import Category, FormField, Hall, Merchant, Service
from yuyue.demo.management.commands.load_demo import PASSWORD, PEOPLE, PROVIDER_PHONES
from yuyue.scheduling.models import SlotTemplate, TimeSlot, WorkingHours

SHANGHAI = ZoneInfo("Asia/Shanghai")
MODELS = [
    User,
    Merchant,
    Hall,
    Service,
    FormField,
    Category,
    MerchantStaff,
    Provider,
    WorkingHours,
    SlotTemplate,
    TimeSlot,
    Transfer,
]


def counts():
    return {m.__name__: m.objects.count() for m in MODELS}


@pytest.fixture
def demo(db):
    call_command("load_demo", stdout=io.StringIO())


def test_second_run_adds_nothing(demo):
    before = counts()
    call_command("load_demo", stdout=io.StringIO())
    assert counts() == before


def test_merchants_halls_and_services(demo):
    hall_m = Merchant.objects.get(slug="citizen-hall")
    clean_m = Merchant.objects.get(slug="cleanhome")
    assert hall_m.status == clean_m.status == "active"
    assert hall_m.halls.count() == 3
    assert set(hall_m.services.values_list("kind", flat=True)) == {"hall_slot"}
    passport = hall_m.services.get(name__startswith="出入境")
    assert [f.type for f in passport.form_fields.order_by("position")] == [
        "text",
        "phone",
        "id_number",
        "choice",
    ]
    cleaning = clean_m.services.get(name__startswith="日常保洁")
    assert (cleaning.kind, cleaning.duration_minutes, cleaning.base_price_fen) == (
        "on_site",
        120,
        12000,
    )
    assert cleaning.buffer_minutes == 30
    assert clean_m.services.get(name__startswith="深度保洁").duration_minutes == 240


def test_two_weeks_of_slots_in_shanghai_time(demo):
    slots = TimeSlot.objects.filter(service__merchant__slug="citizen-hall")
    local = [(s.starts_at.astimezone(SHANGHAI), s.ends_at.astimezone(SHANGHAI)) for s in slots]
    days = {start.date() for start, _ in local}
    today = dt.datetime.now(SHANGHAI).date()
    assert min(days) >= today and max(days) <= today + dt.timedelta(days=13)
    assert len(days) >= 11  # 14 days less the Sundays
    assert {start.weekday() for start, _ in local} <= set(range(6))
    times = {(start.time(), end.time()) for start, end in local}
    assert (dt.time(9), dt.time(10)) in times
    assert (dt.time(13, 30), dt.time(14, 30)) in times
    assert max(end for _, end in times) == dt.time(17, 30)
    assert slots.filter(capacity=10).exists() and slots.filter(capacity__isnull=True).exists()
    assert all(s.starts_at.utcoffset() == dt.timedelta(0) for s in slots[:5])


def test_providers_are_ready_for_dispatch(demo):
    providers = Provider.objects.filter(merchant__slug="cleanhome")
    assert providers.count() == len(PROVIDER_PHONES) == 10
    for p in providers:
        assert p.verified and p.active
        assert abs(p.lat - 31.23) < 0.1 and abs(p.lng - 121.47) < 0.1
        assert p.services.filter(name__startswith="日常保洁").exists()
        hours = sorted(p.working_hours.values_list("weekday", "start", "end"))
        assert hours == [(d, dt.time(8), dt.time(18)) for d in range(6)]


def test_every_documented_login_works(demo):
    phones = [phone for phone, _ in PEOPLE.values()] + PROVIDER_PHONES
    for phone in phones:
        assert authenticate(phone=phone, password=PASSWORD) is not None, phone
    operator = User.objects.get_by_phone(PEOPLE["operator"][0])
    assert operator.is_operator and operator.is_staff and operator.is_superuser


def test_a_demo_customer_books_a_demo_slot_through_the_api(demo):
    api = Api()
    status, body = api.post(
        "/api/auth/login", {"phone": PEOPLE["customer1"][0], "password": PASSWORD}
    )
    assert status == 200, body
    api.token = body["token"]
    slot = TimeSlot.objects.filter(
        service__name__startswith="出入境",
        capacity=10,
        starts_at__gt=timezone.now() + dt.timedelta(hours=1),
    ).order_by("starts_at")[0]
    answers = {
        "name": "陈静",
        "phone": "13900000001",
        "id_number": "11010519491231002X",
        "purpose": "换发 renewal",
    }
    status, body = api.post(
        "/api/bookings", {"slot_id": slot.id, "places": 1, "participants": [{"answers": answers}]}
    )
    assert status == 201, body
    slot.refresh_from_db()
    assert slot.booked == 1


def test_the_operator_signs_in_to_the_admin(demo, client):
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": PEOPLE["operator"][0], "password": PASSWORD},
    )
    assert response.status_code == 302 and response.url == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_consultancy_sells_calls_and_customers_can_pay_for_them(demo):
    from yuyue.billing.payments import wallet
    from yuyue.demo.management.commands.load_demo import DEMO_WALLET_FEN

    service = Service.objects.get(merchant__slug="mingli", kind="remote")
    consultants = Provider.objects.filter(services=service)
    assert sorted(p.rate_per_minute_fen for p in consultants) == [300, 500]
    for p in consultants:
        assert p.working_hours.count() == 7 and p.verified
    for key in ("customer1", "customer2", "customer3"):
        user = User.objects.get_by_phone(PEOPLE[key][0])
        assert wallet(user.pk).balance == DEMO_WALLET_FEN


def test_the_back_office_has_something_to_show(demo):
    """The store page is filled in, a coupon is in the claim centre, a merchant application
    waits for the operator, and the figures of the last days are summarised."""
    from yuyue.billing.coupons import claimable
    from yuyue.billing.models import DayFigures
    from yuyue.catalog.models import Merchant, MerchantApplication

    hall = Merchant.objects.get(slug="citizen-hall")
    assert hall.announcement and len(hall.opening_hours) == 6
    assert any(c.merchant_id == hall.pk for c in claimable())
    assert MerchantApplication.objects.filter(status="pending").count() == 1
    from yuyue.engagement.models import Review

    assert Review.objects.filter(status="published").count() == 3
    assert Review.objects.exclude(reply="").count() == 1
    from yuyue.engagement.models import Case

    assert Case.objects.filter(status="open").count() == 1
    cleaners = Merchant.objects.get(slug="cleanhome")  # their working time: utilisation's base
    assert DayFigures.objects.filter(merchant=cleaners, work_seconds__gt=0).exists()


def test_there_are_conversations_to_look_at(demo):
    """A customer and their cleaner talking (the last message unread, the phone number masked),
    and a question waiting at CleanHome's desk."""
    from yuyue.accounts.models import User
    from yuyue.catalog.models import Merchant
    from yuyue.engagement import chat
    from yuyue.engagement.models import Message

    assert Message.objects.filter(text__contains="138****8000").count() == 1
    owner = User.objects.get(staff_roles__merchant__slug="cleanhome", staff_roles__role="owner")
    [waiting] = chat.support_queue(
        actor=owner, merchant_id=Merchant.objects.get(slug="cleanhome").pk
    )
    assert waiting["unread"] == 1
    order_chat = Message.objects.filter(conversation__kind="order").select_related("conversation")
    cleaner = order_chat.first().conversation.provider_user_id
    assert chat.unread_count(cleaner) == 1


def test_a_customer_is_offered_what_customers_like_them_booked(demo):
    from yuyue.accounts.models import User
    from yuyue.engagement import favourites

    chen = User.objects.get(name="顾客 Chen Jing")
    found = favourites.recommend(actor=chen)
    assert found and found[0][0].name.startswith("深度保洁") and found[0][1] == "similar"
    assert [s.name[:4] for s in favourites.book_again(actor=chen)] == ["日常保洁"]


def test_there_are_announcements_on_the_home_page_and_for_cleaners(demo):
    from django.test import Client

    from yuyue.accounts.models import Provider
    from yuyue.catalog.models import Merchant
    from yuyue.engagement import announcements

    assert "Open over New Year" in Client().get("/").content.decode()
    clean = Merchant.objects.get(slug="cleanhome")
    [told] = announcements.current("providers", merchant_ids=[clean.pk])
    assert "Shoe covers" in told.title
    cleaner = Provider.objects.filter(merchant=clean, verified=True).first()
    page = Client()
    page.force_login(cleaner.user)
    assert "Shoe covers" in page.get("/pro/").content.decode()
