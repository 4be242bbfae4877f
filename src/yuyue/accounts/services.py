"""Signing up and signing in: phone + password, phone + one-time code, WeChat mini-program."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from yuyue.core.audit import audit
from yuyue.core.codes import new_otp
from yuyue.core.controls import race_control
from yuyue.core.errors import DomainError
from yuyue.core.throttle import take

from .auth import require_operator, require_staff
from .models import MerchantStaff, OneTimeCode, StaffRole, User
from .otp import get_sender
from .phones import normalize_phone, phone_index
from .tokens import issue_token
from .wechat import code_to_openid


def _code_hash(index: str, code: str) -> str:
    return hmac.new(
        settings.SECRET_KEY.encode(), f"{index}:{code}".encode(), hashlib.sha256
    ).hexdigest()


def register(*, phone: str, password: str, name: str = "") -> tuple[User, str]:
    e164 = normalize_phone(phone)
    try:
        validate_password(password)
    except ValidationError as exc:
        raise DomainError("weak_password", reason=" ".join(exc.messages)) from exc
    try:
        with transaction.atomic():
            user = User.objects.create_user(phone=e164, password=password, name=name[:100])
            key, _ = issue_token(user=user, via="password")
            audit(user, "account.register", user)
    except IntegrityError as exc:
        raise DomainError("phone_taken") from exc
    return user, key


def login_with_password(
    *, phone: str, password: str, client: str | None = None, token: bool = True
) -> tuple[User, str | None]:
    """Sign in with a password; tries are throttled per phone and per client address. With
    `token` an API token is issued (its key returned); pages sign in to a session instead."""
    take("sign_in", account=phone_index(normalize_phone(phone)), client=client)
    user = authenticate(phone=phone, password=password)
    if user is None:
        existing = User.objects.filter(phone_index=phone_index(normalize_phone(phone))).first()
        if existing is not None and not existing.is_active and existing.check_password(password):
            raise DomainError("account_disabled")
        raise DomainError("invalid_credentials")
    with transaction.atomic():
        key = issue_token(user=user, via="password")[0] if token else None
        audit(user, "account.login", user, via="password", token=token)
    return user, key


def send_login_code(*, phone: str, client: str | None = None) -> None:
    """Send a 6-digit code; not more often than YUYUE_OTP_RESEND_SECONDS per phone, and within
    the throttling rates per phone and per client address."""
    e164 = normalize_phone(phone)
    index = phone_index(e164)
    now = timezone.now()
    last = OneTimeCode.objects.filter(phone_index=index).order_by("-created_at").first()
    wait = settings.YUYUE_OTP_RESEND_SECONDS
    if last is not None and (now - last.created_at).total_seconds() < wait:
        left = max(wait - int((now - last.created_at).total_seconds()), 1)
        raise DomainError("otp_too_soon", seconds=left, retry_after=left)
    take("code_send", account=index, client=client)
    code = new_otp()
    with transaction.atomic():
        OneTimeCode.objects.filter(phone_index=index, used_at__isnull=True).update(used_at=now)
        OneTimeCode.objects.create(
            phone_index=index,
            code_hash=_code_hash(index, code),
            expires_at=now + dt.timedelta(seconds=settings.YUYUE_OTP_TTL_SECONDS),
        )
        transaction.on_commit(lambda: get_sender().send(e164, code))


def _take_attempt(otp: OneTimeCode) -> int | None:
    """Count one try of the code before it is compared, in one conditional update: of any number
    of simultaneous tries, at most YUYUE_OTP_MAX_ATTEMPTS are ever compared. The try's number,
    or None when none is left."""
    naive = race_control("otp_attempt")
    if naive is not None:
        return naive(otp=otp)
    limit = settings.YUYUE_OTP_MAX_ATTEMPTS
    with transaction.atomic():
        taken = OneTimeCode.objects.filter(
            pk=otp.pk, used_at__isnull=True, attempts__lt=limit
        ).update(attempts=F("attempts") + 1)
    if not taken:
        return None
    return OneTimeCode.objects.values_list("attempts", flat=True).get(pk=otp.pk)


def _checked_code(index: str, code) -> OneTimeCode:
    """The phone's latest live code, if `code` is it (each try counted first; at most
    YUYUE_OTP_MAX_ATTEMPTS). The caller marks it used in its own transaction."""
    now = timezone.now()
    otp = (
        OneTimeCode.objects.filter(phone_index=index, used_at__isnull=True, expires_at__gt=now)
        .order_by("-created_at")
        .first()
    )
    if otp is None:
        raise DomainError("otp_invalid")
    attempt = _take_attempt(otp)
    if attempt is None:
        raise DomainError("otp_too_many_attempts")
    if not hmac.compare_digest(otp.code_hash, _code_hash(index, str(code or "").strip())):
        if attempt >= settings.YUYUE_OTP_MAX_ATTEMPTS:
            raise DomainError("otp_too_many_attempts")
        raise DomainError("otp_invalid")
    return otp


def use_code(otp: OneTimeCode) -> None:
    """Spend a checked code, once (inside the caller's transaction)."""
    if not OneTimeCode.objects.filter(pk=otp.pk, used_at__isnull=True).update(
        used_at=timezone.now()
    ):
        raise DomainError("otp_invalid")  # used by a concurrent request


def login_with_code(
    *, phone: str, code: str, client: str | None = None, token: bool = True
) -> tuple[User, str | None]:
    """Check the latest code for the phone; a new phone becomes a customer account. With
    `token` an API token is issued (its key returned); pages sign in to a session instead."""
    e164 = normalize_phone(phone)
    index = phone_index(e164)
    take("code_check", account=index, client=client)
    otp = _checked_code(index, code)
    with transaction.atomic():
        use_code(otp)
        user = User.objects.filter(phone_index=index).first()
        if user is None:
            user = User.objects.create_user(phone=e164)
            audit(user, "account.register", user, via="otp")
        if not user.is_active:
            raise DomainError("account_disabled")
        key = issue_token(user=user, via="otp")[0] if token else None
        audit(user, "account.login", user, via="otp", token=token)
    return user, key


def login_with_wechat(*, code: str) -> tuple[User, str]:
    if not code or len(code) > 200:
        raise DomainError("wechat_login_failed", reason="empty code")
    openid = code_to_openid(code)  # outside any transaction
    with transaction.atomic():
        user = User.objects.filter(wx_openid=openid).first()
        if user is None:
            try:
                with transaction.atomic():
                    user = User.objects.create_user(wx_openid=openid)
                    audit(user, "account.register", user, via="wechat")
            except IntegrityError:
                user = User.objects.get(wx_openid=openid)
        if not user.is_active:
            raise DomainError("account_disabled")
        key, _ = issue_token(user=user, via="wechat")
        audit(user, "account.login", user, via="wechat")
    return user, key


def person(user_id: int) -> User:
    """A person by id, for someone already allowed to act on people (checked before: an id must
    not tell an outsider whether it exists)."""
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise DomainError("not_found")
    return user


def set_active(*, actor, user_id: int, active: bool) -> User:
    require_operator(actor)
    user = person(user_id)
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(is_active=active)
        if not active:
            user.api_tokens.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        audit(actor, "account.activate" if active else "account.deactivate", user)
    user.refresh_from_db()
    return user


def require_staff_manager(actor, merchant_id: int) -> None:
    """Who may give or take a merchant's staff roles: operators, and the merchant's owners."""
    if not getattr(actor, "is_operator", False):
        require_staff(actor, merchant_id, (StaffRole.OWNER,))


def _change_role(*, actor, user: User, merchant_id: int, role: str | None) -> MerchantStaff | None:
    """Set (role) or remove (None) a person's role at a merchant, under the rules that hold on
    every path: an owner gives and takes manager and clerk only; an owner's role is changed
    only by an operator; a merchant always keeps an owner. The merchant's staff rows are locked
    first, so two changes at once cannot both take away "the other" owner."""
    is_operator = getattr(actor, "is_operator", False)
    if role == StaffRole.OWNER and not is_operator:
        raise DomainError("forbidden")
    with transaction.atomic():
        rows = list(
            MerchantStaff.objects.select_for_update().filter(merchant_id=merchant_id).order_by("pk")
        )
        current = next((r for r in rows if r.user_id == user.pk), None)
        if current is not None and current.role == StaffRole.OWNER and role != StaffRole.OWNER:
            if not is_operator:
                raise DomainError("owner_role_protected")
            if not any(r.role == StaffRole.OWNER and r.user_id != user.pk for r in rows):
                raise DomainError("last_owner")
        if role is None:
            if current is not None:
                current.delete()
            audit(actor, "staff.revoke", user, merchant=merchant_id)
            return None
        if current is None:
            current = MerchantStaff.objects.create(user=user, merchant_id=merchant_id, role=role)
        elif current.role != role:
            MerchantStaff.objects.filter(pk=current.pk).update(role=role)
            current.role = role
        audit(actor, "staff.grant", user, merchant=merchant_id, role=role)
    return current


def grant_staff_role(*, actor, user_id: int, merchant_id: int, role: str) -> MerchantStaff:
    """Operators grant any role; a merchant's owner grants manager or clerk of their merchant,
    and never to one of its owners."""
    if role not in StaffRole.values:
        raise DomainError("invalid_input", "Unknown role.")
    require_staff_manager(actor, merchant_id)
    return _change_role(actor=actor, user=person(user_id), merchant_id=merchant_id, role=role)


def revoke_staff_role(*, actor, user_id: int, merchant_id: int) -> None:
    require_staff_manager(actor, merchant_id)
    _change_role(actor=actor, user=person(user_id), merchant_id=merchant_id, role=None)
