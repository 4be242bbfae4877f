"""Merchants' people: who works for which merchant, and who is a provider of which services.

The roles and the provider profile are accounts' models; giving them needs the merchant and its
services, which are the catalog's, so the use cases that tie the two live here."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from yuyue.accounts import services as accounts
from yuyue.accounts.auth import require_operator
from yuyue.accounts.models import Duty, MerchantStaff, Provider
from yuyue.core.audit import audit
from yuyue.core.errors import DomainError

from .models import Merchant, Service


def grant_staff_role(*, actor, user_id: int, merchant_id: int, role: str) -> MerchantStaff:
    """Operators grant any role; a merchant's owner grants manager or clerk (of a merchant that
    exists). Who may is checked before anything is looked up."""
    accounts.require_staff_manager(actor, merchant_id)
    if not Merchant.objects.filter(pk=merchant_id).exists():
        raise DomainError("not_found")
    return accounts.grant_staff_role(
        actor=actor, user_id=user_id, merchant_id=merchant_id, role=role
    )


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
    providers on duty. Orders already taken are not touched."""
    provider = Provider.objects.filter(user_id=getattr(actor, "pk", None)).first()
    if provider is None:
        raise DomainError("forbidden")
    if duty not in Duty.values:
        raise DomainError("invalid_input", f"duty: one of {', '.join(Duty.values)}")
    with transaction.atomic():
        Provider.objects.filter(pk=provider.pk).update(duty=duty)
        audit(actor, "provider.duty", provider, duty=duty, before=provider.duty)
    provider.duty = duty
    return provider
