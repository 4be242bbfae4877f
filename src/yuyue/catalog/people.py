"""Merchants' people: who works for which merchant, and who is a provider of which services.

The roles and the provider profile are accounts' models; giving them needs the merchant and its
services, which are the catalog's, so the use cases that tie the two live here."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from yuyue.accounts import services as accounts
from yuyue.accounts.auth import MANAGERS, require_operator, require_staff
from yuyue.accounts.models import Duty, MerchantStaff, Provider, StaffRole, User
from yuyue.accounts.phones import normalize_phone, phone_index
from yuyue.core.audit import audit
from yuyue.core.errors import DomainError
from yuyue.notifications.sending import notify

from .models import Hall, Merchant, Service


def grant_staff_role(*, actor, user_id: int, merchant_id: int, role: str) -> MerchantStaff:
    """Operators grant any role; a merchant's owner grants manager or clerk (of a merchant that
    exists). Who may is checked before anything is looked up."""
    accounts.require_staff_manager(actor, merchant_id)
    if not Merchant.objects.filter(pk=merchant_id).exists():
        raise DomainError("not_found")
    return accounts.grant_staff_role(
        actor=actor, user_id=user_id, merchant_id=merchant_id, role=role
    )


def merchant_staff(*, actor, merchant_id: int) -> list[MerchantStaff]:
    """A merchant's staff with their halls, owners first: for its owners and managers."""
    require_staff(actor, merchant_id, MANAGERS)
    rows = (
        MerchantStaff.objects.filter(merchant_id=merchant_id)
        .select_related("user")
        .prefetch_related("halls")
    )
    order = {StaffRole.OWNER: 0, StaffRole.MANAGER: 1, StaffRole.CLERK: 2}
    return sorted(rows, key=lambda r: (order.get(r.role, 9), r.user.name, r.pk))


def _merchant_halls(merchant_id: int, hall_ids) -> list[Hall]:
    ids = {int(h) for h in hall_ids or ()}
    halls = list(Hall.objects.filter(merchant_id=merchant_id, pk__in=ids))
    if len(halls) != len(ids):
        raise DomainError("not_found")  # a hall of another merchant, or none
    return halls


def invite_staff(
    *, actor, merchant_id: int, phone: str, role: str, hall_ids=(), name: str = ""
) -> MerchantStaff:
    """Give a person, found by phone (or made, to sign in with a code sent to it), a role at the
    merchant, limited to some of its halls or none; they are told in a notice. The rules of
    `grant_staff_role` hold: an owner gives manager or clerk, only an operator an owner."""
    accounts.require_staff_manager(actor, merchant_id)
    merchant = Merchant.objects.filter(pk=merchant_id).first()
    if merchant is None:
        raise DomainError("not_found")
    e164 = normalize_phone(phone)
    halls = _merchant_halls(merchant_id, hall_ids)
    if halls and role == StaffRole.OWNER:
        raise DomainError("owner_every_hall")
    with transaction.atomic():
        user = User.objects.filter(phone_index=phone_index(e164)).first()
        if user is None:
            user = User.objects.create_user(phone=e164, name=(name or "").strip()[:100])
        staff = accounts.grant_staff_role(
            actor=actor, user_id=user.pk, merchant_id=merchant_id, role=role
        )
        staff.halls.set(halls)
        audit(actor, "staff.halls", user, merchant=merchant_id, halls=[h.pk for h in halls])
        notify(user.pk, "staff.added", merchant=merchant.name, role=role)
    return staff


def set_staff_halls(*, actor, merchant_id: int, user_id: int, hall_ids) -> MerchantStaff:
    """Limit a manager's or clerk's role to some halls (none: every hall). Owners and operators
    may; an owner's own role is never limited."""
    accounts.require_staff_manager(actor, merchant_id)
    staff = MerchantStaff.objects.filter(merchant_id=merchant_id, user_id=user_id).first()
    if staff is None:
        raise DomainError("not_found")
    halls = _merchant_halls(merchant_id, hall_ids)
    if halls and staff.role == StaffRole.OWNER:
        raise DomainError("owner_every_hall")
    with transaction.atomic():
        staff.halls.set(halls)
        audit(actor, "staff.halls", staff.user, merchant=merchant_id, halls=[h.pk for h in halls])
    return staff


def workplaces(user) -> list[tuple[Merchant, str]]:
    """The merchants a person works for, with their role at each, by merchant name."""
    if not getattr(user, "pk", None):
        return []
    rows = MerchantStaff.objects.filter(user=user).select_related("merchant")
    return sorted(((r.merchant, r.role) for r in rows), key=lambda mr: (mr[0].name, mr[0].pk))


def make_provider(
    *, actor, user_id: int, service_ids: list[int], merchant_id: int | None = None, **profile
) -> Provider:
    """An operator gives a person a provider profile (after checking their real name and
    credentials): for the platform or one merchant, qualified for the given services."""
    require_operator(actor)
    user = accounts.person(user_id)
    if merchant_id and not Merchant.objects.filter(pk=merchant_id).exists():
        raise DomainError("not_found")
    services = list(Service.objects.filter(pk__in=service_ids))
    if len(services) != len(set(service_ids)):
        raise DomainError("not_found")
    try:
        with transaction.atomic():
            provider = Provider.objects.create(user=user, merchant_id=merchant_id, **profile)
            provider.services.set(services)
            audit(actor, "provider.create", provider, verified=provider.verified)
    except IntegrityError as exc:
        raise DomainError("invalid_input", "This person is a provider already.") from exc
    return provider


def set_duty(*, actor, duty: str) -> Provider:
    """A provider takes new orders or not (on duty, off duty, resting); dispatch offers only to
    providers on duty, and only after the required training is passed. Orders already taken
    are not touched."""
    provider = Provider.objects.filter(user_id=getattr(actor, "pk", None)).first()
    if provider is None:
        raise DomainError("forbidden")
    if duty not in Duty.values:
        raise DomainError("invalid_input", f"duty: one of {', '.join(Duty.values)}")
    if duty == Duty.ON:
        from .training import missing_required

        missing = missing_required(provider)
        if missing:
            raise DomainError("training_required", courses=" · ".join(c.title for c in missing))
    with transaction.atomic():
        Provider.objects.filter(pk=provider.pk).update(duty=duty)
        audit(actor, "provider.duty", provider, duty=duty, before=provider.duty)
    provider.duty = duty
    return provider
