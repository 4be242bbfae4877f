"""A customer's own profile through the API: name, avatar (any common picture becomes a 256-px
JPEG), saved addresses with one default, and moving the account to a new phone number proved by
a code sent to it. Bad input changes nothing."""

from __future__ import annotations

import io
import logging

import pytest
from django.db import IntegrityError, transaction
from PIL import Image

from tests.conftest import api_for, make_user
from yuyue.accounts import profile
from yuyue.accounts.models import Address, User
from yuyue.accounts.phones import normalize_phone, phone_index


def picture(fmt="PNG", size=(600, 400)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, fmt)
    return out.getvalue()


def test_name_and_avatar(customer):
    me = api_for(customer)
    client = me.client
    auth = {"Authorization": f"Bearer {me.token}"}
    status, body = me.patch("/api/auth/me", {"name": "陈小姐"})
    assert status == 200 and body["name"] == "陈小姐"
    status, problem = me.patch("/api/auth/me", {"name": "a\u0007b"})
    assert (status, problem["code"]) == (422, "invalid_input")
    assert User.objects.get(pk=customer.pk).name == "陈小姐"

    upload = io.BytesIO(picture())
    upload.name = "me.png"
    got = client.post("/api/auth/me/avatar", {"file": upload}, headers=auth)
    assert got.status_code == 200, got.content
    url = got.json()["url"]
    image = client.get(url)
    assert image.status_code == 200 and image["Content-Type"] == "image/jpeg"
    assert "immutable" in image["Cache-Control"]
    with Image.open(io.BytesIO(image.content)) as img:
        assert (img.format, img.size) == ("JPEG", (256, 256))
    # not a picture: refused, the avatar unchanged
    junk = io.BytesIO(b"not a picture at all")
    junk.name = "me.png"
    got = client.post("/api/auth/me/avatar", {"file": junk}, headers=auth)
    assert got.status_code == 422 and got.json()["code"] == "invalid_image"
    assert User.objects.get(pk=customer.pk).avatar_version == 1
    assert client.get(url).status_code == 200
    assert client.get(url.replace("/1.jpg", "/2.jpg")).status_code == 404


def test_addresses_have_one_default(customer, other_customer):
    me = api_for(customer)
    status, home = me.post("/api/auth/me/addresses", {"address": "1 Home Rd", "label": "家"})
    assert status == 201 and home["is_default"]  # the first is the default
    status, office = me.post(
        "/api/auth/me/addresses", {"address": "2 Office Rd", "lat": 31.2, "lng": 121.4}
    )
    assert status == 201 and not office["is_default"]
    status, office = me.post(f"/api/auth/me/addresses/{office['id']}/default")
    assert status == 200 and office["is_default"]
    listed = me.get("/api/auth/me/addresses")[1]
    assert [(a["address"], a["is_default"]) for a in listed] == [
        ("2 Office Rd", True),
        ("1 Home Rd", False),
    ]
    # bad input changes nothing
    for body, code in (
        ({"address": "  "}, "invalid_input"),  # the schema: some text
        ({"address": "x", "lat": 31.2}, "invalid_input"),
        ({"address": "x", "lat": 95.0, "lng": 1.0}, "invalid_input"),
    ):
        status, problem = me.post("/api/auth/me/addresses", body)
        assert problem["code"] == code, (body, problem)
    assert Address.objects.filter(user=customer).count() == 2
    # nobody touches another customer's address
    other = api_for(other_customer)
    assert other.post(f"/api/auth/me/addresses/{home['id']}/default")[0] == 404
    assert other.delete(f"/api/auth/me/addresses/{home['id']}")[0] == 404
    # deleting the default makes the other one the default
    assert me.delete(f"/api/auth/me/addresses/{office['id']}")[0] == 204
    assert Address.objects.get(user=customer).is_default
    # the database holds "one default" too
    with pytest.raises(IntegrityError), transaction.atomic():
        Address.objects.create(user=customer, address="3 Rd", is_default=True)


def test_at_most_twenty_addresses(customer):
    for i in range(profile.MAX_ADDRESSES):
        profile.save_address(actor=customer, address=f"{i} Rd")
    me = api_for(customer)
    status, problem = me.post("/api/auth/me/addresses", {"address": "one too many"})
    assert (status, problem["code"]) == (409, "too_many_addresses")


@pytest.fixture
def sent(caplog):
    caplog.set_level(logging.INFO, logger="yuyue.otp")
    return lambda: [r.getMessage() for r in caplog.records if r.name == "yuyue.otp"][-1].split()[-1]


def test_move_to_a_new_phone_with_its_code(customer, sent, django_capture_on_commit_callbacks):
    me = api_for(customer)
    taken = make_user("Someone")
    status, problem = me.post("/api/auth/me/phone/code", {"phone": taken.phone})
    assert (status, problem["code"]) == (409, "phone_taken")
    with django_capture_on_commit_callbacks(execute=True):
        assert me.post("/api/auth/me/phone/code", {"phone": "13912345678"})[0] == 202
    code = sent()
    wrong = "000000" if code != "000000" else "111111"
    status, problem = me.post("/api/auth/me/phone", {"phone": "13912345678", "code": wrong})
    assert (status, problem["code"]) == (401, "otp_invalid")
    assert User.objects.get(pk=customer.pk).phone_index != phone_index(
        normalize_phone("13912345678")
    )
    status, body = me.post("/api/auth/me/phone", {"phone": "13912345678", "code": code})
    assert status == 200, body
    fresh = User.objects.get(pk=customer.pk)
    assert fresh.phone_index == phone_index(normalize_phone("13912345678"))
    # the code is spent; the new number signs in, the old one no longer finds the account
    status, problem = me.post("/api/auth/me/phone", {"phone": "13912345678", "code": code})
    assert problem["code"] == "otp_invalid"
    assert not User.objects.filter(phone_index=customer.phone_index).exists()
