"""Prices: a quote with a breakdown — base × quantity, options (m², people), peak-hour windows,
weekends, China's public holidays with the adjusted working days 调休 (from chinese-calendar, not
a hand list), and a travel fee by distance. The base is the service's price, or the merchant's
price list valid that day. Integer fen throughout; percentages round down."""

from __future__ import annotations

import datetime as dt
from functools import cache, partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from yuyue.catalog.models import MerchantStatus, Service
from yuyue.core import sql
from yuyue.core.errors import DomainError
from yuyue.core.timeutil import ahead, zone
from yuyue.scheduling.availability import haversine_km

from .holidays import day_kind
from .models import PriceList, PriceListItem, Quote

MAX_QUANTITY = 50


def unit_price(service: Service, when: dt.datetime, *, listed: bool = True) -> tuple[int, str]:
    """The price of one unit of `service` at `when`: from the newest of its merchant's active
    price lists valid that (local) day, else the service's base price. (fen, list name or "").

    `listed=False` says the caller already knows (from `listed_sql`) that no active list names
    the service: the base price, with no statement."""
    if not listed:
        return service.base_price_fen, ""
    day = sql.param(
        PriceList, "valid_from", when.astimezone(zone(service.merchant.timezone)).date()
    )
    # Asked by every order (a hall booking too): one statement built once, not an ORM query.
    item = sql.fetch_one(_price_item_sql(), [service.pk, True, service.merchant_id, day, day])
    return (item[0], item[1]) if item else (service.base_price_fen, "")


def chosen_unit_price(service: Service, provider, when: dt.datetime) -> int:
    """The price of one unit with a chosen provider: the provider's own price where they set
    one (the price their card shows), else the service's price of that day (`unit_price`)."""
    if provider is not None and provider.price_fen is not None:
        return provider.price_fen
    return unit_price(service, when)[0]


def listed_sql(service_alias: str) -> str:
    """An SQL expression, true when an active price list (of any period) names the service whose
    row is aliased `service_alias` in the caller's query: for `unit_price(listed=...)`."""
    return (
        f"EXISTS (SELECT 1 FROM {sql.table(PriceListItem)} INNER JOIN {sql.table(PriceList)}"
        f" ON {sql.column(PriceList, 'id')} = {sql.column(PriceListItem, 'price_list')}"
        f" WHERE {sql.column(PriceListItem, 'service')} = {service_alias}."
        f"{sql.qn(Service._meta.pk.column)} AND {sql.column(PriceList, 'active')} = TRUE)"
    )


@cache
def _price_item_sql() -> str:
    """The unit price and list name of the newest active list of the merchant valid on a day."""
    col = partial(sql.column, PriceList)
    return (
        f"SELECT {sql.column(PriceListItem, 'unit_price_fen')}, {col('name')}"
        f" FROM {sql.table(PriceListItem)} INNER JOIN {sql.table(PriceList)}"
        f" ON {col('id')} = {sql.column(PriceListItem, 'price_list')}"
        f" WHERE {sql.column(PriceListItem, 'service')} = %s AND {col('active')} = %s"
        f" AND {col('merchant')} = %s AND {col('valid_from')} <= %s"
        f" AND ({col('valid_until')} IS NULL OR {col('valid_until')} >= %s)"
        f" ORDER BY {col('valid_from')} DESC, {sql.column(PriceListItem, 'price_list')} DESC"
        " LIMIT 1"
    )


def price(
    service: Service,
    *,
    starts_at: dt.datetime,
    quantity: int = 1,
    options: dict | None = None,
    lat: float | None = None,
    lng: float | None = None,
    unit: tuple[int, str] | None = None,
) -> tuple[int, list[dict]]:
    """The total and its lines. `unit` is `unit_price(service, starts_at)` when the caller
    already has it (a page pricing every start of one day looks it up once)."""
    rules = service.pricing or {}
    options = options or {}
    if isinstance(quantity, bool) or not 1 <= quantity <= MAX_QUANTITY:
        raise DomainError("invalid_input", f"quantity is 1 to {MAX_QUANTITY}.")
    unit, price_list = unit or unit_price(service, starts_at)
    lines = [{"item": "base", "fen": unit * quantity}]
    if price_list:
        lines[0]["price_list"] = price_list
    area = options.get("area_m2")
    if area is not None:
        if isinstance(area, bool) or not isinstance(area, int | float) or not 0 < area <= 10_000:
            raise DomainError("invalid_input", "area_m2 is 1 to 10000.")
        if rules.get("per_m2_fen"):
            lines.append({"item": "area", "fen": int(area * rules["per_m2_fen"])})
    people = options.get("people")
    if people is not None:
        if isinstance(people, bool) or not isinstance(people, int) or not 1 <= people <= 20:
            raise DomainError("invalid_input", "people is 1 to 20.")
        if rules.get("per_person_fen") and people > 1:
            lines.append({"item": "people", "fen": (people - 1) * rules["per_person_fen"]})
    subtotal = sum(line["fen"] for line in lines)
    local = starts_at.astimezone(zone(service.merchant.timezone))
    for window in rules.get("peak", []):
        start, end = dt.time.fromisoformat(window["start"]), dt.time.fromisoformat(window["end"])
        if start <= local.time() < end:
            lines.append({"item": "peak", "fen": subtotal * int(window["percent"]) // 100})
            break
    kind, known = day_kind(local.date())
    if not known and rules.get("holiday_percent"):
        # no holiday rate can be applied: say so rather than quote a holiday as a plain day
        lines.append({"item": "calendar_unknown", "year": local.year, "fen": 0})
    if kind == "holiday" and rules.get("holiday_percent"):
        lines.append({"item": "holiday", "fen": subtotal * int(rules["holiday_percent"]) // 100})
    elif kind == "weekend" and rules.get("weekend_percent"):
        lines.append({"item": "weekend", "fen": subtotal * int(rules["weekend_percent"]) // 100})
    if lat is not None and lng is not None and rules.get("per_km_fen"):
        origin = service.merchant
        if origin.lat is not None:
            km = haversine_km(origin.lat, origin.lng, lat, lng)
            extra_m = max(0, int(km * 1000) - int(float(rules.get("free_km", 0)) * 1000))
            if extra_m:  # whole metres x fen per km, rounded down: integers only
                fee = extra_m * int(rules["per_km_fen"]) // 1000
                lines.append({"item": "travel", "km": round(km, 2), "fen": fee})
    return sum(line["fen"] for line in lines), lines


def make_quote(
    *,
    actor,
    service_id: int,
    starts_at: dt.datetime,
    quantity: int = 1,
    options: dict | None = None,
    lat: float | None = None,
    lng: float | None = None,
) -> Quote:
    service = Service.objects.select_related("merchant").filter(pk=service_id).first()
    if service is None or not service.active or service.merchant.status != MerchantStatus.ACTIVE:
        raise DomainError("not_found")
    ahead(starts_at)
    total, lines = price(
        service, starts_at=starts_at, quantity=quantity, options=options, lat=lat, lng=lng
    )
    with transaction.atomic():
        return Quote.objects.create(
            service=service,
            customer=actor if getattr(actor, "pk", None) else None,
            starts_at=starts_at,
            quantity=quantity,
            options=options or {},
            lat=lat,
            lng=lng,
            breakdown=lines,
            total_fen=total,
            expires_at=timezone.now() + dt.timedelta(minutes=settings.YUYUE_QUOTE_MINUTES),
        )


def valid_quote(
    *, quote_id: int, customer, service_id: int, starts_at: dt.datetime, quantity: int
) -> Quote:
    """The quote an order is being made from, if it may be: unexpired, unused, the customer's
    (or anonymous), for the same service, time and quantity."""
    quote = Quote.objects.filter(pk=quote_id).first()
    if quote is None or (quote.customer_id and quote.customer_id != customer.pk):
        raise DomainError("not_found")
    if quote.used_by_id:
        raise DomainError("quote_used")
    if quote.expires_at <= timezone.now():
        raise DomainError("quote_expired")
    if (quote.service_id, quote.starts_at, quote.quantity) != (service_id, starts_at, quantity):
        raise DomainError("quote_mismatch")
    return quote


def use_quote(quote: Quote, booking) -> None:
    """Lock the quote to the order (inside the order's transaction), once."""
    if not Quote.objects.filter(pk=quote.pk, used_by__isnull=True).update(used_by=booking):
        raise DomainError("quote_used")


def create_price_list(
    *,
    actor,
    merchant_id: int,
    name: str,
    valid_from: dt.date,
    valid_until: dt.date | None,
    items: list[dict],
):
    """A merchant's owner or manager sets prices for a period: [{service_id, unit_price_fen}]."""
    from yuyue.accounts.auth import MANAGERS, require_staff
    from yuyue.core.audit import audit

    from .models import PriceList

    require_staff(actor, merchant_id, MANAGERS)
    if not name.strip():
        raise DomainError("invalid_input", "A price list needs a name.")
    if valid_until is not None and valid_until < valid_from:
        raise DomainError("invalid_input", "valid_until is before valid_from.")
    if not items:
        raise DomainError("invalid_input", "A price list needs at least one item.")
    services = dict(
        Service.objects.filter(
            merchant_id=merchant_id, pk__in=[i["service_id"] for i in items]
        ).values_list("pk", "pk")
    )
    seen = set()
    for item in items:
        fen = item["unit_price_fen"]
        if item["service_id"] not in services:  # not this merchant's: as if it did not exist
            raise DomainError("not_found")
        if item["service_id"] in seen:
            raise DomainError(
                "invalid_input", "Each item names one of this merchant's services once."
            )
        if isinstance(fen, bool) or not isinstance(fen, int) or not 0 <= fen <= 10**10:
            raise DomainError("invalid_amount", max=10**10)
        seen.add(item["service_id"])
    with transaction.atomic():
        price_list = PriceList.objects.create(
            merchant_id=merchant_id,
            name=name.strip(),
            valid_from=valid_from,
            valid_until=valid_until,
        )
        PriceListItem.objects.bulk_create(
            PriceListItem(
                price_list=price_list,
                service_id=item["service_id"],
                unit_price_fen=item["unit_price_fen"],
            )
            for item in items
        )
        audit(actor, "price_list.create", price_list, items=len(items))
    return price_list
