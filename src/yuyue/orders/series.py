"""Recurring bookings of one provider (monthly packages 包月): a rule becomes dated occurrences.

Each occurrence is a Booking of its own (channel chosen) with its own state and its own
reservation of the provider's time. Conflicts are shown before anything is booked
(`preview_series`); booking a series is all or nothing. Changing the rule from a date on ends the
old series the day before (cancelling its later occurrences) and starts a new series linked to it.

A package is sold as one: one address, one price (the sum of its dates' prices), one deadline to
pay it and one payment (`billing.packages.pay_package_with_wallet`; a single date of it cannot be
paid alone), cancelled as one (`cancel_series`: every date not yet served, each refunded by the
service's rules, as a single booking would be).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from yuyue.accounts.models import Provider
from yuyue.catalog.models import MerchantStatus, Service, ServiceKind
from yuyue.core.audit import audit
from yuyue.core.errors import DomainError
from yuyue.core.timeutil import local_dt, zone
from yuyue.pricing.prices import chosen_unit_price
from yuyue.scheduling.availability import on_step, provider_works
from yuyue.scheduling.models import ProviderReservation

from .cancelling import cancel_order
from .models import Booking, BookingStatus, Channel, Series
from .placing import (
    payment_terms,
    place_order,
    require_customer,
    reserve_provider_time,
    service_place,
)
from .states import BEFORE_SERVICE

MAX_DAYS = 92
MAX_OCCURRENCES = 62


def clean_rule(rule: Any) -> dict:
    if not isinstance(rule, dict):
        raise DomainError("invalid_input", "A rule is an object.")
    try:
        weekdays = sorted({int(d) for d in rule.get("weekdays", [])})
        start = dt.time.fromisoformat(rule["start"])
        date_from = dt.date.fromisoformat(rule["date_from"])
        date_to = dt.date.fromisoformat(rule["date_to"])
    except (KeyError, TypeError, ValueError) as exc:
        raise DomainError(
            "invalid_input", "A rule needs weekdays, start, date_from, date_to."
        ) from exc
    if not weekdays or any(not 0 <= d <= 6 for d in weekdays):
        raise DomainError("invalid_input", "weekdays are 0 (Monday) to 6 (Sunday).")
    if not 0 <= (date_to - date_from).days < MAX_DAYS:
        raise DomainError("invalid_date_range", max_days=MAX_DAYS)
    return {
        "weekdays": weekdays,
        "start": start.strftime("%H:%M"),
        "date_from": date_from.isoformat(),
        "date_to": date_to.isoformat(),
    }


def _occurrence_times(service: Service, provider: Provider, rule: dict) -> list[dt.datetime]:
    tz = zone(provider.zone_name)
    start = dt.time.fromisoformat(rule["start"])
    day, last = dt.date.fromisoformat(rule["date_from"]), dt.date.fromisoformat(rule["date_to"])
    out = []
    while day <= last:
        if day.weekday() in rule["weekdays"]:
            out.append(local_dt(day, start, tz))
        day += dt.timedelta(days=1)
    if len(out) > MAX_OCCURRENCES:
        raise DomainError("invalid_input", f"At most {MAX_OCCURRENCES} occurrences.")
    return out


def _load(service_id: int, provider_id: int) -> tuple[Service, Provider]:
    service = Service.objects.select_related("merchant").filter(pk=service_id).first()
    provider = Provider.objects.select_related("merchant").filter(pk=provider_id).first()
    if service is None or provider is None:
        raise DomainError("not_found")
    if service.kind != ServiceKind.ON_SITE:
        raise DomainError("wrong_service_kind")
    if service.merchant.status != MerchantStatus.ACTIVE or not service.active:
        raise DomainError("service_inactive")
    if (
        not (provider.active and provider.verified)
        or not provider.services.filter(pk=service.pk).exists()
    ):
        raise DomainError("provider_unqualified")
    return service, provider


def preview_series(*, service_id: int, provider_id: int, rule: Any) -> list[dict]:
    """Every occurrence of the rule with whether it can be booked, and why not."""
    service, provider = _load(service_id, provider_id)
    rule = clean_rule(rule)
    duration = dt.timedelta(minutes=service.duration_minutes)
    buffer = dt.timedelta(minutes=service.buffer_minutes)
    now = timezone.now()
    out = []
    for starts_at in _occurrence_times(service, provider, rule):
        ends_at = starts_at + duration
        problem = None
        if starts_at <= now:
            problem = "time_past"
        elif not on_step(service, starts_at, provider.zone_name):
            problem = "time_off_step"
        elif not provider_works(provider, starts_at, ends_at):
            problem = "provider_unavailable"
        elif ProviderReservation.objects.filter(
            provider=provider,
            active=True,
            starts_at__lt=ends_at + buffer,
            blocked_until__gt=starts_at,
        ).exists():
            problem = "provider_busy"
        out.append(
            {"starts_at": starts_at, "ends_at": ends_at, "ok": problem is None, "problem": problem}
        )
    return out


def _book_occurrences(
    customer, service: Service, provider: Provider, series: Series, occurrences: list[dict]
) -> list[Booking]:
    """Every wanted date as an order at its price, at the package's address; the package's
    price is their sum and, unless it is free, one deadline to pay it all."""
    buffer = dt.timedelta(minutes=service.buffer_minutes)
    prices = [chosen_unit_price(service, provider, o["starts_at"]) for o in occurrences]
    terms = payment_terms(sum(prices))
    made = []
    for occ, price in zip(occurrences, prices, strict=True):
        reservation = reserve_provider_time(
            provider_id=provider.pk,
            starts_at=occ["starts_at"],
            ends_at=occ["ends_at"],
            blocked_until=occ["ends_at"] + buffer,
        )
        booking = place_order(
            actor=customer,
            audit_data={"series": series.pk},
            customer=customer,
            merchant_id=service.merchant_id,
            service=service,
            provider=provider,
            reservation=reservation,
            starts_at=occ["starts_at"],
            ends_at=occ["ends_at"],
            places=1,
            price_fen=price,
            channel=Channel.CHOSEN,
            series=series,
            address=series.address,
            lat=series.lat,
            lng=series.lng,
            **{"status": BookingStatus.ACCEPTED, **terms},
        )
        made.append(booking)
    Series.objects.filter(pk=series.pk).update(
        price_fen=sum(prices), pay_before=terms.get("pay_before")
    )
    series.price_fen, series.pay_before = sum(prices), terms.get("pay_before")
    return made


def book_series(
    *,
    actor,
    service_id: int,
    provider_id: int,
    rule: Any,
    skip_conflicts: bool = False,
    address: str = "",
    lat: float | None = None,
    lng: float | None = None,
) -> tuple[Series, list[Booking]]:
    """Book every occurrence of the rule at the address, or none: conflicts refuse unless asked
    to skip them."""
    customer = require_customer(actor)
    service, provider = _load(service_id, provider_id)
    place = service_place(service, provider, address, lat, lng)
    rule = clean_rule(rule)
    preview = preview_series(service_id=service_id, provider_id=provider_id, rule=rule)
    conflicts = [o for o in preview if not o["ok"]]
    if conflicts and not skip_conflicts:
        raise DomainError(
            "series_conflicts",
            errors=[
                {"starts_at": o["starts_at"].isoformat(), "problem": o["problem"]}
                for o in conflicts
            ],
        )
    wanted = [o for o in preview if o["ok"]]
    if not wanted:
        raise DomainError("series_conflicts", errors=[])
    with transaction.atomic():
        series = Series.objects.create(
            customer=customer, provider=provider, service=service, rule=rule, **place
        )
        bookings = _book_occurrences(customer, service, provider, series, wanted)
        audit(customer, "series.create", series, occurrences=len(bookings), skipped=len(conflicts))
    return series, bookings


def change_series_from(
    *, actor, series_id: int, from_date: dt.date, rule: Any
) -> tuple[Series, list[Booking]]:
    """From `from_date` on, replace the rule: later occurrences are cancelled and rebooked."""
    old = (
        Series.objects.select_related("service", "provider")
        .filter(pk=series_id, customer_id=getattr(actor, "pk", None), active=True)
        .first()
    )
    if old is None:
        raise DomainError("not_found")
    rule = clean_rule(rule)
    if dt.date.fromisoformat(rule["date_from"]) < from_date:
        rule["date_from"] = from_date.isoformat()
    tz = zone(old.provider.zone_name)
    cut = local_dt(from_date, dt.time.min, tz)
    with transaction.atomic():
        later = list(
            Booking.objects.filter(series=old, starts_at__gte=cut, status__in=BEFORE_SERVICE)
        )
        for booking in later:
            cancel_order(booking, actor=actor, step="cancel", reason="series changed")
        old_rule = dict(old.rule, date_to=(from_date - dt.timedelta(days=1)).isoformat())
        Series.objects.filter(pk=old.pk).update(rule=old_rule, active=False)
        preview = preview_series(service_id=old.service_id, provider_id=old.provider_id, rule=rule)
        conflicts = [o for o in preview if not o["ok"]]
        if conflicts:  # rolls back the cancellations too: nothing changes
            raise DomainError(
                "series_conflicts",
                errors=[
                    {"starts_at": o["starts_at"].isoformat(), "problem": o["problem"]}
                    for o in conflicts
                ],
            )
        new = Series.objects.create(
            customer=old.customer,
            provider=old.provider,
            service=old.service,
            rule=rule,
            previous=old,
            address=old.address,
            lat=old.lat,
            lng=old.lng,
        )
        bookings = _book_occurrences(old.customer, old.service, old.provider, new, preview)
        audit(
            actor,
            "series.change",
            new,
            previous=old.pk,
            from_date=from_date.isoformat(),
            cancelled=len(later),
        )
    return new, bookings


def my_series(*, actor, series_id: int) -> tuple[Series, list[Booking]]:
    """A customer's package and its dates (anyone else's is not found)."""
    series = (
        Series.objects.select_related("service__merchant", "provider")
        .filter(pk=series_id, customer_id=getattr(actor, "pk", None))
        .first()
    )
    if series is None:
        raise DomainError("not_found")
    dates = list(Booking.objects.filter(series=series).order_by("starts_at", "pk"))
    return series, dates


def cancel_series(*, actor, series_id: int, reason: str = "") -> tuple[Series, list[Booking]]:
    """Cancel a package as one: every date not yet served is cancelled (each paid one refunded
    by the service's rules, as a single booking would be) and the package ends. Dates already
    served or under way stay as they are."""
    series, _dates = my_series(actor=actor, series_id=series_id)
    now = timezone.now()
    with transaction.atomic():
        Series.objects.select_for_update().filter(pk=series.pk).first()
        later = list(
            Booking.objects.select_for_update()
            .filter(series=series, status__in=BEFORE_SERVICE, starts_at__gt=now)
            .order_by("pk")
        )
        if not later:
            raise DomainError("already_cancelled")
        for booking in later:
            cancel_order(booking, actor=actor, step="cancel", reason=reason or "package cancelled")
        Series.objects.filter(pk=series.pk).update(active=False)
        audit(actor, "series.cancel", series, cancelled=len(later))
    return my_series(actor=actor, series_id=series.pk)
