"""An address found on the map through AMap's geocoding protocol (served locally): the point comes
back in WGS-84 (AMap answers in GCJ-02, about 500 m off in Shanghai); an address it does not know,
a wrong key, a service that does not answer and a platform with no key each say so."""

from __future__ import annotations

import pytest

from tests.conftest import make_user
from yuyue.catalog.geocoding import gcj_to_wgs, geocode, wgs_to_gcj
from yuyue.core.errors import DomainError
from yuyue.core.geo import haversine_km


def test_the_offset_and_its_inverse():
    bund = (31.2400, 121.4900)
    shifted = wgs_to_gcj(*bund)
    assert 0.3 < haversine_km(*bund, *shifted) < 0.8  # GCJ-02's offset in Shanghai
    back = gcj_to_wgs(*shifted)
    assert haversine_km(*bund, *back) < 0.001  # under a metre
    assert gcj_to_wgs(51.5, -0.12) == (51.5, -0.12)  # London: no offset outside China


def test_an_address_is_found_and_converted(amap):
    place = geocode("淮海中路 1 号", city="上海")
    assert place["formatted"] == "上海市黄浦区淮海中路1号"
    assert (place["lat"], place["lng"]) != (31.2181, 121.4745)  # not AMap's GCJ-02 as it came
    assert haversine_km(*wgs_to_gcj(place["lat"], place["lng"]), 31.2181, 121.4745) < 0.001


def test_what_goes_wrong_is_said(amap, settings):
    with pytest.raises(DomainError) as refused:
        geocode("月球背面 1 号")
    assert refused.value.code == "address_not_found"
    with pytest.raises(DomainError) as refused:
        geocode("   ")
    assert refused.value.code == "address_not_found"
    settings.AMAP_KEY = "wrong"
    with pytest.raises(DomainError) as refused:
        geocode("淮海中路 1 号")
    assert refused.value.code == "geocoding_unavailable"
    settings.AMAP_API_BASE = "http://127.0.0.1:9"  # nothing listens
    with pytest.raises(DomainError) as refused:
        geocode("淮海中路 1 号")
    assert refused.value.code == "geocoding_unavailable"
    settings.AMAP_KEY = ""
    with pytest.raises(DomainError) as refused:
        geocode("淮海中路 1 号")
    assert refused.value.code == "geocoding_not_configured"


@pytest.mark.django_db
def test_the_pages_ask_through_the_platform_signed_in_only(amap, client):
    assert client.get("/places/find/?address=淮海中路").status_code == 302  # to sign in
    client.force_login(make_user("Boss"))
    answer = client.get("/places/find/?address=淮海中路 1 号")
    assert answer.status_code == 200 and answer.json()["formatted"] == "上海市黄浦区淮海中路1号"
    answer = client.get("/places/find/?address=nowhere", HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 422 and answer.json()["code"] == "address_not_found"
