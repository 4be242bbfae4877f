"""A customer's own profile: name, avatar, saved addresses (one the default) and changing the
phone number (proved by a one-time code sent to the new number). The pages and the API call
these; every change is audited."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F

from yuyue.core.audit import audit
from yuyue.core.errors import DomainError
from yuyue.core.images import clean_image
from yuyue.core.throttle import take

from .models import Address, User
from .phones import normalize_phone, phone_index
from .services import _checked_code, send_login_code, use_code

MAX_ADDRESSES = 20
MAX_AVATAR_BYTES = 5 * 1024 * 1024
AVATAR_PX = 256


def masked_name(name: str) -> str:
    """A customer's name as a provider sees it: the first character only (陈小姐 → 陈**)."""
    name = (name or "").strip()
    return name[:1] + "*" * min(2, max(0, len(name) - 1)) if name else ""


def _me(actor) -> User:
    if not getattr(actor, "pk", None):
        raise DomainError("auth_required")
    return actor


def set_name(*, actor, name: str) -> User:
    user = _me(actor)
    name = (name or "").strip()
    if len(name) > 100 or any(ord(ch) < 32 for ch in name):
        raise DomainError("invalid_input", "A name is at most 100 characters of text.")
    User.objects.filter(pk=user.pk).update(name=name)
    user.name = name
    audit(user, "profile.name", user)
    return user


def set_avatar(*, actor, data: bytes) -> User:
    """Any common picture (JPEG, PNG, WebP, GIF) up to 5 MB becomes a square 256-px JPEG."""
    user = _me(actor)
    jpeg = clean_image(data, max_bytes=MAX_AVATAR_BYTES, square=AVATAR_PX)
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(avatar=jpeg, avatar_version=F("avatar_version") + 1)
        audit(user, "profile.avatar", user, bytes=len(jpeg))
    user.refresh_from_db(fields=["avatar", "avatar_version"])
    return user


# --- addresses ---------------------------------------------------------------------------------


def my_addresses(*, actor) -> list[Address]:
    return list(Address.objects.filter(user=_me(actor)))


def default_address(user) -> Address | None:
    if not getattr(user, "pk", None):
        return None
    return Address.objects.filter(user=user, is_default=True).first()


def _point(lat, lng) -> tuple[float | None, float | None]:
    if (lat is None) != (lng is None):
        raise DomainError("invalid_input", "Give both lat and lng, or neither.")
    if lat is not None and not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise DomainError("invalid_input", "lat is -90 to 90, lng -180 to 180.")
    return lat, lng


def save_address(
    *,
    actor,
    address: str,
    label: str = "",
    lat: float | None = None,
    lng: float | None = None,
    default: bool = False,
) -> Address:
    """Save an address; the first one, or one saved as the default, becomes the default."""
    user = _me(actor)
    address, label = (address or "").strip(), (label or "").strip()
    if not address:
        raise DomainError("address_required")
    if len(address) > 300 or len(label) > 30:
        raise DomainError("invalid_input", "An address is at most 300 characters, a label 30.")
    lat, lng = _point(lat, lng)
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()  # one change at a time
        count = Address.objects.filter(user=user).count()
        if count >= MAX_ADDRESSES:
            raise DomainError("too_many_addresses", max=MAX_ADDRESSES)
        default = default or count == 0
        if default:
            Address.objects.filter(user=user, is_default=True).update(is_default=False)
        saved = Address.objects.create(
            user=user, label=label, address=address, lat=lat, lng=lng, is_default=default
        )
        audit(user, "address.save", saved)
    return saved


def make_default(*, actor, address_id: int) -> Address:
    user = _me(actor)
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        chosen = Address.objects.filter(pk=address_id, user=user).first()
        if chosen is None:
            raise DomainError("not_found")
        Address.objects.filter(user=user, is_default=True).update(is_default=False)
        Address.objects.filter(pk=chosen.pk).update(is_default=True)
        audit(user, "address.default", chosen)
    chosen.is_default = True
    return chosen


def delete_address(*, actor, address_id: int) -> None:
    """Forget an address; if it was the default, the newest other one becomes the default."""
    user = _me(actor)
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()
        gone = Address.objects.filter(pk=address_id, user=user).first()
        if gone is None:
            raise DomainError("not_found")
        gone.delete()
        if gone.is_default:
            nxt = Address.objects.filter(user=user).order_by("-created_at").first()
            if nxt is not None:
                Address.objects.filter(pk=nxt.pk).update(is_default=True)
        audit(user, "address.delete", user, address=address_id)


# --- the phone number ----------------------------------------------------------------------------


def send_phone_change_code(*, actor, phone: str, client: str | None = None) -> None:
    """A code to the new number (as a sign-in code is sent, with its limits)."""
    user = _me(actor)
    index = phone_index(normalize_phone(phone))
    if index == user.phone_index:
        raise DomainError("invalid_input", "That is your number already.")
    if User.objects.filter(phone_index=index).exists():
        raise DomainError("phone_taken")
    send_login_code(phone=phone, client=client)


def change_phone(*, actor, phone: str, code: str, client: str | None = None) -> User:
    """Move the account to the new number, once its code is given back."""
    user = _me(actor)
    e164 = normalize_phone(phone)
    index = phone_index(e164)
    take("code_check", account=index, client=client)
    if User.objects.filter(phone_index=index).exclude(pk=user.pk).exists():
        raise DomainError("phone_taken")
    otp = _checked_code(index, code)
    try:
        with transaction.atomic():
            use_code(otp)
            fresh = User.objects.select_for_update().get(pk=user.pk)
            old = fresh.masked_phone
            fresh.set_phone(e164)
            fresh.save(update_fields=["phone", "phone_index"])
            audit(fresh, "profile.phone", fresh, before=old, after=fresh.masked_phone)
    except IntegrityError as exc:  # taken by a registration a moment ago
        raise DomainError("phone_taken") from exc
    return fresh
