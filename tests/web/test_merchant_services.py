"""The merchant's services in Chromium: the owner makes a service, builds its booking form
field by field, and sets a holiday rate whose quotes are previewed as typed (right, as the
customer's quote later says) before saving; wrong rules are refused whole with a clear code."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from PIL import Image

from tests.web.conftest import PHONE, axe_violations, loaded_width, shoot
from tests.web.test_customer_pages import with_password
from yuyue.catalog.models import FormField, Service
from yuyue.core.errors import DomainError
from yuyue.core.timeutil import local_dt, zone
from yuyue.pricing import rules
from yuyue.pricing.models import DayKind, PublicDay
from yuyue.pricing.prices import price


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_owner_makes_a_service_with_a_form_and_a_holiday_rate(
    language, live_server, chromium, owner, merchant, tmp_path
):
    english = language == "en"
    tz = zone(merchant.timezone)
    holiday = timezone.now().astimezone(tz).date() + dt.timedelta(days=10)
    PublicDay.objects.create(date=holiday, kind=DayKind.HOLIDAY, name="Test day")
    t = {
        "make": "Make the service" if english else "创建服务",
        "form": "Booking form" if english else "预约表单",
        "save_form": "Save the form" if english else "保存表单",
        "rules": "Prices and refunds" if english else "价格和退款",
        "save_rules": "Save the rules" if english else "保存规则",
    }
    page = chromium.new_context(viewport=PHONE, locale="en-US" if english else "zh-CN").new_page()
    with_password(page, live_server.url, owner, "/shop/services/", "Sign in" if english else "登录")
    page.fill("#n-name", "Passport photo 证件照")
    page.fill("#n-duration", "15")
    page.fill("#n-price", "50")
    page.get_by_role("button", name=t["make"]).click()
    page.wait_for_url(re.compile(r"/shop/services/\d+/$"))
    service = Service.objects.get(name="Passport photo 证件照")
    assert (service.kind, service.duration_minutes, service.base_price_fen) == (
        "hall_slot",
        15,
        5000,
    )

    picture = tmp_path / "photo.png"
    Image.new("RGB", (900, 600), (200, 170, 120)).save(picture)
    page.set_input_files("#sp-photos", str(picture))
    page.get_by_role("button", name="Upload" if english else "上传").click()
    page.wait_for_selector("#flash")
    assert service.photos.count() == 1
    page.get_by_role("link", name=t["form"]).click()
    page.fill("#label-0", "Full name")
    page.fill("#label-1", "ID card")
    page.select_option("#type-1", "id_number")
    page.fill("#label-2", "Size")
    page.select_option("#type-2", "choice")
    page.fill("#choices-2", "1 inch, 2 inch")
    page.uncheck("input[name=required-2]")
    page.fill("#order-2", "0")  # asked first
    page.get_by_role("button", name=t["save_form"]).click()
    page.wait_for_selector("#flash")
    fields = list(FormField.objects.filter(service=service).order_by("position"))
    assert [(f.label, f.type, f.required) for f in fields] == [
        ("Size", "choice", False),
        ("Full name", "text", True),
        ("ID card", "id_number", True),
    ]
    assert fields[0].choices == ["1 inch", "2 inch"]
    shoot(page, f"merchant-{language}-service-form")
    assert axe_violations(page) == []

    page.get_by_role("link", name=t["rules"]).click()
    assert page.locator("[data-quote=holiday] .total").inner_text() == "¥50.00"
    page.fill("#holiday_percent", "50")
    page.wait_for_function(
        "document.querySelector('[data-quote=holiday] .total').innerText === '¥75.00'"
    )
    assert page.locator("[data-quote=workday] .total").inner_text() == "¥50.00"
    assert service.pricing == {}  # only previewed, not saved yet
    page.fill("#weekend_percent", "400")  # beyond the bounds: the preview says so
    page.wait_for_selector("#quote-error")
    page.fill("#weekend_percent", "10")
    page.wait_for_function("!document.querySelector('#quote-error')")
    shoot(page, f"merchant-{language}-service-rules")
    assert axe_violations(page) == []
    page.get_by_role("button", name=t["save_rules"]).click()
    page.wait_for_selector("#flash")
    service.refresh_from_db()
    assert service.pricing == {"holiday_percent": 50, "weekend_percent": 10}
    total, lines = price(service, starts_at=local_dt(holiday, dt.time(10), tz))
    assert total == 7500 and [line["item"] for line in lines] == ["base", "holiday"]
    page.goto(f"{live_server.url}/services/{service.pk}/")  # what customers see
    assert loaded_width(page, "#service-photos img") == 900


@pytest.mark.django_db
def test_rules_are_checked_whole(owner, clerk, merchant, onsite_service):
    for bad, code in (
        ({"peak": [{"start": "21:00", "end": "18:00", "percent": 20}]}, "invalid_hours"),
        ({"peak": [{"start": "18:00", "end": "21:00", "percent": 0}]}, "invalid_rules"),
        ({"weekend_percent": 301}, "invalid_rules"),
        ({"holiday_percent": True}, "invalid_rules"),
        ({"free_km": -1}, "invalid_rules"),
        ([], "invalid_rules"),
    ):
        with pytest.raises(DomainError) as err:
            rules.set_service_rules(
                actor=owner, service=onsite_service, pricing=bad, refund_rules=None
            )
        assert err.value.code == code, bad
    with pytest.raises(DomainError) as err:
        rules.set_service_rules(
            actor=owner, service=onsite_service, pricing=None, refund_rules={"fee_percent": 101}
        )
    assert err.value.code == "invalid_rules"
    with pytest.raises(DomainError) as err:
        rules.set_service_rules(actor=clerk, service=onsite_service, pricing={}, refund_rules={})
    assert err.value.code == "forbidden"
    onsite_service.refresh_from_db()
    assert onsite_service.pricing == {} and onsite_service.refund_rules == {}
    saved = rules.set_service_rules(
        actor=owner,
        service=onsite_service,
        pricing={
            "peak": [{"start": "18:00", "end": "21:00:00", "percent": 20}],
            "per_km_fen": 200,
            "free_km": 3,
        },
        refund_rules={"free_hours": 24, "fee_percent": 20},
    )
    assert saved.pricing == {
        "peak": [{"start": "18:00", "end": "21:00", "percent": 20}],
        "per_km_fen": 200,
        "free_km": 3,
    }


@pytest.mark.django_db
def test_operators_offer_and_retire_top_up_plans(operator, owner):
    from django.test import Client

    from yuyue.billing.models import TopUpPlan

    page = Client()
    page.force_login(operator)
    page.post("/ops/top-up-plans/", {"name": "充 500 送 50", "pay": "500", "bonus": "50"})
    page.post("/ops/top-up-plans/", {"name": "Typo", "pay": "100", "bonus": "200"})  # refused
    plan = TopUpPlan.objects.get()
    assert (plan.pay_fen, plan.bonus_fen, plan.active) == (50000, 5000, True)
    page.post("/ops/top-up-plans/", {"plan": plan.pk, "active": "0"})
    plan.refresh_from_db()
    assert not plan.active
    other = Client()
    other.force_login(owner)
    assert other.get("/ops/top-up-plans/").status_code == 403
