"""The pay page in Chromium at phone size: the best coupon by default, another of the
customer's coupons or none, points if wanted, the amount updated as they choose (the same
computation as the payment), paid from the wallet; then paid by the sandbox gateway, whose
notification (a real HTTP call from the job) the booking page waits for without a reload."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from tests.calls.conftest import top_up
from tests.conftest import make_user
from tests.web.conftest import PHONE, axe_violations, shoot
from tests.web.test_customer_pages import GOOD_ID, passport, run_worker, with_password  # noqa: F401
from yuyue.billing import loyalty
from yuyue.billing.coupons import claim_coupon
from yuyue.billing.models import Coupon, CouponClaim, Payment, PointsKind
from yuyue.billing.payments import wallet
from yuyue.orders.models import Booking
from yuyue.orders.placing import book_slot

WORDS = {
    "en": {
        "sign_in": "Sign in",
        "wallet": "Pay ¥35.00 from my wallet",
        "card": "Pay by Card (sandbox)",
        "sandbox_pay": "Pay ¥40.00",
        "waiting": "Waiting for the payment",
        "paid": "Paid. See you there!",
    },
    "zh-hans": {
        "sign_in": "登录",
        "wallet": "用钱包支付 ¥35.00",
        "card": "使用银行卡（沙箱）支付",
        "sandbox_pay": "支付 ¥40.00",
        "waiting": "正在等待支付确认",
        "paid": "已支付，到时见！",
    },
}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_choose_a_coupon_and_points_then_pay_by_wallet_and_by_the_sandbox(
    language,
    live_server,
    passport,  # noqa: F811 - the fixture imported above
    chromium,
    settings,
):
    settings.YUYUE_PUBLIC_BASE_URL = live_server.url  # where the sandbox notifies
    service, day, slots = passport
    t = WORDS[language]
    customer = make_user(f"Payer {language}", password="s3cret-pass")
    top_up(customer, 10_000)
    now = timezone.now()
    window = {"valid_from": now - dt.timedelta(hours=1), "valid_until": now + dt.timedelta(days=9)}
    tenner = Coupon.objects.create(
        name="满50减10",
        kind="threshold",
        threshold_fen=5000,
        value_fen=1000,
        total_limit=9,
        **window,
    )
    tenth = Coupon.objects.create(name="9折", kind="percent", percent=10, total_limit=9, **window)
    for c in (tenner, tenth):
        claim_coupon(actor=customer, coupon_id=c.pk)
    loyalty._grant(customer.pk, 1000, "gift", PointsKind.EARN)
    answers = [{"answers": {"name": "张三", "id": GOOD_ID}}]
    first = book_slot(actor=customer, slot_id=slots[9].pk, places=1, participants=answers)
    second = book_slot(actor=customer, slot_id=slots[10].pk, places=1, participants=answers)

    context = chromium.new_context(
        viewport=PHONE, locale="zh-CN" if language == "zh-hans" else "en-US"
    )
    page = context.new_page()
    with_password(page, live_server.url, customer, f"/my/bookings/{first.pk}/pay/", t["sign_in"])
    assert page.inner_text("#due") == "¥40.00"  # the best: 满50减10
    assert page.is_checked("input[name=coupon][value=auto]")
    page.check(f"input[name=coupon][value='{CouponClaim.objects.get(coupon=tenth).pk}']")
    page.wait_for_function("document.getElementById('due').textContent === '¥45.00'")
    page.check("#use-points")  # 1,000 points: ¥10 off, within half the price
    page.wait_for_function("document.getElementById('due').textContent === '¥35.00'")
    assert page.inner_text("#points-off") == "−¥10.00"
    shoot(page, f"customer-{language}-pay-choices")
    assert axe_violations(page) == []
    page.get_by_role("button", name=t["wallet"]).click()
    page.wait_for_url(re.compile(rf"/my/bookings/{first.pk}/\?paid=1"))
    assert wallet(customer.pk).available == 10_000 - 3500
    assert CouponClaim.objects.get(coupon=tenth).used_on_id == first.pk
    assert loyalty.points_balance(customer.pk) < 1000  # spent (and some earned back)

    # the second by the sandbox gateway: the best coupon left is 满50减10
    page.goto(f"{live_server.url}/my/bookings/{second.pk}/pay/")
    assert page.inner_text("#due") == "¥40.00"
    page.get_by_role("button", name=t["card"]).click()
    page.wait_for_url(re.compile(r"/my/payments/\w+/sandbox/"))
    shoot(page, f"customer-{language}-sandbox")
    page.get_by_role("button", name=t["sandbox_pay"], exact=True).click()
    page.wait_for_url(re.compile(rf"/my/bookings/{second.pk}/\?paying=1"))
    assert t["waiting"] in page.inner_text("#payment-state")
    run_worker()  # the sandbox's notification, over HTTP to the live server
    page.wait_for_function(
        f"document.getElementById('payment-state').textContent.includes({t['paid']!r})"
    )
    payment = Payment.objects.get(booking=second)
    assert (payment.gateway, payment.status, payment.amount_fen) == ("sandbox", "paid", 4000)
    assert Booking.objects.get(pk=second.pk).payment_status == "paid"
    assert wallet(customer.pk).available == 10_000 - 3500  # the card paid, not the wallet
    context.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_claim_a_coupon_and_top_up_with_a_plan(live_server, chromium, settings):
    """In Chinese: a coupon claimed from the wallet; ¥500 paid by the sandbox for the
    "pay ¥500, get ¥550" plan, the wallet waiting for the gateway's word, then ¥500 cash and
    ¥50 bonus."""
    from yuyue.billing.loyalty import bonus_account
    from yuyue.billing.models import TopUpPlan

    settings.YUYUE_PUBLIC_BASE_URL = live_server.url
    now = timezone.now()
    coupon = Coupon.objects.create(
        name="新客立减 5 元",
        kind="fixed",
        value_fen=500,
        total_limit=9,
        valid_from=now - dt.timedelta(hours=1),
        valid_until=now + dt.timedelta(days=9),
    )
    TopUpPlan.objects.create(name="五百送五十", pay_fen=50_000, bonus_fen=5_000)
    customer = make_user("Topper", password="s3cret-pass")
    context = chromium.new_context(viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    with_password(page, live_server.url, customer, "/my/wallet/", "登录")
    page.get_by_role("button", name="领取 新客立减 5 元").click()
    page.wait_for_url(re.compile(r"/my/wallet/#coupons"))
    assert "新客立减 5 元" in page.inner_text("#my-coupons")
    assert page.locator("#to-claim").count() == 0  # claimed: no longer offered
    assert CouponClaim.objects.get(customer=customer).coupon_id == coupon.pk
    assert page.is_checked("#top-up input[name=plan]")  # the plan, chosen first
    shoot(page, "customer-zh-wallet-top-up")
    assert axe_violations(page) == []
    page.get_by_role("button", name="使用银行卡（沙箱）支付").click()
    page.wait_for_url(re.compile(r"/my/payments/\w+/sandbox/"))
    page.get_by_role("button", name="支付 ¥500.00", exact=True).click()
    page.wait_for_url(re.compile(r"/my/wallet/\?topping="))
    run_worker()
    page.wait_for_function("document.getElementById('topping').textContent.includes('¥500.00')")
    page.reload()
    assert page.inner_text("#available").replace("\u200b", "") == "¥500.00"
    assert page.inner_text("#bonus") == "¥50.00"
    assert wallet(customer.pk).available == 50_000
    assert bonus_account(customer.pk).available == 5_000
    # an amount that is not one is refused, and nothing is started
    page.check("#top-up input[value=other]")
    page.fill("#amount", "1.234")
    page.get_by_role("button", name="使用银行卡（沙箱）支付").click()
    page.wait_for_selector("#wallet-error")
    assert Payment.objects.filter(customer=customer).count() == 1
    context.close()
