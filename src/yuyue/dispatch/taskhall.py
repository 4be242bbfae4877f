"""The task hall 需求大厅: a customer publishes a need with a budget, qualified providers apply
with a price, the customer (or an operator) picks one, which becomes an order."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from yuyue.accounts.models import Provider
from yuyue.catalog.models import Category, ServiceKind
from yuyue.core.audit import audit
from yuyue.core.errors import DomainError
from yuyue.core.timeutil import ahead
from yuyue.notifications.sending import notify
from yuyue.orders.metrics import refusals_counted
from yuyue.orders.models import BookingStatus, Channel
from yuyue.orders.placing import payment_terms, place_order, require_customer, reserve_provider_time
from yuyue.scheduling.availability import haversine_km

from .models import Application, ApplicationStatus, Need, NeedStatus

MAX_BUDGET = 10_000_000  # ¥100,000


def _provider(actor) -> Provider:
    provider = getattr(actor, "provider", None) if hasattr(actor, "provider") else None
    if provider is None:
        raise DomainError("forbidden")
    return provider


def _skill_services(provider: Provider, category_id: int):
    return provider.services.filter(
        Q(category_id=category_id) | Q(category__parent_id=category_id),
        active=True,
        kind=ServiceKind.ON_SITE,
    )


def qualifies(provider: Provider, need: Need) -> bool:
    return (
        provider.active
        and provider.verified
        and provider.lat is not None
        and _skill_services(provider, need.category_id).exists()
        and haversine_km(provider.lat, provider.lng, need.lat, need.lng)
        <= provider.service_radius_km
    )


def publish_need(
    *,
    actor,
    category_id: int,
    title: str,
    description: str,
    starts_at: dt.datetime,
    duration_minutes: int,
    address: str,
    lat: float,
    lng: float,
    budget_fen: int,
) -> Need:
    customer = require_customer(actor)
    if not Category.objects.filter(pk=category_id).exists():
        raise DomainError("not_found")
    ahead(starts_at)
    if isinstance(budget_fen, bool) or not 0 < budget_fen <= MAX_BUDGET:
        raise DomainError("invalid_amount", max=MAX_BUDGET)
    if not (-90 <= lat <= 90 and -180 <= lng <= 180) or not 15 <= duration_minutes <= 1440:
        raise DomainError("invalid_input", "Check the place and the duration.")
    with transaction.atomic():
        need = Need.objects.create(
            customer=customer,
            category_id=category_id,
            title=title[:100],
            description=description,
            starts_at=starts_at,
            duration_minutes=duration_minutes,
            address=address[:300],
            lat=lat,
            lng=lng,
            budget_fen=budget_fen,
            closes_at=starts_at,
        )
        audit(customer, "need.publish", need)
    return need


def _open_need(need_id: int) -> Need:
    need = Need.objects.filter(pk=need_id).first()
    if need is None:
        raise DomainError("not_found")
    if need.status != NeedStatus.OPEN or need.closes_at <= timezone.now():
        raise DomainError("need_closed")
    return need


def apply_to_need(*, actor, need_id: int, price_fen: int, message: str = "") -> Application:
    provider = _provider(actor)
    need = _open_need(need_id)
    if not qualifies(provider, need):
        raise DomainError("provider_unqualified")
    if isinstance(price_fen, bool) or not 0 < price_fen <= MAX_BUDGET:
        raise DomainError("invalid_amount", max=MAX_BUDGET)
    try:
        with transaction.atomic():
            application = Application.objects.create(
                need=need, provider=provider, price_fen=price_fen, message=message[:500]
            )
            notify(need.customer_id, "need.application", need=need.pk, price_fen=price_fen)
            audit(actor, "need.apply", need, price_fen=price_fen)
    except IntegrityError as exc:
        raise DomainError("already_applied") from exc
    return application


def withdraw_application(*, actor, application_id: int) -> None:
    provider = _provider(actor)
    if not Application.objects.filter(
        pk=application_id, provider=provider, status=ApplicationStatus.APPLIED
    ).update(status=ApplicationStatus.WITHDRAWN):
        raise DomainError("not_found")


def cancel_need(*, actor, need_id: int) -> Need:
    need = Need.objects.filter(pk=need_id, customer_id=getattr(actor, "pk", None)).first()
    if need is None:
        raise DomainError("not_found")
    with transaction.atomic():
        if not Need.objects.filter(pk=need.pk, status=NeedStatus.OPEN).update(
            status=NeedStatus.CANCELLED
        ):
            raise DomainError("need_closed")
        for app in need.applications.filter(status=ApplicationStatus.APPLIED):
            notify(app.provider.user_id, "need.cancelled", need=need.pk)
        audit(actor, "need.cancel", need)
    need.refresh_from_db()
    return need


@refusals_counted("task_hall")
def pick_application(*, actor, need_id: int, application_id: int):
    """The need's customer (or an operator) picks one application: it becomes an order."""
    need = Need.objects.filter(pk=need_id).first()
    if need is None or not (
        need.customer_id == getattr(actor, "pk", None) or getattr(actor, "is_operator", False)
    ):
        raise DomainError("not_found")
    application = (
        Application.objects.select_related("provider")
        .filter(pk=application_id, need=need, status=ApplicationStatus.APPLIED)
        .first()
    )
    if application is None:
        raise DomainError("not_found")
    provider = application.provider
    service = _skill_services(provider, need.category_id).select_related("merchant").first()
    if service is None:
        raise DomainError("provider_unqualified")
    ends_at = need.starts_at + dt.timedelta(minutes=need.duration_minutes)
    with transaction.atomic():
        if not Need.objects.filter(pk=need.pk, status=NeedStatus.OPEN).update(
            status=NeedStatus.PICKED
        ):
            raise DomainError("need_closed")
        reservation = reserve_provider_time(
            provider_id=provider.pk,
            starts_at=need.starts_at,
            ends_at=ends_at,
            blocked_until=ends_at + dt.timedelta(minutes=service.buffer_minutes),
        )
        booking = place_order(
            actor=actor,
            audit_data={"need": need.pk, "application": application.pk},
            customer_id=need.customer_id,
            merchant_id=service.merchant_id,
            service=service,
            provider=provider,
            reservation=reservation,
            starts_at=need.starts_at,
            ends_at=ends_at,
            price_fen=application.price_fen,
            channel=Channel.TASK_HALL,
            address=need.address,
            lat=need.lat,
            lng=need.lng,
            **{"status": BookingStatus.ACCEPTED, **payment_terms(application.price_fen)},
        )
        Need.objects.filter(pk=need.pk).update(booking=booking)
        Application.objects.filter(pk=application.pk).update(status=ApplicationStatus.PICKED)
        others = list(
            need.applications.filter(status=ApplicationStatus.APPLIED)
            .exclude(pk=application.pk)
            .select_related("provider")
        )
        Application.objects.filter(pk__in=[a.pk for a in others]).update(
            status=ApplicationStatus.DECLINED
        )
        notify(provider.user_id, "need.picked", need=need.pk, booking=booking.pk)
        for other in others:
            notify(other.provider.user_id, "need.declined", need=need.pk)
        audit(actor, "need.pick", need, application=application.pk, booking=booking.pk)
    return booking


def open_needs_for(*, actor, limit: int = 50) -> list[tuple[Need, float]]:
    provider = _provider(actor)
    if provider.lat is None:
        return []
    out = []
    for need in Need.objects.filter(status=NeedStatus.OPEN, closes_at__gt=timezone.now())[:500]:
        if qualifies(provider, need):
            out.append((need, haversine_km(provider.lat, provider.lng, need.lat, need.lng)))
    return sorted(out, key=lambda x: (x[1], x[0].pk))[:limit]
