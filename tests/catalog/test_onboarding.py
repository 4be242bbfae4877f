"""Becoming a provider: apply with a real name, ID number, skills, area and pictures of the
documents (checked, cleaned of metadata, stored through the storage API); rejected with a
reason, sent again, approved into a verified provider. Bad pictures are refused with a code and
nothing is stored; only operators and the merchant's owner or managers review; a real-name
service is reached over HTTP where one is set."""

from __future__ import annotations

import io
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from PIL import Image

from tests.conftest import make_user
from yuyue.accounts.models import (
    ApplicationDocument,
    MerchantStaff,
    Provider,
    ProviderApplication,
    StaffRole,
)
from yuyue.catalog import onboarding
from yuyue.catalog.models import Merchant, MerchantStatus
from yuyue.core.errors import DomainError

GOOD_ID = "11010519491231002X"


def picture(size=(800, 600), gps=False, fmt="JPEG") -> bytes:
    img = Image.new("RGB", size, (10, 120, 60))
    out = io.BytesIO()
    if gps:
        exif = Image.Exif()
        exif[0x010F] = "PhoneMaker"  # Make
        exif[0x8825] = {2: (31.0, 13.0, 50.0)}  # GPSInfo: latitude
        img.save(out, fmt, exif=exif)
    else:
        img.save(out, fmt)
    return out.getvalue()


def apply(user, onsite_service, documents=None, **extra):
    return onboarding.submit_application(
        actor=user,
        real_name="王芳",
        id_number=GOOD_ID,
        service_ids=[onsite_service.pk],
        lat=31.23,
        lng=121.47,
        radius_km=8,
        price_fen=15000,
        documents=documents
        or [("photo", picture()), ("id_front", picture(gps=True)), ("health", picture())],
        **extra,
    )


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def test_apply_reject_resubmit_approve(media, onsite_service, operator):
    applicant = make_user("Applicant Wang")
    app = apply(applicant, onsite_service)
    assert app.status == "pending" and app.id_number == GOOD_ID
    assert "format" in app.real_name_note  # the default verifier says what it checked
    stored = ApplicationDocument.objects.get(application=app, kind="id_front")
    with stored.file.open("rb") as f, Image.open(f) as img:
        assert img.format == "JPEG" and not img.getexif()  # the phone's GPS position is gone
    with pytest.raises(DomainError) as refused:
        apply(applicant, onsite_service)  # waiting for a review: not sent twice
    assert refused.value.code == "application_not_pending"
    with pytest.raises(DomainError) as refused:
        onboarding.review_application(actor=operator, application_id=app.pk, approve=False)
    assert refused.value.code == "invalid_input"  # a rejection says why
    onboarding.review_application(
        actor=operator, application_id=app.pk, approve=False, reason="健康证照片看不清"
    )
    app.refresh_from_db()
    assert (app.status, app.reason) == ("rejected", "健康证照片看不清")
    again = apply(applicant, onsite_service)
    assert (again.pk, again.status, again.rounds, again.reason) == (app.pk, "pending", 2, "")
    onboarding.review_application(actor=operator, application_id=app.pk, approve=True)
    provider = Provider.objects.get(user=applicant)
    assert provider.verified and provider.service_radius_km == 8 and provider.price_fen == 15000
    assert list(provider.services.values_list("pk", flat=True)) == [onsite_service.pk]
    assert provider.credentials.filter(verified=True).count() == 1  # the health certificate
    with pytest.raises(DomainError) as refused:
        onboarding.review_application(actor=operator, application_id=app.pk, approve=True)
    assert refused.value.code == "application_not_pending"


def bomb() -> bytes:
    """A PNG that says it is 10,000 × 10,000 pixels: tiny on disk, 100 million pixels decoded."""
    img = Image.new("1", (10_000, 10_000))
    out = io.BytesIO()
    img.save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize(
    "data, code",
    [
        (b"%PDF-1.4 not a picture", "invalid_image"),
        (b"", "invalid_image"),
        (b"\xff\xd8\xff" + b"0" * (onboarding.MAX_DOCUMENT_BYTES + 1), "image_too_large"),
        (bomb(), "image_too_big"),
    ],
)
def test_bad_pictures_are_refused_and_nothing_is_stored(media, onsite_service, data, code):
    applicant = make_user("Applicant Li")
    documents = [("photo", picture()), ("id_front", data)]
    with pytest.raises(DomainError) as refused:
        apply(applicant, onsite_service, documents=documents)
    assert refused.value.code == code
    assert not ProviderApplication.objects.exists() and not ApplicationDocument.objects.exists()
    assert not media.exists() or not any(media.rglob("*.jpg"))


def test_who_reviews(media, onsite_service, merchant, operator):
    app = apply(make_user("Applicant Zhao"), onsite_service, merchant_id=merchant.pk)
    other = Merchant.objects.create(name="Other", slug="other", status=MerchantStatus.ACTIVE)
    stranger_manager, manager, customer = make_user("M2"), make_user("M1"), make_user("C")
    MerchantStaff.objects.create(user=stranger_manager, merchant=other, role=StaffRole.MANAGER)
    MerchantStaff.objects.create(user=manager, merchant=merchant, role=StaffRole.MANAGER)
    for actor in (customer, stranger_manager):
        with pytest.raises(DomainError) as refused:
            onboarding.review_application(actor=actor, application_id=app.pk, approve=True)
        assert refused.value.code == "forbidden"
    assert list(onboarding.reviewable(stranger_manager)) == []
    assert list(onboarding.reviewable(manager)) == [app]
    onboarding.review_application(actor=manager, application_id=app.pk, approve=True)
    assert Provider.objects.get(user=app.user).merchant_id == merchant.pk


class RealNameService(BaseHTTPRequestHandler):
    """A local real-name register: only 王芳 with GOOD_ID matches."""

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        ok = self.path == "/verify" and (body["name"], body["id_number"]) == ("王芳", GOOD_ID)
        data = json.dumps({"match": ok, "note": "register consulted"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def test_a_real_name_service_is_asked_over_http(media, onsite_service, settings):
    server = HTTPServer(("127.0.0.1", 0), RealNameService)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.YUYUE_REALNAME_VERIFIER = "yuyue.accounts.realname.HttpVerifier"
    settings.YUYUE_REALNAME_BASE_URL = f"http://127.0.0.1:{server.server_port}"
    try:
        app = apply(make_user("Applicant Wang"), onsite_service)
        assert app.real_name_note == "register consulted"
        with pytest.raises(DomainError) as refused:
            onboarding.submit_application(
                actor=make_user("Impostor"),
                real_name="李四",
                id_number=GOOD_ID,
                service_ids=[onsite_service.pk],
                lat=31.2,
                lng=121.4,
                radius_km=5,
                documents=[("photo", picture()), ("id_front", picture())],
            )
        assert refused.value.code == "real_name_mismatch"
    finally:
        server.shutdown()
