"""The merchant's coupons: the owner makes a 满减 coupon on the page (a wrong one is refused with
what was typed kept), a customer claims it in the claim centre and spends it on an order; a
coupon only handed out is given to a customer by phone and never shows in the claim centre."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from tests.calls.conftest import top_up
from tests.web.conftest import PHONE, axe_violations, shoot
from tests.web.test_customer_pages import off_the_loop, with_password
from yuyue.billing import coupons
from yuyue.billing.models import Coupon, CouponClaim
from yuyue.billing.payments import pay_with_wallet
from yuyue.catalog.models import Service, ServiceKind
from yuyue.core.errors import DomainError
from yuyue.notifications.models import Notice
from yuyue.orders.placing import book_slot
from yuyue.scheduling.models import TimeSlot


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_owner_makes_a_coupon_that_a_customer_spends(
    language, live_server, chromium, owner, merchant, hall, customer, other_customer
):
    english = language == "en"
    photo = Service.objects.create(
        merchant=merchant,
        name="Family portrait",
        kind=ServiceKind.HALL_SLOT,
        duration_minutes=60,
        base_price_fen=6000,
    )
    start = timezone.now() + dt.timedelta(days=1)
    slot = TimeSlot.objects.create(
        service=photo,
        hall=hall,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        capacity=5,
    )
    page = chromium.new_context(viewport=PHONE, locale="en-US" if english else "zh-CN").new_page()
    with_password(page, live_server.url, owner, "/shop/coupons/", "Sign in" if english else "登录")
    make = "Make the coupon" if english else "生成优惠券"
    page.fill("#c-name", "Winter ¥10 off")
    page.fill("#c-value", "60")  # more than the spend it needs: refused
    page.fill("#c-threshold", "50")
    page.fill("#c-total", "100")
    page.get_by_role("button", name=make).click()
    page.wait_for_selector("#flash")
    assert not Coupon.objects.exists()
    assert page.input_value("#c-name") == "Winter ¥10 off"  # nothing typed is lost
    page.fill("#c-value", "10")
    page.get_by_role("button", name=make).click()
    page.wait_for_selector("[data-coupon]")
    coupon = Coupon.objects.get()
    assert (coupon.kind, coupon.value_fen, coupon.threshold_fen) == ("threshold", 1000, 5000)
    assert (coupon.merchant_id, coupon.total_limit, coupon.public) == (merchant.pk, 100, True)

    def claim_and_spend():
        top_up(customer, 10_000)
        coupons.claim_coupon(actor=customer, coupon_id=coupon.pk)
        booking = book_slot(actor=customer, slot_id=slot.pk, places=1, participants=None)
        return pay_with_wallet(actor=customer, booking_id=booking.pk)

    paid = off_the_loop(claim_and_spend)
    assert CouponClaim.objects.get(customer=customer).used_on_id == paid.pk
    page.reload()
    card = page.locator(f"[data-coupon='{coupon.pk}']")
    assert (
        "1 of 100 claimed · 1 spent" if english else "已领 1 / 100 · 已用 1"
    ) in card.inner_text()
    card.locator("input[name=phone]").fill(other_customer.phone)
    card.get_by_role("button", name="Give" if english else "发放").click()
    page.wait_for_selector("#flash")
    assert CouponClaim.objects.filter(customer=other_customer, coupon=coupon).exists()
    assert Notice.objects.filter(user=other_customer, kind="coupon.given").exists()
    shoot(page, f"merchant-{language}-coupons")
    assert axe_violations(page) == []


@pytest.mark.django_db
def test_a_coupon_only_handed_out_is_not_in_the_claim_centre(
    owner, clerk, merchant, customer, other_merchant
):
    now = timezone.now()
    private = coupons.create_coupon(
        actor=owner,
        merchant_id=merchant.pk,
        name="For our regulars",
        kind="fixed",
        value_fen=500,
        valid_from=now,
        valid_until=now + dt.timedelta(days=7),
        total_limit=1,
        public=False,
    )
    assert private not in coupons.claimable()
    with pytest.raises(DomainError) as err:
        coupons.claim_coupon(actor=customer, coupon_id=private.pk)
    assert err.value.code == "not_found"
    with pytest.raises(DomainError) as err:
        coupons.give_coupon(actor=clerk, coupon_id=private.pk, phone=customer.phone)
    assert err.value.code == "forbidden"  # clerks do not hand out money
    coupons.give_coupon(actor=owner, coupon_id=private.pk, phone=customer.phone)
    with pytest.raises(DomainError) as err:  # one in all
        coupons.give_coupon(actor=owner, coupon_id=private.pk, phone=customer.phone)
    assert err.value.code in ("coupon_limit_reached", "coupon_sold_out")
    for bad, code in (
        ({"kind": "percent", "percent": 100}, "coupon_percent_invalid"),
        ({"kind": "fixed", "value_fen": 0}, "coupon_value_invalid"),
        ({"kind": "fixed", "value_fen": 100, "total_limit": 0}, "coupon_counts_invalid"),
        ({"kind": "fixed", "value_fen": 100, "valid_until": now}, "invalid_date_range"),
        ({"kind": "fixed", "value_fen": 100, "name": " "}, "name_required"),
    ):
        args = {
            "name": "x",
            "valid_from": now,
            "valid_until": now + dt.timedelta(days=1),
            "total_limit": 10,
            **bad,
        }
        with pytest.raises(DomainError) as err:
            coupons.create_coupon(actor=owner, merchant_id=merchant.pk, **args)
        assert err.value.code == code
    assert Coupon.objects.count() == 1
    page = Client()
    page.force_login(clerk)
    assert page.get("/shop/coupons/").status_code == 403
    other = Client()
    other.force_login(owner)
    theirs = Coupon.objects.create(
        merchant=other_merchant,
        name="Moon",
        kind="fixed",
        value_fen=100,
        valid_from=now,
        valid_until=now + dt.timedelta(days=1),
        total_limit=5,
        public=False,
    )
    other.post(f"/shop/coupons/{theirs.pk}/give/", {"phone": customer.phone})
    assert not CouponClaim.objects.filter(coupon=theirs).exists()


@pytest.mark.django_db
def test_membership_levels_are_kept_on_the_promotions_page(owner, clerk, merchant, customer):
    from yuyue.billing.loyalty import level_discount
    from yuyue.billing.models import MembershipLevel

    page = Client()
    page.force_login(owner)
    page.post("/shop/levels/", {"name": "Gold", "spend": "500", "discount": "5"})
    page.post("/shop/levels/", {"name": "Typo", "spend": "100", "discount": "90"})  # refused
    level = MembershipLevel.objects.get(merchant=merchant)
    assert (level.name, level.min_spend_fen, level.discount_bp) == ("Gold", 50000, 500)
    assert f'data-level="{level.pk}"' in page.get("/shop/coupons/").content.decode()
    assert level_discount(customer.pk, 10000, merchant.pk) == 0  # nothing spent yet
    as_clerk = Client()
    as_clerk.force_login(clerk)
    assert as_clerk.post("/shop/levels/", {"remove": level.pk}).status_code == 403
    page.post("/shop/levels/", {"remove": level.pk})
    assert not MembershipLevel.objects.exists()
