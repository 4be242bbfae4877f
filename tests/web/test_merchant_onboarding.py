"""Becoming a merchant, in Chromium: a person applies with a licence photo, an operator rejects
with a reason, the person reads it and sends again, the operator approves; the new owner sets up
the store page (announcement, opening hours, logo, a photo, a hall) and customers see it. The
operator's withdrawals page decides with who asks in view; outsiders reach none of it."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from PIL import Image

from tests.conftest import make_user
from tests.web.conftest import PHONE, axe_violations, loaded_width, shoot
from tests.web.test_customer_pages import with_password
from yuyue.accounts.models import MerchantStaff, StaffRole
from yuyue.catalog.geocoding import wgs_to_gcj
from yuyue.catalog.models import Hall, Merchant, MerchantApplication
from yuyue.core.geo import haversine_km
from yuyue.notifications.models import Notice


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_merchant_applies_is_rejected_sends_again_is_approved_and_opens_the_store(
    language, live_server, chromium, operator, tmp_path, amap
):
    english = language == "en"
    t = {
        "sign_in": "Sign in" if english else "登录",
        "send": "Send the application" if english else "提交申请",
        "approve": "Approve" if english else "通过",
        "reject": "Reject" if english else "驳回",
        "save_store": "Save the store" if english else "保存店铺",
        "upload": "Upload" if english else "上传",
        "add_hall": "Add the hall" if english else "添加服务厅",
        "find": "Find this address on the map" if english else "在地图上查找此地址",
    }
    licence, logo, photo = (tmp_path / n for n in ("licence.png", "logo.png", "photo.png"))
    Image.new("RGB", (1200, 850), (240, 230, 200)).save(licence)
    Image.new("RGB", (400, 300), (20, 90, 200)).save(logo)
    Image.new("RGB", (1000, 700), (120, 160, 120)).save(photo)
    person = make_user(f"Boss Tang {language}")
    context = chromium.new_context(viewport=PHONE, locale="en-US" if english else "zh-CN")
    page = context.new_page()
    with_password(page, live_server.url, person, "/shop/apply/", t["sign_in"])
    page.fill("#a-business", f"Tang Beauty 唐美 {language}")
    page.fill("#a-contact", "Tang")
    page.fill("#a-phone", "13800001234")
    page.fill("#a-address", "淮海中路 1 号")
    # the place found on the map from the address (AMap's service, its answer back in WGS-84)
    page.get_by_role("button", name=t["find"]).click()
    page.wait_for_function("document.getElementById('lat').value !== ''")
    assert "上海市黄浦区淮海中路1号" in page.inner_text("#place-found")
    found = (float(page.input_value("#lat")), float(page.input_value("#lng")))
    assert haversine_km(*wgs_to_gcj(*found), 31.2181, 121.4745) < 0.001
    shoot(page, f"merchant-{language}-apply-found")
    assert axe_violations(page) == []
    page.set_input_files("#a-licence", str(licence))
    page.get_by_role("button", name=t["send"]).click()
    page.wait_for_selector("#state[data-status=pending]")
    application = MerchantApplication.objects.get(applicant=person)
    assert (application.lat, application.lng) == found
    shoot(page, f"merchant-{language}-apply-pending")
    assert axe_violations(page) == []

    ops = chromium.new_context(viewport=PHONE, locale="en-US").new_page()
    with_password(
        ops, live_server.url, operator, f"/ops/merchant-applications/{application.pk}/", "Sign in"
    )
    assert loaded_width(ops, "img.document") > 0  # the licence
    ops.get_by_role("button", name="Reject").click()  # no reason: refused
    ops.wait_for_selector("#flash")
    ops.fill("#reason", "The licence photo is cut off: send all of it")
    ops.get_by_role("button", name="Reject").click()
    ops.wait_for_url(re.compile(r"/ops/merchant-applications/$"))
    page.reload()
    assert "The licence photo is cut off" in page.inner_text("#reason")
    assert page.input_value("#a-business") == f"Tang Beauty 唐美 {language}"  # kept to send again
    page.set_input_files("#a-licence", str(licence))
    page.get_by_role("button", name=t["send"]).click()
    page.wait_for_selector("#state[data-status=pending]")
    ops.goto(f"{live_server.url}/ops/merchant-applications/{application.pk}/")
    shoot(ops, "operator-en-merchant-application")
    assert axe_violations(ops) == []
    ops.get_by_role("button", name="Approve").click()
    ops.wait_for_url(re.compile(r"/ops/merchant-applications/$"))
    application.refresh_from_db()
    merchant = application.merchant
    assert merchant.status == "active" and application.rounds == 2
    assert MerchantStaff.objects.get(merchant=merchant).user == person
    assert MerchantStaff.objects.get(merchant=merchant).role == StaffRole.OWNER
    assert Notice.objects.filter(user=person, kind="merchant_application.approved").exists()

    page.goto(f"{live_server.url}/shop/store/")
    page.fill("#st-announcement", "国庆期间照常营业")
    page.fill("#st-introduction", "Skin care and massage since 2010.")
    for day in (5, 6):
        page.uncheck(f"input[name=opens-{day}]")
    page.check("input[name=opens-0]")
    page.fill("#open-0", "10:00")
    page.fill("#close-0", "20:00")
    page.get_by_role("button", name=t["save_store"]).click()
    page.wait_for_selector("#flash")
    page.set_input_files("#logo", str(logo))
    page.set_input_files("#photos", str(photo))
    page.get_by_role("button", name=t["upload"]).click()
    page.wait_for_selector("#flash")
    page.fill("#h-name", "Room 1")
    page.get_by_role("button", name=t["add_hall"]).click()
    page.wait_for_selector("#flash")
    merchant.refresh_from_db()
    assert merchant.opening_hours[0] == {"weekday": 0, "open": "10:00", "close": "20:00"}
    assert [h["weekday"] for h in merchant.opening_hours] == [0]  # only Monday ticked
    assert merchant.logo and merchant.photos.count() == 1
    assert Hall.objects.filter(merchant=merchant, name="Room 1").exists()
    shoot(page, f"merchant-{language}-store")
    assert axe_violations(page) == []

    page.goto(f"{live_server.url}/merchants/{merchant.slug}/")
    assert page.inner_text("#announcement") == "国庆期间照常营业"
    assert "10:00–20:00" in page.inner_text("#opening-hours")
    assert loaded_width(page, "#store-photos img") > 0
    shoot(page, f"customer-{language}-store-page")
    assert axe_violations(page) == []


@pytest.mark.django_db
def test_only_operators_review_and_the_licence_is_not_public(customer, owner, merchant):
    import io

    from yuyue.catalog.onboarding import submit_merchant_application

    buf = io.BytesIO()
    Image.new("RGB", (300, 200), "white").save(buf, "PNG")
    application = submit_merchant_application(
        actor=customer,
        business_name="Shop",
        contact_name="C",
        contact_phone="13800001235",
        address="1 Rd",
        lat=31.2,
        lng=121.4,
        licence=buf.getvalue(),
    )
    for who in (owner, customer):
        c = Client()
        c.force_login(who)
        assert c.get("/ops/").status_code == 403
        assert c.get(f"/ops/merchant-applications/{application.pk}/licence.jpg").status_code == 403
        c.post(f"/ops/merchant-applications/{application.pk}/", {"decision": "approve"})
    application.refresh_from_db()
    assert application.status == "pending" and Merchant.objects.count() == 1
    other = Client()
    other.force_login(owner)
    assert other.get("/shop/apply/licence.jpg").status_code == 404  # not theirs to see
    mine = Client()
    mine.force_login(customer)
    assert mine.get("/shop/apply/licence.jpg").status_code == 200
    # a picture that is not a picture stores nothing
    from yuyue.core.errors import DomainError

    with pytest.raises(DomainError) as err:
        submit_merchant_application(
            actor=owner,
            business_name="X",
            contact_name="C",
            contact_phone="13800001236",
            address="1 Rd",
            lat=31.2,
            lng=121.4,
            licence=b"%PDF-1.4 not an image",
        )
    assert err.value.code == "invalid_image"
    assert not MerchantApplication.objects.filter(applicant=owner).exists()
