"""The check-in QR code scans: a standard QR (not a Micro QR, which common phone scanners do not
read), read back by a real decoder (zxing-cpp) from the PNG and from the SVG as Chromium draws it
inside an <img>, the way a page shows it."""

from __future__ import annotations

import base64
import io

import pytest
import zxingcpp
from django.test import Client
from PIL import Image

from yuyue.core.codes import new_checkin_code

from .conftest import PHONE, loaded_width


def _decode(png: bytes) -> list:
    return zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))


def test_the_png_is_a_standard_qr_that_decodes_to_the_code(db):
    code = new_checkin_code()
    response = Client().get(f"/bookings/{code}/qr.png")
    assert (response.status_code, response["Content-Type"]) == (200, "image/png")
    [found] = _decode(response.content)
    assert found.text == code
    assert found.format == zxingcpp.BarcodeFormat.QRCode  # not MicroQRCode


@pytest.mark.browser
def test_the_svg_shows_in_an_img_and_scans(db, chromium):
    code = new_checkin_code()
    response = Client().get(f"/bookings/{code}/qr.svg")
    assert (response.status_code, response["Content-Type"]) == (200, "image/svg+xml")
    assert b'xmlns="http://www.w3.org/2000/svg"' in response.content
    page = chromium.new_page(viewport=PHONE)
    data = base64.b64encode(response.content).decode()
    page.set_content(
        f'<body style="margin:0;background:#fff"><img id="qr" src="data:image/svg+xml;base64,'
        f'{data}" style="width:280px;height:280px"></body>'
    )
    page.wait_for_function("document.getElementById('qr').complete")
    assert loaded_width(page, "#qr") > 0  # it rendered
    [found] = _decode(page.locator("#qr").screenshot())
    assert found.text == code
    assert found.format == zxingcpp.BarcodeFormat.QRCode


def test_made_up_codes_get_no_image(db):
    assert Client().get("/bookings/not-a-code/qr.png").status_code == 404
