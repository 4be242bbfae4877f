"""A merchant's figures: bookings, paid amount (GMV), refunds, completion and on-time rates,
cancellations and no-shows, provider utilisation and rating, for a day, week or month against
the one before, by day and by service, hall and provider.

Days before today are read from `DayFigures`, which a job fills (`summarise_day`: one local
day of one merchant, replaced whole; every ten minutes today and yesterday, every night the last
31 days, since refunds and no-shows change days already past). Today is worked out live with
the same function, so the dashboard never waits for the job and never scans every order: at
most one day of orders."""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict

from django.db import transaction
from django.db.models import OuterRef, Subquery, Sum
from django.utils import timezone

from yuyue.accounts.auth import MANAGERS, require_staff, staff_halls
from yuyue.accounts.models import Provider
from yuyue.catalog.models import Hall, Merchant, MerchantStatus, Service
from yuyue.core.errors import DomainError
from yuyue.core.timeutil import local_day_bounds, zone
from yuyue.orders.models import Booking, BookingEvent, BookingStatus
from yuyue.orders.models import PaymentStatus as OrderPayment
from yuyue.scheduling.availability import working_windows

from .models import DayFigures, Payment

COUNTS = (
    "bookings",
    "places",
    "done",
    "cancelled",
    "cancelled_by_staff",
    "no_shows",
    "arrivals",
    "on_time",
    "paid_fen",
    "refunded_fen",
    "busy_seconds",
    "work_seconds",
)
PAID_ONCE = {OrderPayment.PAID, OrderPayment.PARTIALLY_REFUNDED, OrderPayment.REFUNDED}
DONE = {BookingStatus.CHECKED_IN, BookingStatus.COMPLETED}
NOT_SERVED = {
    BookingStatus.CANCELLED,
    BookingStatus.CANCELLED_BY_STAFF,
    BookingStatus.NO_SHOW,
    BookingStatus.EXPIRED,
}
PERIODS = ("day", "week", "month")


def compute_day(merchant: Merchant, day: dt.date) -> list[dict]:
    """One local day of a merchant as rows per (service, hall, provider), and one row per
    provider of the merchant with their working seconds. Three statements and the providers'
    working windows (two), whatever the number of orders."""
    from django.conf import settings

    tz = zone(merchant.timezone)
    lo, hi = local_day_bounds(day, tz)
    arrived = BookingEvent.objects.filter(booking=OuterRef("pk"), step="arrive").values("at")[:1]
    orders = list(
        Booking.objects.filter(merchant=merchant, starts_at__gte=lo, starts_at__lt=hi)
        .exclude(status=BookingStatus.EXPIRED)
        .annotate(arrived_at=Subquery(arrived))
        .values_list(
            "pk",
            "service_id",
            "slot__hall_id",
            "provider_id",
            "status",
            "payment_status",
            "places",
            "price_fen",
            "starts_at",
            "ends_at",
            "arrived_at",
        )
    )
    refunded = dict(
        Payment.objects.filter(booking__in=[o[0] for o in orders])
        .values_list("booking_id")
        .annotate(n=Sum("refunded_fen"))
        .order_by()
    )
    grace = dt.timedelta(minutes=settings.YUYUE_LATE_GRACE_MINUTES)
    rows: dict[tuple, dict] = defaultdict(lambda: dict.fromkeys(COUNTS, 0))
    for pk, service, hall, provider, status, paid, places, price, start, end, came in orders:
        r = rows[service, hall, provider]
        r["bookings"] += 1
        r["places"] += places
        r["done"] += status in DONE
        r["cancelled"] += status == BookingStatus.CANCELLED
        r["cancelled_by_staff"] += status == BookingStatus.CANCELLED_BY_STAFF
        r["no_shows"] += status == BookingStatus.NO_SHOW
        if came is not None:
            r["arrivals"] += 1
            r["on_time"] += came <= start + grace
        if paid in PAID_ONCE:
            r["paid_fen"] += price
        r["refunded_fen"] += refunded.get(pk) or 0
        if provider is not None and status not in NOT_SERVED:
            r["busy_seconds"] += int((end - start).total_seconds())
    providers = dict(
        Provider.objects.filter(merchant=merchant, active=True).values_list("pk", "timezone")
    )
    if providers:
        windows = working_windows(providers, [(p, day) for p in providers], list(providers))
        for (pid, _day), spans in windows.items():
            seconds = sum(b - a for a, b in spans)
            if seconds:
                rows[None, None, pid]["work_seconds"] += seconds
    return [
        {"service_id": s, "hall_id": h, "provider_id": p, **counts}
        for (s, h, p), counts in rows.items()
    ]


def summarise_day(merchant: Merchant, day: dt.date) -> int:
    """Replace the merchant's stored figures of `day` with freshly computed ones."""
    rows = compute_day(merchant, day)
    now = timezone.now()
    with transaction.atomic():
        DayFigures.objects.filter(merchant=merchant, day=day).delete()
        DayFigures.objects.bulk_create(
            [DayFigures(merchant=merchant, day=day, summarised_at=now, **r) for r in rows],
            batch_size=1000,
        )
    return len(rows)


def summarise_recent(days: int = 2) -> int:
    """Every active merchant's last `days` local days up to today (a job)."""
    n = 0
    for merchant in Merchant.objects.filter(status=MerchantStatus.ACTIVE):
        today = timezone.now().astimezone(zone(merchant.timezone)).date()
        for back in range(days):
            n += summarise_day(merchant, today - dt.timedelta(days=back))
    return n


def period_bounds(period: str, day: dt.date) -> tuple[dt.date, dt.date, dt.date, dt.date]:
    """(first, last) of the period holding `day`, and (first, last) of the one before."""
    if period == "day":
        return day, day, day - dt.timedelta(days=1), day - dt.timedelta(days=1)
    if period == "week":
        first = day - dt.timedelta(days=day.weekday())
        last = first + dt.timedelta(days=6)
        return first, last, first - dt.timedelta(days=7), first - dt.timedelta(days=1)
    if period == "month":
        first = day.replace(day=1)
        last = day.replace(day=calendar.monthrange(day.year, day.month)[1])
        before_last = first - dt.timedelta(days=1)
        return first, last, before_last.replace(day=1), before_last
    raise DomainError("invalid_input", "period is day, week or month")


def _asked(period: str, day: dt.date | None, tz_name: str):
    """Today in the zone, the day asked (today by default) and the bounds of its period and
    the one before."""
    if period not in PERIODS:
        raise DomainError("invalid_input", "period is day, week or month")
    today = timezone.now().astimezone(zone(tz_name)).date()
    day = day or today
    return today, day, period_bounds(period, day)


def _rows(merchant: Merchant, first: dt.date, last: dt.date, today: dt.date, halls) -> list[dict]:
    stored = DayFigures.objects.filter(
        merchant=merchant, day__gte=first, day__lte=min(last, today - dt.timedelta(days=1))
    )
    out = list(stored.values("day", "service_id", "hall_id", "provider_id", *COUNTS))
    if first <= today <= last:
        out += [{"day": today, **r} for r in compute_day(merchant, today)]
    if halls is not None:  # a role limited to some halls: those halls' figures only
        out = [r for r in out if r["hall_id"] in halls]
    return out


def _sum(rows) -> dict:
    total = dict.fromkeys(COUNTS, 0)
    for r in rows:
        for k in COUNTS:
            total[k] += r[k]
    served = total["bookings"] - total["cancelled"] - total["cancelled_by_staff"]
    total["completion_rate"] = total["done"] / served if served else None
    total["on_time_rate"] = total["on_time"] / total["arrivals"] if total["arrivals"] else None
    total["utilisation"] = (
        total["busy_seconds"] / total["work_seconds"] if total["work_seconds"] else None
    )
    return total


def _by(rows, key: str, names: dict) -> list[dict]:
    groups: dict = defaultdict(list)
    for r in rows:
        if r[key] is not None and (r["bookings"] or key == "provider_id"):
            groups[r[key]].append(r)
    out = [{"id": k, "name": names.get(k, "?"), **_sum(v)} for k, v in groups.items()]
    return sorted(out, key=lambda r: (-r["bookings"], r["name"]))


def dashboard(*, actor, merchant_id: int, period: str = "week", day: dt.date | None = None):
    """The figures of the period holding `day` (the merchant's today by default) and of the
    one before: totals, a series by day, and tables by service, hall and provider. Owners and
    managers (a manager limited to some halls sees those halls')."""
    require_staff(actor, merchant_id, MANAGERS)
    merchant = Merchant.objects.filter(pk=merchant_id).first()
    if merchant is None:
        raise DomainError("not_found")
    today, day, (first, last, p_first, p_last) = _asked(period, day, merchant.timezone)
    halls = staff_halls(actor, merchant_id)
    rows = _rows(merchant, first, last, today, halls)
    before = _rows(merchant, p_first, p_last, today, halls)
    series = _series(rows, first, last)
    names = {
        "service_id": dict(Service.objects.filter(merchant=merchant).values_list("pk", "name")),
        "hall_id": dict(Hall.objects.filter(merchant=merchant).values_list("pk", "name")),
        "provider_id": dict(
            Provider.objects.filter(merchant=merchant).values_list("pk", "display_name")
        ),
    }
    ratings = list(
        Provider.objects.filter(merchant=merchant, active=True).values_list("rating", flat=True)
    )
    return {
        "merchant": merchant,
        "period": period,
        "day": day,
        "first": first,
        "last": last,
        "previous_first": p_first,
        "previous_last": p_last,
        "totals": _sum(rows),
        "previous": _sum(before),
        "series": series,
        "by_service": _by(rows, "service_id", names["service_id"]),
        "by_hall": _by(rows, "hall_id", names["hall_id"]),
        "by_provider": _by(rows, "provider_id", names["provider_id"]),
        "rating": round(sum(float(r) for r in ratings) / len(ratings), 2) if ratings else None,
    }


def _series(rows, first: dt.date, last: dt.date) -> list[dict]:
    """Bookings and money for every day of the period (a day with nothing is a zero)."""
    by_day: dict = defaultdict(list)
    for r in rows:
        by_day[r["day"]].append(r)
    series = []
    for i in range((last - first).days + 1):
        d = first + dt.timedelta(days=i)
        s = _sum(by_day.get(d, ()))
        series.append({"day": d, "bookings": s["bookings"], "paid_fen": s["paid_fen"]})
    return series


def platform_dashboard(*, actor, period: str = "week", day: dt.date | None = None) -> dict:
    """The whole platform's figures (operators): the period holding `day` against the one
    before, a series by day and a table by merchant. Read from the stored daily figures alone
    (each merchant's local days; today's are refreshed by the job every ten minutes), summed by
    the database: a few statements whatever the number of orders."""
    from django.conf import settings

    if not getattr(actor, "is_operator", False):
        raise DomainError("forbidden")
    _today, day, (first, last, p_first, p_last) = _asked(
        period, day, settings.YUYUE_DEFAULT_TIMEZONE
    )
    sums = {k: Sum(k) for k in COUNTS}
    stored = DayFigures.objects.order_by()
    by_day = list(stored.filter(day__gte=first, day__lte=last).values("day").annotate(**sums))
    before = list(stored.filter(day__gte=p_first, day__lte=p_last).values("day").annotate(**sums))
    by_merchant = list(
        stored.filter(day__gte=first, day__lte=last).values("merchant_id").annotate(**sums)
    )
    names = dict(Merchant.objects.values_list("pk", "name"))
    rated = Merchant.objects.filter(status=MerchantStatus.ACTIVE, reviews_count__gt=0)
    ratings = [float(r) for r in rated.values_list("rating", flat=True)]
    return {
        "period": period,
        "day": day,
        "first": first,
        "last": last,
        "previous_first": p_first,
        "previous_last": p_last,
        "totals": _sum(by_day),
        "previous": _sum(before),
        "series": _series(by_day, first, last),
        "by_merchant": _by(by_merchant, "merchant_id", names),
        "rating": round(sum(ratings) / len(ratings), 2) if ratings else None,
    }


TABLE_COLUMNS = (
    ("bookings", "Bookings 预约"),
    ("places", "Places 人数"),
    ("done", "Done 完成"),
    ("cancelled", "Cancelled 客户取消"),
    ("cancelled_by_staff", "By staff 商家取消"),
    ("no_shows", "No-shows 爽约"),
    ("paid_fen", "Paid ¥ 实收"),
    ("refunded_fen", "Refunded ¥ 退款"),
    ("completion_rate", "Completion 完成率"),
    ("on_time_rate", "On time 准时率"),
    ("utilisation", "Utilisation 利用率"),
)


def figures_xlsx(report: dict, table: str) -> bytes:
    """One of the dashboard's tables (by service, hall or provider; the platform's by merchant)
    as a sheet."""
    from .reports import _workbook

    tables = {"service": "by_service", "hall": "by_hall", "provider": "by_provider"}
    tables["merchant"] = "by_merchant"
    key = tables.get(table)
    if key is None or key not in report:
        raise DomainError("invalid_input", "table is service, hall or provider (or merchant)")
    header = [table.title(), *[label for _, label in TABLE_COLUMNS]]
    rows = []
    for r in report[key]:
        row = [r["name"]]
        for k, _ in TABLE_COLUMNS:
            v = r[k]
            row.append(
                v / 100 if k.endswith("_fen") else round(v, 4) if isinstance(v, float) else v
            )
        rows.append(row)
    money = {i + 2 for i, (k, _) in enumerate(TABLE_COLUMNS) if k.endswith("_fen")}
    title = f"{report['first']:%Y-%m-%d} – {report['last']:%Y-%m-%d}"[:31]
    return _workbook(title, header, rows, money_columns=money)
