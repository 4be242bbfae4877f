"""A store's and a service's pictures: cleaned, at most nine each, removed by their merchant's
managers only."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from yuyue.catalog import store
from yuyue.catalog.models import MerchantPhoto, ServicePhoto
from yuyue.core.errors import DomainError

pytestmark = pytest.mark.django_db


def picture() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 200, 90)).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize("kind", ["store", "service"])
def test_at_most_nine_pictures_and_only_managers_remove_them(
    kind, owner, clerk, merchant, hall_service
):
    add, remove, subject = (
        (store.add_photo, store.remove_photo, {"merchant": merchant})
        if kind == "store"
        else (store.add_service_photo, store.remove_service_photo, {"service": hall_service})
    )
    photos = [add(actor=owner, data=picture(), **subject) for _ in range(9)]
    assert [p.position for p in photos] == list(range(9))
    with pytest.raises(DomainError) as err:
        add(actor=owner, data=picture(), **subject)
    assert err.value.code == "too_many_photos"
    with pytest.raises(DomainError) as err:
        remove(actor=clerk, photo_id=photos[0].pk, **subject)
    assert err.value.code == "forbidden"
    remove(actor=owner, photo_id=photos[0].pk, **subject)
    model = MerchantPhoto if kind == "store" else ServicePhoto
    assert model.objects.count() == 8
    with pytest.raises(DomainError) as err:
        remove(actor=owner, photo_id=photos[0].pk, **subject)
    assert err.value.code == "not_found"
