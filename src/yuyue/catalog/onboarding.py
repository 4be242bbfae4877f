"""Becoming a provider: a person applies (for the platform or one merchant) with their real name
and ID number, skills, area, price and pictures of their documents; an operator, or a manager of
that merchant, approves (the provider is made, verified, with those skills and that area) or
rejects with a reason the applicant sees and answers by sending the application again.

The applicant is accounts'; the skills are the catalog's services, so the use case lives here.
Every decision is audited."""

from __future__ import annotations

import uuid

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from yuyue.accounts.auth import require_staff
from yuyue.accounts.models import (
    ApplicationDocument,
    ApplicationStatus,
    Credential,
    DocumentKind,
    Provider,
    ProviderApplication,
    StaffRole,
)
from yuyue.accounts.realname import get_verifier
from yuyue.core.audit import audit
from yuyue.core.errors import DomainError
from yuyue.core.idnumbers import valid_id_number
from yuyue.core.images import clean_image

from .models import (
    Merchant,
    MerchantApplication,
    MerchantApplicationStatus,
    MerchantStatus,
    Service,
    ServiceKind,
)

MAX_DOCUMENT_BYTES = 8 * 1024 * 1024
MAX_DOCUMENTS = 8
NEEDED = {DocumentKind.ID_FRONT, DocumentKind.PHOTO}


def submit_application(
    *,
    actor,
    real_name: str,
    id_number: str,
    service_ids: list[int],
    lat: float,
    lng: float,
    radius_km: float,
    price_fen: int | None = None,
    merchant_id: int | None = None,
    documents: list[tuple[str, bytes]],
) -> ProviderApplication:
    """Apply, or send a rejected application again. Every picture is checked and cleaned
    before anything is stored; a refusal stores nothing."""
    if not getattr(actor, "pk", None):
        raise DomainError("auth_required")
    if Provider.objects.filter(user=actor, verified=True).exists():
        raise DomainError("invalid_input", "You are a provider already.")
    real_name, id_number = (real_name or "").strip(), (id_number or "").strip().upper()
    if not 1 <= len(real_name) <= 50 or not valid_id_number(id_number):
        raise DomainError("invalid_input", "A real name and a valid ID number are needed.")
    verdict = get_verifier().check(real_name, id_number)
    if not verdict.match:
        raise DomainError("real_name_mismatch")
    merchant = None
    if merchant_id is not None:
        merchant = Merchant.objects.filter(pk=merchant_id, status=MerchantStatus.ACTIVE).first()
        if merchant is None:
            raise DomainError("not_found")
    services = Service.objects.filter(
        pk__in=service_ids or [], active=True, kind__in=[ServiceKind.ON_SITE, ServiceKind.REMOTE]
    )
    if merchant is not None:
        services = services.filter(merchant=merchant)
    chosen = sorted(services.values_list("pk", flat=True))
    if not chosen or len(chosen) != len(set(service_ids)):
        raise DomainError("invalid_input", "Choose the services you do.")
    if not (-90 <= lat <= 90 and -180 <= lng <= 180) or not 0.5 <= radius_km <= 50:
        raise DomainError("invalid_input", "Check the area: a point and 0.5 to 50 km.")
    if price_fen is not None and not 0 < price_fen <= 10_000_000:
        raise DomainError("invalid_amount", max=10_000_000)
    if merchant is not None and price_fen is not None:
        check_provider_price(merchant, price_fen)
    if len(documents) > MAX_DOCUMENTS or not {k for k, _ in documents} >= NEEDED:
        raise DomainError("invalid_input", "Send a photo of yourself and of your ID card.")
    if any(k not in DocumentKind.values for k, _ in documents):
        raise DomainError("invalid_input", "Unknown kind of document.")
    cleaned = [(k, clean_image(data, max_bytes=MAX_DOCUMENT_BYTES)) for k, data in documents]
    fields = {
        "merchant": merchant,
        "real_name": real_name,
        "id_number": id_number,
        "service_ids": chosen,
        "lat": lat,
        "lng": lng,
        "radius_km": radius_km,
        "price_fen": price_fen,
        "status": ApplicationStatus.PENDING,
        "reason": "",
        "real_name_note": verdict.note,
    }
    with transaction.atomic():
        application = ProviderApplication.objects.select_for_update().filter(user=actor).first()
        if application is None:
            application = ProviderApplication.objects.create(user=actor, **fields)
        elif application.status != ApplicationStatus.REJECTED:
            raise DomainError("application_not_pending")
        else:
            for k, v in fields.items():
                setattr(application, k, v)
            application.rounds += 1
            application.save()
        for kind, jpeg in cleaned:
            doc = ApplicationDocument(application=application, kind=kind, round=application.rounds)
            doc.file.save(f"{uuid.uuid4().hex}.jpg", ContentFile(jpeg), save=True)
        audit(actor, "application.submit", application, round=application.rounds)
    return application


def check_provider_price(merchant: Merchant, price_fen: int) -> None:
    """A provider's own price within what their merchant takes (price_out_of_bounds)."""
    low, high = merchant.provider_price_min_fen, merchant.provider_price_max_fen
    if (low is not None and price_fen < low) or (high is not None and price_fen > high):
        raise DomainError("price_out_of_bounds", low=low or 0, high=high or 10_000_000)


def _reviewer(actor, application: ProviderApplication) -> None:
    """Operators review any application; a merchant's owner or managers those for it."""
    if getattr(actor, "is_operator", False):
        return
    if application.merchant_id is None:
        raise DomainError("forbidden")
    require_staff(actor, application.merchant_id, (StaffRole.OWNER, StaffRole.MANAGER))


def reviewable(actor):
    """The applications the actor may review, pending first."""
    qs = ProviderApplication.objects.select_related("user", "merchant").order_by(
        "status", "updated_at"
    )
    if getattr(actor, "is_operator", False):
        return qs
    managed = actor.staff_roles.filter(role__in=[StaffRole.OWNER, StaffRole.MANAGER]).values(
        "merchant_id"
    )
    return qs.filter(merchant_id__in=managed)


def review_application(
    *, actor, application_id: int, approve: bool, reason: str = ""
) -> ProviderApplication:
    """Approve (the provider is made or updated: verified, with the skills, area and price
    applied for, the documents as verified credentials) or reject with a reason."""
    application = ProviderApplication.objects.filter(pk=application_id).first()
    if application is None:
        raise DomainError("not_found")
    _reviewer(actor, application)
    reason = (reason or "").strip()[:300]
    if not approve and not reason:
        raise DomainError("invalid_input", "Say why the application is rejected.")
    with transaction.atomic():
        if not ProviderApplication.objects.filter(
            pk=application.pk, status=ApplicationStatus.PENDING
        ).update(
            status=ApplicationStatus.APPROVED if approve else ApplicationStatus.REJECTED,
            reason="" if approve else reason,
            reviewed_by=actor,
            reviewed_at=timezone.now(),
        ):
            raise DomainError("application_not_pending")
        application.refresh_from_db()
        if approve:
            provider, _ = Provider.objects.update_or_create(
                user=application.user,
                defaults={
                    "merchant": application.merchant,
                    "display_name": application.real_name[:1] + "师傅",
                    "lat": application.lat,
                    "lng": application.lng,
                    "service_radius_km": application.radius_km,
                    "price_fen": application.price_fen,
                    "verified": True,
                    "active": True,
                },
            )
            provider.services.set(application.service_ids)
            kinds = set(application.documents.values_list("kind", flat=True))
            for kind in kinds - {DocumentKind.PHOTO, DocumentKind.ID_FRONT, DocumentKind.ID_BACK}:
                Credential.objects.get_or_create(
                    provider=provider,
                    kind=DocumentKind(kind).label,
                    defaults={"verified": True, "issued_by": "document reviewed"},
                )
            ProviderApplication.objects.filter(pk=application.pk).update(provider=provider)
            application.provider = provider
        audit(
            actor,
            "application.approve" if approve else "application.reject",
            application,
            reason=reason,
        )
    from yuyue.notifications.sending import notify

    notify(
        application.user_id,
        "application.approved" if approve else "application.rejected",
        reason=reason,
    )
    return application


# --- becoming a merchant ---------------------------------------------------------------------

MAX_LICENCE_BYTES = 8 * 1024 * 1024


def submit_merchant_application(
    *,
    actor,
    business_name: str,
    contact_name: str,
    contact_phone: str,
    address: str,
    lat: float,
    lng: float,
    licence: bytes,
    timezone_name: str = "Asia/Shanghai",
) -> MerchantApplication:
    """Apply to sell on the platform, or send a rejected application again. The licence
    picture is checked and cleaned before anything is stored; a refusal stores nothing."""
    from yuyue.accounts.phones import normalize_phone
    from yuyue.core.timeutil import is_valid_zone

    if not getattr(actor, "pk", None):
        raise DomainError("auth_required")
    business_name, contact_name = (business_name or "").strip(), (contact_name or "").strip()
    address = (address or "").strip()
    if not 1 <= len(business_name) <= 200 or not 1 <= len(contact_name) <= 50:
        raise DomainError("name_required")
    if not 1 <= len(address) <= 300:
        raise DomainError("address_required")
    phone = normalize_phone(contact_phone)
    if not is_valid_zone(timezone_name):
        raise DomainError("invalid_timezone")
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise DomainError("invalid_input", "Check the place on the map: lat and lng.")
    jpeg = clean_image(licence, max_bytes=MAX_LICENCE_BYTES)
    fields = {
        "business_name": business_name,
        "contact_name": contact_name,
        "contact_phone": phone,
        "address": address,
        "lat": lat,
        "lng": lng,
        "timezone": timezone_name,
        "status": MerchantApplicationStatus.PENDING,
        "reason": "",
    }
    with transaction.atomic():
        application = (
            MerchantApplication.objects.select_for_update().filter(applicant=actor).first()
        )
        if application is None:
            application = MerchantApplication(applicant=actor, **fields)
        elif application.status != MerchantApplicationStatus.REJECTED:
            raise DomainError("application_not_pending")
        else:
            for k, v in fields.items():
                setattr(application, k, v)
            application.rounds += 1
        application.licence.save(f"{uuid.uuid4().hex}.jpg", ContentFile(jpeg), save=False)
        application.save()
        audit(actor, "merchant_application.submit", application, round=application.rounds)
    return application


def _free_slug(name: str) -> str:
    from django.utils.text import slugify

    base = slugify(name)[:60] or "merchant"
    slug, n = base, 2
    while Merchant.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def review_merchant_application(
    *, actor, application_id: int, approve: bool, reason: str = ""
) -> MerchantApplication:
    """An operator approves (the merchant is made, active, with the applicant as its owner) or
    rejects with a reason; the applicant is told either way."""
    from yuyue.accounts.auth import require_operator
    from yuyue.accounts.models import MerchantStaff
    from yuyue.notifications.sending import notify

    require_operator(actor)
    application = MerchantApplication.objects.filter(pk=application_id).first()
    if application is None:
        raise DomainError("not_found")
    reason = (reason or "").strip()[:300]
    if not approve and not reason:
        raise DomainError("reason_required")
    with transaction.atomic():
        if not MerchantApplication.objects.filter(
            pk=application.pk, status=MerchantApplicationStatus.PENDING
        ).update(
            status=MerchantApplicationStatus.APPROVED
            if approve
            else MerchantApplicationStatus.REJECTED,
            reason="" if approve else reason,
            reviewed_by=actor,
            reviewed_at=timezone.now(),
        ):
            raise DomainError("application_not_pending")
        application.refresh_from_db()
        if approve:
            merchant = Merchant.objects.create(
                name=application.business_name,
                slug=_free_slug(application.business_name),
                timezone=application.timezone,
                address=application.address,
                lat=application.lat,
                lng=application.lng,
                phone=application.contact_phone,
                status=MerchantStatus.ACTIVE,
            )
            MerchantStaff.objects.create(
                user=application.applicant, merchant=merchant, role=StaffRole.OWNER
            )
            MerchantApplication.objects.filter(pk=application.pk).update(merchant=merchant)
            application.merchant = merchant
        audit(
            actor,
            "merchant_application.approve" if approve else "merchant_application.reject",
            application,
            reason=reason,
        )
        notify(
            application.applicant_id,
            "merchant_application.approved" if approve else "merchant_application.rejected",
            business=application.business_name,
            reason=reason,
        )
    return application
