"""The customer's profile page in Chromium at phone size, in Chinese: name, picture, saved
addresses (the default fills an order's address, and a pinned one stands for the browser's
location), moving the account to a new phone number with the code sent to it, signing out."""

from __future__ import annotations

import re

import pytest
from PIL import Image

from tests.conftest import make_user
from tests.web.conftest import PHONE, axe_violations, loaded_width, shoot
from tests.web.test_customer_pages import Inbox, with_password
from yuyue.accounts.models import Address, User
from yuyue.accounts.phones import normalize_phone, phone_index
from yuyue.catalog.models import Merchant, MerchantStatus, Service

HOME = (31.2304, 121.4737)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_profile_name_picture_addresses_phone(live_server, chromium, settings, tmp_path):
    settings.YUYUE_OTP_SENDER = "tests.web.test_customer_pages.Inbox"
    Inbox.codes.clear()
    merchant = Merchant.objects.create(
        name="到家 Daojia", slug="daojia", status=MerchantStatus.ACTIVE
    )
    cleaning = Service.objects.create(
        merchant=merchant,
        name="Cleaning",
        kind="on_site",
        duration_minutes=120,
        base_price_fen=9900,
    )
    customer = make_user("", password="s3cret-pass")
    png = tmp_path / "me.png"
    Image.new("RGB", (640, 480), (20, 120, 200)).save(png)
    context = chromium.new_context(
        viewport=PHONE,
        locale="zh-CN",
        geolocation={"latitude": HOME[0], "longitude": HOME[1]},
        permissions=["geolocation"],
    )
    page = context.new_page()
    with_password(page, live_server.url, customer, "/my/profile/", "登录")
    page.fill("#name", "陈小姐")
    page.get_by_role("button", name="保存姓名").click()
    page.wait_for_selector("#profile-ok")
    assert User.objects.get(pk=customer.pk).name == "陈小姐"
    page.set_input_files("#avatar-file", str(png))
    page.get_by_role("button", name="保存头像").click()
    page.wait_for_selector("#avatar")
    assert loaded_width(page, "#avatar") == 256

    # two addresses: home pinned where the browser is, then the office made the default
    page.fill("#label", "家")
    page.fill("#address", "长宁区愚园路 1000 号")
    page.get_by_role("button", name="把它定位在我现在的位置").click()
    page.wait_for_selector("#pinned:not([hidden])")
    page.get_by_role("button", name="保存地址").click()
    page.wait_for_selector("#profile-ok")
    page.fill("#label", "公司")
    page.fill("#address", "浦东新区世纪大道 100 号")
    page.get_by_role("button", name="保存地址").click()
    page.wait_for_selector("#profile-ok")
    home = Address.objects.get(user=customer, label="家")
    assert home.is_default and (round(home.lat, 4), round(home.lng, 4)) == HOME
    page.get_by_role("button", name="设为默认：浦东新区世纪大道 100 号").click()
    page.wait_for_url(re.compile(r"/my/profile/$"))
    assert Address.objects.get(is_default=True, user=customer).label == "公司"
    shoot(page, "customer-zh-profile")
    assert axe_violations(page) == []
    page.get_by_role("button", name="删除：浦东新区世纪大道 100 号").click()
    page.wait_for_url(re.compile(r"/my/profile/$"))
    assert Address.objects.get(user=customer).is_default  # home is the default again

    # the default address is the order's: where to come and what to write
    page.goto(f"{live_server.url}/services/{cleaning.pk}/")
    page.locator("#use-saved").click()
    page.wait_for_url(re.compile(r"lat=31\.2304"))
    assert page.input_value("#address") == "长宁区愚园路 1000 号"

    # a new phone number, proved by its code
    page.goto(f"{live_server.url}/my/profile/")
    page.fill("#new-phone", "13987654321")
    page.get_by_role("button", name="向新号码发送验证码").click()
    page.wait_for_selector("#code")
    page.fill("#code", Inbox.codes["+8613987654321"])
    page.get_by_role("button", name="更换手机号").click()
    page.wait_for_selector("#profile-ok")
    fresh = User.objects.get(pk=customer.pk)
    assert fresh.phone_index == phone_index(normalize_phone("13987654321"))
    assert "4321" in page.inner_text("#my-phone")
    page.get_by_role("button", name="退出").click()
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("#me").count() == 0
    context.close()
