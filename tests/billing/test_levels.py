"""Membership levels per merchant and platform-wide, and the order of discounts at payment
(level, then coupon on the rest, then points), through the API and the real payment flow."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.billing.test_payments import book, top_up
from tests.conftest import api_for, make_user
from yuyue.accounts.models import MerchantStaff, StaffRole
from yuyue.billing import loyalty
from yuyue.billing.models import (
    Coupon,
    CouponClaim,
    MembershipLevel,
    Payment,
    PointsEntry,
    PointsKind,
)
from yuyue.billing.payments import wallet
from yuyue.billing.refunds import escrow_held
from yuyue.catalog.models import Hall, Service
from yuyue.core.models import AuditLog
from yuyue.scheduling.models import TimeSlot

pytestmark = pytest.mark.django_db


def level_body(**over):
    return {"name": "银卡 Silver", "min_spend_fen": 3000, "discount_bp": 500, **over}


@pytest.fixture
def other_slot(other_merchant, hall_service):
    """A ¥20 slot at another merchant."""
    hall = Hall.objects.create(merchant=other_merchant, name="Moon hall")
    service = Service.objects.create(
        merchant=other_merchant,
        name="Moon photo",
        kind=hall_service.kind,
        duration_minutes=30,
        base_price_fen=2000,
        per_user_limit=20,
    )
    start = timezone.now() + dt.timedelta(days=1)
    return TimeSlot.objects.create(
        service=service,
        hall=hall,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        capacity=50,
    )


def pay(user, order_id, **body):
    status, out = api_for(user).post(f"/api/bookings/{order_id}/pay/wallet", body)
    assert status == 200, out
    return Payment.objects.get(booking_id=order_id)


def test_merchant_managers_keep_their_own_ladder(merchant, other_merchant, owner, clerk, operator):
    url = f"/api/merchants/{merchant.pk}/membership-levels"
    status, silver = api_for(owner).post(url, level_body())
    assert status == 201 and silver["merchant_id"] == merchant.pk, silver
    # the same threshold on the platform's ladder is another level; on this ladder, a conflict
    assert api_for(operator).post("/api/ops/membership-levels", level_body())[0] == 201
    status, problem = api_for(owner).post(url, level_body(name="again"))
    assert (status, problem["code"]) == (409, "level_exists")
    # a clerk, another merchant's owner, a customer: refused
    other_owner = make_user("Owner Moon")
    MerchantStaff.objects.create(user=other_owner, merchant=other_merchant, role=StaffRole.OWNER)
    for who in (clerk, other_owner, make_user("Nobody")):
        status, problem = api_for(who).post(url, level_body(min_spend_fen=9000))
        assert (status, problem["code"]) == (403, "forbidden")
    # bad input: a stable code, nothing written
    before = MembershipLevel.objects.count()
    for bad, code in (
        ({"min_spend_fen": -1}, "invalid_amount"),
        ({"min_spend_fen": 10**13}, "invalid_amount"),
        ({"discount_bp": 5001}, "invalid_discount"),
        ({"discount_bp": -5}, "invalid_discount"),
        ({"discount_bp": "500"}, "invalid_input"),
        ({"min_spend_fen": 1.5}, "invalid_input"),
        ({"name": "   "}, "invalid_input"),
    ):
        status, problem = api_for(owner).post(url, {**level_body(min_spend_fen=8000), **bad})
        assert (status, problem["code"]) == (422, code), (bad, problem)
    assert MembershipLevel.objects.count() == before
    status, problem = api_for(operator).post(
        "/api/merchants/999999/membership-levels", level_body()
    )
    assert (status, problem["code"]) == (404, "not_found")
    # change and remove; a level is reached only through its own merchant's URL
    level_url = f"{url}/{silver['id']}"
    status, changed = api_for(owner).patch(level_url, {"discount_bp": 800})
    assert status == 200 and (changed["discount_bp"], changed["name"]) == (800, "银卡 Silver")
    for bad in ({"discount_bp": 9000}, {"merchant_id": other_merchant.pk}, {"min_spend_fen": -1}):
        assert api_for(owner).patch(level_url, bad)[0] == 422, bad
    assert MembershipLevel.objects.get(pk=silver["id"]).discount_bp == 800
    status, problem = api_for(operator).patch(
        f"/api/merchants/{other_merchant.pk}/membership-levels/{silver['id']}", {"name": "x"}
    )
    assert (status, problem["code"]) == (404, "not_found")
    status, problem = api_for(operator).patch(
        f"/api/ops/membership-levels/{silver['id']}", {"name": "x"}
    )
    assert (status, problem["code"]) == (404, "not_found")  # not a platform level
    assert [lv["id"] for lv in api_for(None).get(url)[1]] == [silver["id"]]
    assert api_for(clerk).delete(level_url)[0] == 403
    assert api_for(owner).delete(level_url)[0] == 204
    assert api_for(owner).delete(level_url)[1]["code"] == "not_found"
    actions = set(AuditLog.objects.values_list("action", flat=True))
    assert {"loyalty.level_create", "loyalty.level_update", "loyalty.level_delete"} <= actions


def test_spend_per_merchant_and_the_better_level_wins(
    customer, merchant, operator, open_slot, other_slot
):
    loyalty.create_level(actor=operator, name="Platform", min_spend_fen=0, discount_bp=500)
    loyalty.create_level(
        actor=operator,
        name="Sunrise VIP",
        min_spend_fen=4000,
        discount_bp=1000,
        merchant_id=merchant.pk,
    )
    top_up(customer, 20_000)
    pay(customer, book(customer, other_slot)["id"], no_coupon=True)  # 1900 at the other merchant
    assert (loyalty.spend(customer.pk), loyalty.spend(customer.pk, merchant.pk)) == (1900, 0)
    for _ in range(2):
        assert pay(customer, book(customer, open_slot)["id"]).amount_fen == 1900  # 5 %
    me = api_for(customer).get(f"/api/me/membership?merchant_id={merchant.pk}")[1]
    assert (me["spend_fen"], me["level"]["name"]) == (5700, "Platform")
    assert (me["merchant"]["spend_fen"], me["merchant"]["to_next_fen"]) == (3800, 200)
    assert me["merchant"]["next_level"]["name"] == "Sunrise VIP"
    third = pay(customer, book(customer, open_slot)["id"])
    assert third.amount_fen == 1900  # still 5 %: 3,800 spent here
    me = api_for(customer).get(f"/api/me/membership?merchant_id={merchant.pk}")[1]
    assert me["merchant"]["level"]["name"] == "Sunrise VIP"
    # now 10 % here — the better of the two, not both added
    assert pay(customer, book(customer, open_slot)["id"]).amount_fen == 1800
    # and still 5 % at the other merchant, where the VIP level is nothing
    assert pay(customer, book(customer, other_slot)["id"]).amount_fen == 1900
    assert api_for(customer).get("/api/me/membership")[1]["merchant"] is None


def test_level_first_then_coupon_on_the_rest_then_points(customer, operator, open_slot):
    """¥20 order, 10 % level: ¥18 left. A 满¥20减¥5 coupon no longer reaches its threshold;
    a 10 % coupon takes 10 % of ¥18; points take what is asked, within half the price."""
    now = timezone.now()
    window = {"valid_from": now - dt.timedelta(hours=1), "valid_until": now + dt.timedelta(days=1)}
    threshold = Coupon.objects.create(
        name="满20减5", kind="threshold", threshold_fen=2000, value_fen=500, total_limit=9, **window
    )
    percent = Coupon.objects.create(name="9折", kind="percent", percent=10, total_limit=9, **window)
    for c in (threshold, percent):
        assert api_for(customer).post(f"/api/coupons/{c.pk}/claim")[0] == 201
    loyalty._grant(customer.pk, 5000, "gift", PointsKind.EARN)
    top_up(customer, 10_000)
    order = book(customer, open_slot)
    # without a level, the 满减 coupon is the best (500 > 200)
    seen = api_for(customer).get(f"/api/bookings/{order['id']}/pay/preview")[1]
    assert (seen["coupon_discount_fen"], seen["due_fen"]) == (500, 1500)
    assert seen["coupon_claim_id"] == CouponClaim.objects.get(coupon=threshold).pk

    loyalty.create_level(actor=operator, name="Gold", min_spend_fen=0, discount_bp=1000)
    status, seen = api_for(customer).get(f"/api/bookings/{order['id']}/pay/preview?points=300")
    assert status == 200, seen
    assert seen["level"]["name"] == "Gold" and seen["level_discount_fen"] == 200
    assert seen["coupon_claim_id"] == CouponClaim.objects.get(coupon=percent).pk
    assert seen["coupon_discount_fen"] == 180  # 10 % of 1800, not of 2000
    assert (seen["points"], seen["points_max"], seen["points_balance"]) == (300, 1000, 5000)
    assert (seen["due_fen"], seen["from_cash_fen"], seen["from_bonus_fen"]) == (1320, 1320, 0)
    # naming the 满减 coupon: it does not apply to what is left after the level
    threshold_claim = CouponClaim.objects.get(coupon=threshold)
    status, problem = api_for(customer).get(
        f"/api/bookings/{order['id']}/pay/preview?coupon_claim_id={threshold_claim.pk}"
    )
    assert (status, problem["code"]) == (409, "coupon_not_applicable")
    # points beyond the cap are limited to half the price; more than held is refused
    capped = api_for(customer).get(f"/api/bookings/{order['id']}/pay/preview?points=1500")[1]
    assert (capped["points"], capped["due_fen"]) == (1000, 620)
    # the preview wrote nothing
    assert not PointsEntry.objects.filter(kind=PointsKind.REDEEM).exists()
    assert not CouponClaim.objects.filter(used_on__isnull=False).exists()
    assert wallet(customer.pk).balance == 10_000

    payment = pay(customer, order["id"], points=300)
    assert (payment.amount_fen, payment.bonus_fen) == (1320, 0)
    assert CouponClaim.objects.get(coupon=percent).discount_fen == 180
    assert CouponClaim.objects.get(coupon=threshold).used_on_id is None
    assert PointsEntry.objects.get(kind=PointsKind.REDEEM).delta == -300
    assert escrow_held(order["id"]) == 2000  # the full price; promotion paid 680


def test_preview_is_what_the_payment_takes(customer, other_customer, operator, open_slot):
    """Whatever the customer holds, the preview and the payment agree, bonus split included."""
    from django.db import transaction

    from yuyue.billing import ledger
    from yuyue.billing.models import AccountKind

    loyalty.create_level(actor=operator, name="Silver", min_spend_fen=0, discount_bp=300)
    top_up(customer, 700)
    with transaction.atomic():
        ledger.post_transfer(
            key="bonus",
            kind="top_up_bonus",
            legs=[
                (ledger.account(AccountKind.PROMOTION_EXPENSE), -5000),
                (loyalty.bonus_account(customer.pk), 5000),
            ],
        )
    loyalty._grant(customer.pk, 77, "gift", PointsKind.EARN)
    order = book(customer, open_slot)
    url = f"/api/bookings/{order['id']}/pay/preview?points=77&no_coupon=true"
    seen = api_for(customer).get(url)[1]
    payment = pay(customer, order["id"], points=77, no_coupon=True)
    assert seen["due_fen"] == payment.amount_fen == 2000 - 60 - 77
    assert (
        (seen["from_cash_fen"], seen["from_bonus_fen"])
        == (700, payment.bonus_fen)
        == (
            700,
            1163,
        )
    )
    # someone else's order, an order already paid, nonsense: refused, nothing changed
    status, problem = api_for(other_customer).get(f"/api/bookings/{order['id']}/pay/preview")
    assert (status, problem["code"]) == (404, "not_found")
    status, problem = api_for(customer).get(f"/api/bookings/{order['id']}/pay/preview")
    assert (status, problem["code"]) == (409, "nothing_to_pay")
    fresh = book(customer, open_slot)
    status, problem = api_for(customer).get(f"/api/bookings/{fresh['id']}/pay/preview?points=-1")
    assert (status, problem["code"]) == (422, "invalid_points")
    status, problem = api_for(customer).get(f"/api/bookings/{fresh['id']}/pay/preview?points=x")
    assert (status, problem["code"]) == (422, "invalid_input")


def test_gateway_payment_takes_level_then_coupon(customer, operator, open_slot):
    now = timezone.now()
    c = Coupon.objects.create(
        name="8折 cap 3",
        kind="percent",
        percent=20,
        cap_fen=300,
        total_limit=5,
        valid_from=now - dt.timedelta(hours=1),
        valid_until=now + dt.timedelta(days=1),
    )
    api_for(customer).post(f"/api/coupons/{c.pk}/claim")
    loyalty.create_level(actor=operator, name="Silver", min_spend_fen=0, discount_bp=500)
    order = book(customer, open_slot)
    seen = api_for(customer).get(f"/api/bookings/{order['id']}/pay/preview")[1]
    status, body = api_for(customer).post("/api/payments", {"booking_id": order["id"]})
    assert status == 201, body
    assert body["amount_fen"] == seen["due_fen"] == 2000 - 100 - 300  # 20 % of 1900, capped


def test_the_preview_never_promises_money_the_wallet_does_not_hold(customer, open_slot):
    """¥20 order, ¥5 in cash and nothing in bonus: the preview says ¥15 is missing (it used to
    promise ¥15 from the bonus, then the payment failed), and the payment is refused cleanly."""
    top_up(customer, 500)
    order = book(customer, open_slot)
    seen = api_for(customer).get(f"/api/bookings/{order['id']}/pay/preview")[1]
    assert (seen["due_fen"], seen["from_cash_fen"], seen["from_bonus_fen"]) == (2000, 500, 0)
    assert seen["short_fen"] == 1500
    status, problem = api_for(customer).post(f"/api/bookings/{order['id']}/pay/wallet")
    assert (status, problem["code"]) == (409, "insufficient_funds")
    assert wallet(customer.pk).balance == 500
    top_up(customer, 1500)
    seen = api_for(customer).get(f"/api/bookings/{order['id']}/pay/preview")[1]
    assert (seen["from_cash_fen"], seen["short_fen"]) == (2000, 0)
