"""After-sales in Chromium: a customer asks for money back with a photo, the merchant answers on
its desk, an operator refunds half; the customer's case page shows the whole timeline."""

from __future__ import annotations

import re

import pytest
from PIL import Image

from tests.web.conftest import PHONE, axe_violations, loaded_width, shoot
from tests.web.test_customer_pages import with_password
from yuyue.billing.models import Refund
from yuyue.engagement.models import Case, CaseStatus


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_customer_asks_back_the_merchant_answers_the_operator_refunds_half(
    language,
    paid_order,
    customer,
    owner,
    operator,
    live_server,
    chromium,
    tmp_path,
):
    english = language == "en"
    t = {
        "sign_in": "Sign in" if english else "登录",
        "ask": "Ask for money back (after-sales)" if english else "申请售后退款",
        "send": "Send" if english else "提交",
        "answer": "Answer" if english else "回复",
    }
    photo = tmp_path / "stain.png"
    Image.new("RGB", (800, 600), (150, 120, 90)).save(photo)
    page = chromium.new_context(viewport=PHONE, locale="en-US" if english else "zh-CN").new_page()
    with_password(page, live_server.url, customer, f"/my/bookings/{paid_order.pk}/", t["sign_in"])
    page.get_by_role("link", name=t["ask"]).click()
    page.check("input[name=reason][value=quality]")
    page.fill("#c-text", "地毯上留下了污渍")
    page.fill("#c-amount", "60")
    page.set_input_files("#c-photos", str(photo))
    shoot(page, f"customer-{language}-case-new")
    assert axe_violations(page) == []
    page.get_by_role("button", name=t["send"], exact=True).click()
    page.wait_for_url(re.compile(r"/my/cases/\d+/$"))
    case = Case.objects.get(booking=paid_order)
    assert (case.amount_asked_fen, case.status, case.photos.count()) == (6000, "open", 1)

    desk = chromium.new_context(viewport=PHONE, locale="en-US").new_page()
    with_password(desk, live_server.url, owner, "/shop/cases/", "Sign in")
    assert loaded_width(desk, f"[data-case='{case.pk}'] img") > 0
    desk.fill(f"#answer-{case.pk}", "已安排上门清洗")
    desk.get_by_role("button", name="Answer").click()
    desk.wait_for_selector("#flash")
    shoot(desk, "merchant-en-cases")
    assert axe_violations(desk) == []

    ops = chromium.new_context(viewport=PHONE, locale="en-US").new_page()
    with_password(ops, live_server.url, operator, "/ops/cases/", "Sign in")
    ops.fill(f"#refund-{case.pk}", "30")
    ops.fill(f"#note-{case.pk}", "退一半，其余由上门清洗补偿")
    shoot(ops, "operator-en-cases")
    assert axe_violations(ops) == []
    ops.locator(f"[data-case='{case.pk}']").get_by_role("button", name="Refund", exact=True).click()
    ops.wait_for_selector("#flash")
    case.refresh_from_db()
    assert (case.status, case.refund_fen) == (CaseStatus.REFUNDED, 3000)
    assert [r.amount_fen for r in Refund.objects.filter(key=f"case:{case.pk}")] == [3000]

    page.reload()
    assert page.inner_text("#refunded") == "¥30.00"
    timeline = page.inner_text("#case-timeline")
    assert "已安排上门清洗" in timeline and "退一半" in timeline
    shoot(page, f"customer-{language}-case")
    assert axe_violations(page) == []
