"""Who may take which open order, for a whole round (or one pair) at once.

A round once asked the database about every (order, provider) pair: 68,710 statements for 100
orders × 310 providers. Here the facts are read in a fixed number of set-based statements
whatever the number of pairs, and the rules are checked in memory with numpy:

1. the providers who offer the round's services, with their skills, open orders, orders done
   today, pending offers and recent breaches (six statements);
2. who is near each order: a KD-tree (scipy's cKDTree) of the providers' home bases on the unit
   sphere gives every pair within the largest service radius; the exact test (haversine within
   the provider's own radius) follows on those pairs only;
3. working windows of every (provider, local day) the pairs meet (two statements,
   `scheduling.availability.working_windows`) and the reservations of the round's time span
   with their travel buffers (one), each checked for all pairs at once by a sorted search.

The rules are those of taking an order one at a time (`reasons`, the same code for one pair,
as `services.can_take` uses it); the database's guard in `orders.placing.reserve_provider_time`
is still the final word when an offer is accepted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from django.db.models import Count
from scipy.spatial import cKDTree

from yuyue.accounts.models import Duty, Provider
from yuyue.core import sql
from yuyue.core.timeutil import zone
from yuyue.orders.models import Booking, BookingStatus
from yuyue.scheduling.availability import EARTH_KM, working_windows
from yuyue.scheduling.models import ProviderReservation

from .models import Offer, OfferStatus
from .record import recent_breaches

ACTIVE = (
    BookingStatus.ACCEPTED,
    BookingStatus.DEPARTED,
    BookingStatus.ARRIVED,
    BookingStatus.IN_SERVICE,
)
# A reason per pair, in the order the rules are checked; REASONS[code] is the error code.
OK, UNQUALIFIED, OUTSIDE, AT_CAPACITY, UNAVAILABLE, BUSY = range(6)
REASONS = (
    "",
    "provider_unqualified",
    "outside_service_area",
    "provider_at_capacity",
    "provider_unavailable",
    "provider_busy",
)
_SPAN = np.int64(1) << 40  # seconds: keys (provider index, time) sort by provider, then time


@dataclass
class Orders:
    """Orders as arrays: place, times in whole seconds since the epoch, service."""

    items: list[Booking]
    lat: np.ndarray
    lng: np.ndarray
    start: np.ndarray
    end: np.ndarray
    block: np.ndarray  # end + the service's travel buffer: what a reservation would block
    service: np.ndarray

    @classmethod
    def of(cls, bookings: list[Booking]) -> Orders:
        n = len(bookings)
        lat = np.fromiter((np.nan if b.lat is None else b.lat for b in bookings), float, n)
        lng = np.fromiter((np.nan if b.lng is None else b.lng for b in bookings), float, n)
        start = np.fromiter((int(b.starts_at.timestamp()) for b in bookings), np.int64, n)
        end = np.fromiter((-int(-b.ends_at.timestamp() // 1) for b in bookings), np.int64, n)
        buffer = np.fromiter((b.service.buffer_minutes * 60 for b in bookings), np.int64, n)
        service = np.fromiter((b.service_id for b in bookings), np.int64, n)
        return cls(bookings, lat, lng, start, end, end + buffer, service)

    def __len__(self) -> int:
        return len(self.items)


@dataclass
class Pool:
    """Providers as arrays, with what the rules need of each."""

    ids: np.ndarray
    lat: np.ndarray
    lng: np.ndarray
    radius: np.ndarray
    rating: np.ndarray
    qualified: np.ndarray  # active and verified
    max_open: np.ndarray
    open_now: np.ndarray
    done_today: np.ndarray
    pending: np.ndarray  # holding a pending offer
    breaches: np.ndarray  # recent breaches (record.recent_breaches), read for a round only
    zones: list[str]
    skills: np.ndarray  # sorted keys index << 32 | service id
    subquery: object  # the providers' ids, for the statements that follow

    def __len__(self) -> int:
        return self.ids.size


def load_pool(
    service_ids, *, provider_ids=None, today: dt.date | None = None, for_round: bool = False
) -> Pool:
    """The providers of a round (active, verified, on duty, offering one of `service_ids`), or
    exactly `provider_ids` whatever their state (a single take reports why not)."""
    service_ids = sorted({int(s) for s in service_ids})
    if provider_ids is None:
        base = Provider.objects.filter(
            active=True, verified=True, duty=Duty.ON, services__in=service_ids
        )
    else:
        base = Provider.objects.filter(pk__in=list(provider_ids))
    rows = sorted(
        set(
            base.order_by().values_list(
                "id",
                "lat",
                "lng",
                "service_radius_km",
                "rating",
                "max_open_orders",
                "timezone",
                "merchant__timezone",
                "active",
                "verified",
            )
        )
    )
    subquery = base.order_by().values("pk")
    m = len(rows)
    ids = np.fromiter((r[0] for r in rows), np.int64, m)
    index = {int(pid): j for j, pid in enumerate(ids)}

    def column(k, dtype, missing=np.nan):
        return np.fromiter((missing if r[k] is None else r[k] for r in rows), dtype, m)

    def counts(pairs) -> np.ndarray:
        out = np.zeros(m, np.int64)
        for pid, n in pairs:
            out[index[pid]] = n
        return out

    through = Provider.services.through
    skill_rows = through.objects.filter(provider__in=subquery, service_id__in=service_ids)
    skills = np.sort(
        np.fromiter(
            ((index[p] << 32) | s for p, s in skill_rows.values_list("provider_id", "service_id")),
            np.int64,
        )
    )
    open_now = counts(
        Booking.objects.filter(provider__in=subquery, status__in=ACTIVE)
        .order_by()
        .values_list("provider")
        .annotate(n=Count("id"))
    )
    if for_round:
        done_today, pending, breaches = _round_counts(subquery, index, counts, today)
    else:
        done_today, pending, breaches = (
            np.zeros(m, np.int64),
            np.zeros(m, bool),
            np.zeros(m, np.int64),
        )
    return Pool(
        ids=ids,
        lat=column(1, float),
        lng=column(2, float),
        radius=column(3, float, 0.0),
        rating=np.fromiter((float(r[4]) for r in rows), float, m),
        qualified=np.fromiter((bool(r[8] and r[9]) for r in rows), bool, m),
        max_open=column(5, np.int64, 0),
        open_now=open_now,
        done_today=done_today,
        pending=pending,
        breaches=breaches,
        zones=[r[7] or r[6] for r in rows],
        skills=skills,
        subquery=subquery,
    )


def _round_counts(subquery, index: dict, counts, today) -> tuple:
    """What only a round weighs: orders done today, a pending offer, recent breaches."""
    m = len(index)
    breaches = np.zeros(m, np.int64)
    for pid, n in recent_breaches(subquery).items():
        breaches[index[pid]] = n
    done_today = counts(
        Booking.objects.filter(
            provider__in=subquery, status=BookingStatus.COMPLETED, starts_at__date=today
        )
        .order_by()
        .values_list("provider")
        .annotate(n=Count("id"))
    )
    pending = np.zeros(m, bool)
    for (pid,) in Offer.objects.filter(
        provider__in=subquery, status=OfferStatus.PENDING
    ).values_list("provider_id"):
        pending[index[pid]] = True
    return done_today, pending, breaches


# --- who is near ---------------------------------------------------------------------------------


def _unit(lat: np.ndarray, lng: np.ndarray) -> np.ndarray:
    p, lam = np.radians(lat), np.radians(lng)
    return np.column_stack([np.cos(p) * np.cos(lam), np.cos(p) * np.sin(lam), np.sin(p)])


def _km(lat1, lng1, lat2, lng2) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lng2 - lng1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_KM * np.arcsin(np.minimum(1.0, np.sqrt(a)))


def near_pairs(orders: Orders, pool: Pool) -> tuple[np.ndarray, np.ndarray]:
    """(order index, provider index) of every pair whose provider is qualified, has the
    order's skill and covers its address: for each service, a KD-tree of its providers and one
    of its orders on the unit sphere give the pairs within the largest radius among them, and
    each pair's great-circle distance (from the chord the trees measure) is held against the
    provider's own radius. Pairs come grouped by service, not sorted."""
    placed_o = ~np.isnan(orders.lat) & ~np.isnan(orders.lng)
    ready = ~np.isnan(pool.lat) & ~np.isnan(pool.lng) & pool.qualified
    skilled, skill = pool.skills >> 32, pool.skills & 0xFFFFFFFF
    out_o, out_p = [], []
    for service in np.unique(orders.service[placed_o]):
        o_idx = np.flatnonzero(placed_o & (orders.service == service))
        p_idx = skilled[skill == service]
        p_idx = p_idx[ready[p_idx]]
        if not p_idx.size:
            continue
        reach = float(pool.radius[p_idx].max())
        chord = 2 * np.sin(min(reach / EARTH_KM, np.pi) / 2) * (1 + 1e-9)
        found = cKDTree(_unit(orders.lat[o_idx], orders.lng[o_idx])).sparse_distance_matrix(
            cKDTree(_unit(pool.lat[p_idx], pool.lng[p_idx])), chord, output_type="ndarray"
        )
        oi, pj = o_idx[found["i"]], p_idx[found["j"]]
        km = 2 * EARTH_KM * np.arcsin(np.minimum(1.0, found["v"] / 2))
        inside = km <= pool.radius[pj]
        out_o.append(oi[inside])
        out_p.append(pj[inside])
    if not out_o:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(out_o).astype(np.int64), np.concatenate(out_p).astype(np.int64)


# --- the rules -----------------------------------------------------------------------------------


def reasons(
    orders: Orders, pool: Pool, oi: np.ndarray, pj: np.ndarray, *, holding: int = OK
) -> np.ndarray:
    """For each pair (orders[oi[k]], pool[pj[k]]) the first rule it breaks (OK if none): the
    provider is active, verified and has the skill; the address is within their radius; they
    are under their cap of open orders; the job lies inside one of their working windows of its
    local day; and job + buffer overlap none of their reservations (with theirs). `holding`:
    the pairs are known to keep the rules up to that one (`near_pairs` gives pairs that hold
    up to OUTSIDE), which are not checked again."""
    out = np.zeros(oi.size, np.int8)

    def rule(code: int, broken) -> None:
        live = np.flatnonzero(out == OK)
        if live.size and code > holding:
            bad = broken(oi[live], pj[live])
            out[live[bad]] = code

    def unqualified(o, p):
        keys = (p << 32) | orders.service[o]
        has = np.isin(keys, pool.skills, assume_unique=False)
        return ~pool.qualified[p] | ~has

    def outside(o, p):
        km = _km(orders.lat[o], orders.lng[o], pool.lat[p], pool.lng[p])
        return ~(km <= pool.radius[p])  # NaN (no place) is outside too

    rule(UNQUALIFIED, unqualified)
    rule(OUTSIDE, outside)
    rule(AT_CAPACITY, lambda o, p: pool.open_now[p] >= pool.max_open[p])
    rule(UNAVAILABLE, lambda o, p: ~_works(orders, pool, o, p))
    rule(BUSY, lambda o, p: _busy(orders, pool, o, p))
    return out


def _local_days(orders: Orders, pool: Pool, o: np.ndarray, p: np.ndarray) -> np.ndarray:
    """The proleptic ordinal of each pair's job start on the provider's local calendar."""
    names = sorted(set(pool.zones))
    zone_of = np.array([names.index(z) for z in pool.zones], np.int64)
    days = np.zeros((len(names), len(orders)), np.int64)
    wanted = np.unique(o)
    for z, name in enumerate(names):
        tz = zone(name)
        for i in wanted:
            days[z, i] = dt.datetime.fromtimestamp(int(orders.start[i]), tz).toordinal()
    return days[zone_of[p], o]


def _works(orders: Orders, pool: Pool, o: np.ndarray, p: np.ndarray) -> np.ndarray:
    day = _local_days(orders, pool, o, p)
    # the distinct (provider, day) met, by marking a table rather than sorting the pairs
    days, day_no = np.unique(day, return_inverse=True) if day.size < 64 else _few(day)
    met = np.zeros(len(pool) * days.size, bool)
    met[p * days.size + day_no] = True
    combos = np.flatnonzero(met)
    who, when = combos // days.size, days[combos % days.size]
    windows = working_windows(
        {int(pool.ids[j]): pool.zones[j] for j in np.unique(who)},
        {(int(pool.ids[j]), dt.date.fromordinal(int(d))) for j, d in zip(who, when, strict=True)},
        pool.subquery,
    )
    index = {int(pid): j for j, pid in enumerate(pool.ids)}
    wp, ws, we = [], [], []
    for (pid, _), spans in windows.items():
        for a, b in spans:
            wp.append(index[pid])
            ws.append(a)
            we.append(b)
    if not wp:
        return np.zeros(o.size, bool)
    t0 = min(min(ws), int(orders.start.min())) - 1
    wp, ws, we = np.array(wp, np.int64), np.array(ws, np.int64), np.array(we, np.int64)
    keys = wp * _SPAN + (ws - t0)
    order = np.argsort(keys, kind="stable")
    keys, wp, we = keys[order], wp[order], we[order]
    # the window starting last at or before the job's start; windows of a day are disjoint
    pos = np.searchsorted(keys, p * _SPAN + (orders.start[o] - t0), side="right") - 1
    hit = pos >= 0
    pos = np.maximum(pos, 0)
    return hit & (wp[pos] == p) & (we[pos] >= orders.end[o])


def _few(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`np.unique(values, return_inverse=True)` for many values of few kinds (a round's days),
    without sorting them all."""
    lo = int(values.min())
    counts = np.bincount(values - lo)
    kinds = np.flatnonzero(counts)
    number = np.zeros(counts.size, np.int64)
    number[kinds] = np.arange(kinds.size)
    return kinds + lo, number[values - lo]


def _busy(orders: Orders, pool: Pool, o: np.ndarray, p: np.ndarray) -> np.ndarray:
    lo = dt.datetime.fromtimestamp(int(orders.start[o].min()), dt.UTC)
    hi = dt.datetime.fromtimestamp(int(orders.block[o].max()), dt.UTC)
    rows = ProviderReservation.objects.filter(
        provider__in=pool.subquery, active=True, starts_at__lt=hi, blocked_until__gt=lo
    ).values_list("provider", "starts_at", "blocked_until")
    index = {int(pid): j for j, pid in enumerate(pool.ids)}
    rp, rs, rb = [], [], []
    for pid, starts, blocked in rows:
        rp.append(index[pid])
        rs.append(int(starts.timestamp() // 1))
        rb.append(-int(-blocked.timestamp() // 1))
    if not rp:
        return np.zeros(o.size, bool)
    t0 = min(min(rs), int(orders.start.min())) - 1
    rp, rs, rb = np.array(rp, np.int64), np.array(rs, np.int64), np.array(rb, np.int64)
    keys = rp * _SPAN + (rs - t0)
    order = np.argsort(keys, kind="stable")
    keys, rp = keys[order], rp[order]
    # the latest end among a provider's reservations so far (a later provider's keys are all
    # larger, so the running maximum starts afresh with each provider)
    reach = np.maximum.accumulate(rp * _SPAN + (rb[order] - t0))
    # the last reservation starting before the job (and its buffer) ends
    pos = np.searchsorted(keys, p * _SPAN + (orders.block[o] - t0), side="left") - 1
    hit = pos >= 0
    pos = np.maximum(pos, 0)
    return hit & (rp[pos] == p) & (reach[pos] - p * _SPAN > orders.start[o] - t0)


def passed_on(orders: Orders, pool: Pool, oi: np.ndarray, pj: np.ndarray) -> np.ndarray:
    """Whether each pair's provider already had this order offered and did not take it."""
    order_index = {b.pk: i for i, b in enumerate(orders.items)}
    index = {int(pid): j for j, pid in enumerate(pool.ids)}
    seen = [
        order_index[b] * len(pool) + index[p]
        for b, p in Offer.objects.filter(booking_id__in=sql.id_list(list(order_index)))
        .exclude(status=OfferStatus.PENDING)
        .values_list("booking_id", "provider_id")
        if p in index
    ]
    if not seen:
        return np.zeros(oi.size, bool)
    return np.isin(oi * len(pool) + pj, np.array(seen, np.int64))
