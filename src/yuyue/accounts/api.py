"""Sign-in API (bearer tokens, what a mini-program sends) and operators' people management."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from ninja import Field, File, Query, Router, Schema, Status
from ninja.files import UploadedFile

from yuyue.core.paging import offset_param
from yuyue.core.throttle import client_address

from . import profile, services
from .auth import bearer, operator_bearer, require_operator
from .models import Provider, StaffRole, User
from .phones import normalize_phone, phone_index
from .tokens import revoke_token

router = Router(tags=["sign in"])
ops_router = Router(tags=["operators"])


class StaffRoleOut(Schema):
    merchant_id: int
    merchant_name: str
    role: str


class Me(Schema):
    id: int
    name: str
    phone: str = Field(description="Masked")
    roles: list[str]
    provider_id: int | None
    staff: list[StaffRoleOut]
    is_operator: bool


def phone_field():
    # no pattern: a number that is not a mobile number is refused as invalid_phone, a code of
    # its own that clients show next to the field
    return Field(
        max_length=32,
        description="A mobile number: 11 digits in China (13800138000), or + country code "
        "and number. Anything else is refused as invalid_phone.",
    )


class TokenOut(Schema):
    token: str
    user: Me


def me_out(user: User) -> dict:
    provider = Provider.objects.filter(user=user).first()
    staff = [
        {"merchant_id": s.merchant_id, "merchant_name": s.merchant.name, "role": s.role}
        for s in user.staff_roles.select_related("merchant")
    ]
    roles = (
        ["customer"]
        + (["provider"] if provider else [])
        + (["staff"] if staff else [])
        + (["operator"] if user.is_operator else [])
    )
    return {
        "id": user.pk,
        "name": user.name,
        "phone": user.masked_phone,
        "roles": roles,
        "provider_id": provider.pk if provider else None,
        "staff": staff,
        "is_operator": user.is_operator,
    }


class RegisterIn(Schema):
    phone: str = phone_field()
    password: str = Field(max_length=128)
    name: str = Field("", max_length=100)


class LoginIn(Schema):
    phone: str = phone_field()
    password: str = Field(max_length=128)


class PhoneIn(Schema):
    phone: str = phone_field()


class CodeIn(Schema):
    phone: str = phone_field()
    code: str = Field(max_length=10)


class WechatIn(Schema):
    code: str = Field(min_length=1, max_length=200)


@router.post("/register", response={201: TokenOut}, auth=None)
def register(request, body: RegisterIn):
    """Create a customer account with a phone number and a password."""
    user, key = services.register(phone=body.phone, password=body.password, name=body.name)
    return Status(201, {"token": key, "user": me_out(user)})


@router.post("/login", response=TokenOut, auth=None)
def login(request, body: LoginIn):
    user, key = services.login_with_password(
        phone=body.phone, password=body.password, client=client_address(request)
    )
    return {"token": key, "user": me_out(user)}


@router.post("/otp", response={202: dict}, auth=None)
def send_code(request, body: PhoneIn):
    """Send a one-time login code to the phone (by SMS; in development, to the server log)."""
    services.send_login_code(phone=body.phone, client=client_address(request))
    return Status(202, {"sent": True})


@router.post("/otp/verify", response=TokenOut, auth=None)
def verify_code(request, body: CodeIn):
    user, key = services.login_with_code(
        phone=body.phone, code=body.code, client=client_address(request)
    )
    return {"token": key, "user": me_out(user)}


@router.post("/wechat", response=TokenOut, auth=None)
def wechat(request, body: WechatIn):
    """Mini-program login: the code from wx.login, exchanged for the openid."""
    user, key = services.login_with_wechat(code=body.code)
    return {"token": key, "user": me_out(user)}


@router.post("/logout", response={204: None}, auth=bearer)
def logout(request):
    header = request.headers.get("Authorization", "")
    revoke_token(header.split(" ", 1)[1] if " " in header else "")
    return Status(204, None)


@router.get("/me", response=Me, auth=bearer)
def me(request):
    return me_out(request.auth)


class MeIn(Schema):
    name: str = Field(max_length=100, pattern=r"^[^\x00-\x1f\x7f]*$")


@router.patch("/me", response=Me, auth=bearer)
def change_me(request, body: MeIn):
    """Change your name."""
    return me_out(profile.set_name(actor=request.auth, name=body.name))


class AvatarOut(Schema):
    url: str


@router.post("/me/avatar", response=AvatarOut, auth=bearer)
def put_avatar(request, file: UploadedFile | None = File(None)):  # noqa: B008 - ninja's way
    """Upload your avatar (JPEG, PNG, WebP or GIF up to 5 MB) as the form field `file`: kept as
    a 256-px square JPEG. No file, or an empty one, is refused as invalid_image."""
    data = file.read(profile.MAX_AVATAR_BYTES + 1) if file is not None else b""
    user = profile.set_avatar(actor=request.auth, data=data)
    return {"url": avatar_url(user)}


def avatar_url(user: User) -> str:
    return reverse("avatar", args=[user.pk, user.avatar_version]) if user.avatar_version else ""


class AddressIn(Schema):
    address: str = Field(max_length=300, pattern=r"\S")
    label: str = Field("", max_length=30)
    lat: float | None = Field(None, ge=-90, le=90, strict=True)
    lng: float | None = Field(None, ge=-180, le=180, strict=True)
    default: bool = Field(False, strict=True)


class AddressOut(Schema):
    id: int
    label: str
    address: str
    lat: float | None
    lng: float | None
    is_default: bool


@router.get("/me/addresses", response=list[AddressOut], auth=bearer)
def my_addresses(request):
    """Your saved addresses, the default first."""
    return profile.my_addresses(actor=request.auth)


@router.post("/me/addresses", response={201: AddressOut}, auth=bearer)
def save_address(request, body: AddressIn):
    """Save an address (the first is the default)."""
    return Status(201, profile.save_address(actor=request.auth, **body.model_dump()))


@router.post("/me/addresses/{address_id}/default", response=AddressOut, auth=bearer)
def make_default(request, address_id: int):
    return profile.make_default(actor=request.auth, address_id=address_id)


@router.delete("/me/addresses/{address_id}", response={204: None}, auth=bearer)
def delete_address(request, address_id: int):
    profile.delete_address(actor=request.auth, address_id=address_id)
    return Status(204, None)


class NewPhoneIn(Schema):
    phone: str = phone_field()


class PhoneChangeIn(NewPhoneIn):
    code: str = Field(max_length=12)


@router.post("/me/phone/code", response={202: dict}, auth=bearer)
def phone_code(request, body: NewPhoneIn):
    """Send a code to the number you want to move your account to."""
    profile.send_phone_change_code(
        actor=request.auth, phone=body.phone, client=client_address(request)
    )
    return Status(202, {"sent": True})


@router.post("/me/phone", response=Me, auth=bearer)
def change_phone(request, body: PhoneChangeIn):
    """Move your account to the new number with the code sent to it."""
    user = profile.change_phone(
        actor=request.auth, phone=body.phone, code=body.code, client=client_address(request)
    )
    return me_out(user)


# --- operators --------------------------------------------------------------------------------


class PersonOut(Schema):
    id: int
    name: str
    phone: str
    is_active: bool
    is_operator: bool
    date_joined: dt.datetime


def _person(user: User) -> dict:
    return {
        "id": user.pk,
        "name": user.name,
        "phone": user.masked_phone,
        "is_active": user.is_active,
        "is_operator": user.is_operator,
        "date_joined": user.date_joined,
    }


@ops_router.get("/people", response=list[PersonOut], auth=operator_bearer)
def find_people(
    request,
    phone: str = Query("", max_length=32),
    name: str = "",
    offset: int = offset_param(),
    limit: int = Query(50, ge=1, le=200),
):
    """Find people by exact phone number (through its keyed hash) or by name."""
    require_operator(request.auth)
    qs = User.objects.order_by("-date_joined")
    if phone:
        qs = qs.filter(phone_index=phone_index(normalize_phone(phone)))
    if name:
        qs = qs.filter(name__icontains=name)
    return [_person(u) for u in qs[offset : offset + limit]]


class ActiveIn(Schema):
    active: bool


@ops_router.post("/people/{user_id}/active", response=PersonOut, auth=operator_bearer)
def set_active(request, user_id: int, body: ActiveIn):
    return _person(services.set_active(actor=request.auth, user_id=user_id, active=body.active))


__all__ = ["StaffRole", "StaffRoleOut", "ops_router", "router"]
