"""Dispatch rounds in a seeded synthetic city: the optimal round against greedy nearest-first.

A 30 km × 30 km city around (31.23, 121.47) with five dense clusters. Orders come mostly from the
clusters (70%), providers are spread wider (40% in clusters), so demand and supply do not line up
everywhere. Four skills: an order needs one, a provider has one to three. A provider serves within
a radius of 8–10 km. Ratings 3.5–5.0, today's load 0–4 orders, capacity 1 in this round.

Cases: 1,000 open orders vs 3,000 providers, and the tight case 1,000 vs 1,200. In the same run,
on the same round:
- "optimal": `match_round` with the production weights (travel + rating + fairness of today's
  load), so it may travel further than greedy to spread work and prefer better-rated providers;
- "optimal, travel only": `match_round` with rating and fairness weights at zero, minimising
  travel alone — the like-for-like comparison with greedy, which picks by travel alone;
- "greedy": `greedy_nearest`, the reference design's one-order-at-a-time dispatcher.
Both optimal rounds serve as many orders as can be served at all, so they never win on travel by
serving fewer; travel per assigned order is shown too. Time is the whole call (pricing the
eligible pairs and solving), median of 5; the eligibility is built beforehand, as the dispatch
service does. A second table times the two optimal solvers on the same cost (same answer).

Targets: optimal (travel only) ≥ 5% less travel than greedy in the tight case, per assigned order
when the two serve different numbers; 1,000 × 3,000 solved in ≤ 0.5 s.

    .venv/bin/python bench/dispatch.py           # also run by bench/run.py
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import scipy
from scipy import sparse

SRC = Path(__file__).resolve().parent.parent / "src"
for _p in (SRC.parent, SRC):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from yuyue.dispatch.matching import (  # noqa: E402
    POLICIES,
    Candidate,
    OrderPoint,
    Weights,
    greedy_nearest,
    match_round,
    score,
)
from yuyue.dispatch.travel import HaversineEstimator, haversine_km  # noqa: E402

SEED = 20261124
CENTRE = (31.23, 121.47)
HALF_KM = 15.0
CLUSTERS = 5
SKILLS = 4
RADIUS_KM = (8.0, 10.0)
RUNS = 5
ESTIMATOR = HaversineEstimator()
TRAVEL_ONLY = Weights(rating=0.0, fairness=0.0)
KM_PER_DEG_LAT = 111.195


def log(*args) -> None:
    print(*args, file=sys.stderr, flush=True)


def to_latlng(xy_km: np.ndarray) -> np.ndarray:
    lat = CENTRE[0] + xy_km[:, 1] / KM_PER_DEG_LAT
    lng = CENTRE[1] + xy_km[:, 0] / (KM_PER_DEG_LAT * np.cos(np.radians(CENTRE[0])))
    return np.column_stack([lat, lng])


def city_layout(n_orders: int, n_providers: int, seed: int = SEED, scale: float = 1.0):
    """Places (lat/lng), order skills, provider skill bits, radii, ratings and today's loads of
    the synthetic city. `scale` multiplies its area and its clusters (10: a 95 × 95 km city
    with 50 clusters for ten times the people at the same density)."""
    rng = np.random.default_rng(seed)
    half, spread = HALF_KM * np.sqrt(scale), 10 * np.sqrt(scale)
    clusters = int(round(CLUSTERS * scale))
    centres = rng.uniform(-spread, spread, size=(clusters, 2))

    def place(n: int, clustered: float) -> np.ndarray:
        xy = rng.uniform(-half, half, size=(n, 2))
        near = rng.random(n) < clustered
        k = rng.integers(0, clusters, size=n)
        xy[near] = centres[k[near]] + rng.normal(0.0, 2.0, size=(int(near.sum()), 2))
        return to_latlng(np.clip(xy, -half, half))

    o_xy, p_xy = place(n_orders, 0.7), place(n_providers, 0.4)
    order_skill = rng.integers(0, SKILLS, size=n_orders)
    skills = np.zeros(n_providers, dtype=np.int64)  # bit s set: has skill s
    for j, count in enumerate(rng.integers(1, 4, size=n_providers)):
        for s in rng.choice(SKILLS, size=count, replace=False):
            skills[j] |= 1 << int(s)
    radius = rng.uniform(*RADIUS_KM, size=n_providers)
    rating = np.round(rng.uniform(3.5, 5.0, size=n_providers), 1)
    load = rng.integers(0, 5, size=n_providers)
    return o_xy, p_xy, order_skill, skills, radius, rating, load


def city(n_orders: int, n_providers: int, seed: int = SEED, scale: float = 1.0):
    """Orders, candidates and their eligibility (CSR) for one round in the synthetic city."""
    o_xy, p_xy, order_skill, skills, radius, rating, load = city_layout(
        n_orders, n_providers, seed, scale
    )
    orders = [OrderPoint(i, float(a), float(b)) for i, (a, b) in enumerate(o_xy)]
    candidates = [
        Candidate(
            1_000_000 + j,
            float(p_xy[j, 0]),
            float(p_xy[j, 1]),
            rating=float(rating[j]),
            load_today=int(load[j]),
        )
        for j in range(n_providers)
    ]
    rows, cols = [], []
    for start in range(0, n_orders, 500):  # in blocks: 10,000 × 30,000 at once is 2.4 GB
        km = haversine_km(o_xy[start : start + 500, None, :], p_xy[None, :, :])
        skill = order_skill[start : start + 500, None]
        ok = (km <= radius[None, :]) & (((skills[None, :] >> skill) & 1) == 1)
        r, c = np.nonzero(ok)
        rows.append(r + start)
        cols.append(c)
    r, c = np.concatenate(rows), np.concatenate(cols)
    eligible = sparse.csr_array((np.ones(r.size, bool), (r, c)), shape=(n_orders, n_providers))
    return orders, candidates, eligible


def timed(fn, runs: int = RUNS):
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return result, statistics.median(times)


def straight_km(assignments, orders, candidates) -> float:
    oi = {o.id: (o.lat, o.lng) for o in orders}
    ci = {c.id: (c.lat, c.lng) for c in candidates}
    if not assignments:
        return 0.0
    a = np.array([oi[x.order_id] for x in assignments])
    b = np.array([ci[x.candidate_id] for x in assignments])
    return float(haversine_km(a, b).sum())


def machine() -> str:
    cpu, ram = "unknown CPU", "? GiB"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        ram = f"{kb / 2**20:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {ram} RAM, Python {platform.python_version()}, "
        f"numpy {np.__version__}, scipy {scipy.__version__}"
    )


# --- the whole round, database included -----------------------------------------------------------


def seed_city(n_orders: int, n_providers: int, scale: float, seed: int = SEED) -> dict:
    """Write the synthetic city into the database: a merchant with one on-site service per
    skill, providers (users, skills, 08:00–20:00 every day, a tenth on leave 12:00–14:00
    tomorrow, a third with a job tomorrow), and open dispatch orders tomorrow 08:00–18:00."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from django.db import transaction

    from yuyue.accounts.models import Provider, User
    from yuyue.catalog.models import Merchant, MerchantStatus, Service, ServiceKind
    from yuyue.orders.models import Booking, BookingStatus, Channel
    from yuyue.scheduling.models import (
        AvailabilityException,
        ExceptionKind,
        ProviderReservation,
        WorkingHours,
    )

    o_xy, p_xy, order_skill, skills, radius, rating, _ = city_layout(
        n_orders, n_providers, seed, scale
    )
    rng = np.random.default_rng(seed + 1)
    sh = ZoneInfo("Asia/Shanghai")
    tomorrow = (dt.datetime.now(sh) + dt.timedelta(days=1)).date()
    batch = 2000
    with transaction.atomic():
        merchant = Merchant.objects.create(
            name="City Home Services", slug="city", status=MerchantStatus.ACTIVE
        )
        services = [
            Service.objects.create(
                merchant=merchant,
                name=f"Skill {k}",
                kind=ServiceKind.ON_SITE,
                duration_minutes=120,
                buffer_minutes=30,
                step_minutes=30,
            )
            for k in range(SKILLS)
        ]
        customer = User.objects.create(name="Customer", password="!")
        users = User.objects.bulk_create(
            (User(name=f"P{j}", password="!") for j in range(n_providers)), batch_size=batch
        )
        providers = Provider.objects.bulk_create(
            (
                Provider(
                    user=users[j],
                    merchant=merchant,
                    display_name=f"P{j}",
                    verified=True,
                    rating=float(rating[j]),
                    lat=float(p_xy[j, 0]),
                    lng=float(p_xy[j, 1]),
                    service_radius_km=float(radius[j]),
                )
                for j in range(n_providers)
            ),
            batch_size=batch,
        )
        through = Provider.services.through
        through.objects.bulk_create(
            (
                through(provider_id=p.pk, service_id=services[k].pk)
                for j, p in enumerate(providers)
                for k in range(SKILLS)
                if skills[j] >> k & 1
            ),
            batch_size=batch,
        )
        WorkingHours.objects.bulk_create(
            (
                WorkingHours(provider=p, weekday=d, start=dt.time(8), end=dt.time(20))
                for p in providers
                for d in range(7)
            ),
            batch_size=batch,
        )
        leave = rng.random(n_providers) < 0.1
        AvailabilityException.objects.bulk_create(
            (
                AvailabilityException(
                    provider=p,
                    date=tomorrow,
                    start=dt.time(12),
                    end=dt.time(14),
                    kind=ExceptionKind.LEAVE,
                )
                for j, p in enumerate(providers)
                if leave[j]
            ),
            batch_size=batch,
        )
        busy = rng.random(n_providers) < 1 / 3
        job_hour = rng.integers(8, 17, size=n_providers)
        ProviderReservation.objects.bulk_create(
            (
                ProviderReservation(
                    provider=p,
                    starts_at=(at := dt.datetime.combine(tomorrow, dt.time(int(job_hour[j])), sh)),
                    ends_at=at + dt.timedelta(hours=2),
                    blocked_until=at + dt.timedelta(hours=2, minutes=30),
                )
                for j, p in enumerate(providers)
                if busy[j]
            ),
            batch_size=batch,
        )
        half_hours = rng.integers(0, 21, size=n_orders)  # 08:00 … 18:00
        Booking.objects.bulk_create(
            (
                Booking(
                    customer=customer,
                    merchant=merchant,
                    service=services[int(order_skill[i])],
                    channel=Channel.DISPATCH,
                    status=BookingStatus.AWAITING_PROVIDER,
                    starts_at=(
                        at := dt.datetime.combine(tomorrow, dt.time(8), sh)
                        + dt.timedelta(minutes=30 * int(half_hours[i]))
                    ),
                    ends_at=at + dt.timedelta(hours=2),
                    lat=float(o_xy[i, 0]),
                    lng=float(o_xy[i, 1]),
                    address=f"{i} City Rd",
                    code=f"B{i:09d}",
                )
                for i in range(n_orders)
            ),
            batch_size=batch,
        )
    return {"merchant": merchant.pk}


def round_in_database(
    n_orders: int, n_providers: int, scale: float, runs: int = 3, policy: str = "balanced"
) -> dict:
    """Seed the city, then run `run_dispatch_round` as the worker does `runs` times (each on
    the same open orders: the offers are deleted and the orders reset in between, untimed),
    with its statements counted; then its parts alone on the same state: reading the facts
    and applying the rules (`_round_problem`), and the matcher on that problem."""
    from django.db import connection

    from yuyue.catalog.models import Merchant
    from yuyue.dispatch import services as dispatch
    from yuyue.dispatch.matching import POLICIES
    from yuyue.dispatch.models import Offer
    from yuyue.orders.models import Booking

    started = time.perf_counter()
    seed_city(n_orders, n_providers, scale)
    seeded = time.perf_counter() - started
    Merchant.objects.update(dispatch_policy=policy)
    statements: list[int] = []

    def count(execute, sql, params, many, context):
        statements[-1] += 1
        return execute(sql, params, many, context)

    wholes, offered = [], 0
    for _ in range(runs):
        statements.append(0)
        with connection.execute_wrapper(count):
            t0 = time.perf_counter()
            offered = len(dispatch.run_dispatch_round())
            wholes.append(time.perf_counter() - t0)
        Offer.objects.all().delete()
        Booking.objects.update(dispatch_rounds=0, needs_operator=False)
    from django.utils import timezone

    orders = list(dispatch.open_orders())
    now = timezone.now()
    plan, reads = timed(lambda: dispatch._round_problem(orders, now), runs)
    problem = plan.problem
    result, match = timed(lambda: match_round(problem, weights=POLICIES[policy]), runs)
    pairs = int(problem.eligible.nnz)
    return {
        "seed_s": seeded,
        "whole_s": statistics.median(wholes),
        "reads_rules_s": reads,
        "match_s": match,
        "statements": statements,
        "offers": offered,
        "pairs": pairs,
        "orders": len(orders),
        "providers": n_providers,
        "assigned": len(result),
    }


def policy_rows(label: str, orders, candidates, eligible) -> list[tuple]:
    """Each policy's round on the same city (every order under that policy), and greedy."""
    rows = []

    def add(name, result, seconds):
        sc, km = score(result, orders, candidates), straight_km(result, orders, candidates)
        rows.append((label, name, sc, km, seconds))

    for name, weights in POLICIES.items():
        add(
            f"optimal · {name}",
            *timed(lambda w=weights: match_round(orders, candidates, eligible, weights=w)),
        )
    add("greedy nearest-first", *timed(lambda: greedy_nearest(orders, candidates, eligible)))
    return rows


ROUND_CASES = [("1,000 × 3,000", 1000, 3000, 1.0), ("10,000 × 30,000", 10000, 30000, 10.0)]
ROUND_TARGETS = {"1,000 × 3,000": 1.0, "10,000 × 30,000": 10.0}


def whole_rounds(only_sqlite: bool = False) -> list[tuple[str, str, dict]]:
    """`round_in_database` for each case on a fresh SQLite file and PostgreSQL database."""
    from bench.common import (
        django_call,
        drop_postgres,
        fresh_postgres,
        fresh_sqlite,
        migrate,
        postgres_available,
    )

    out = []
    databases = [("SQLite", lambda name: fresh_sqlite(name))]
    if not only_sqlite and postgres_available():
        databases.append(("PostgreSQL", lambda name: fresh_postgres(name)))
    else:
        log("dispatch: whole rounds on SQLite only (--sqlite-only, or PostgreSQL not reachable)")
    for db_label, fresh in databases:
        for label, n, m, scale in ROUND_CASES:
            name = f"dispatch_round_{n}"
            url = fresh(name)
            log(f"dispatch: whole round {label} on {db_label}: migrating, seeding")
            migrate(url)
            got = django_call(
                url, "bench.dispatch:round_in_database", n_orders=n, n_providers=m, scale=scale
            )
            out.append((db_label, label, got))
            if db_label == "PostgreSQL":
                drop_postgres(name)
    return out


def main() -> int:
    cases = [("1,000 × 3,000", 1000, 3000), ("1,000 × 1,200 (tight)", 1000, 1200)]
    rows, solver_rows, verdicts = [], [], []
    for label, n, m in cases:
        log(f"dispatch: {label}")
        orders, candidates, eligible = city(n, m)
        args = (orders, candidates, eligible)
        density = eligible.nnz / (n * m)
        rows += policy_rows(label, *args)
        for solver in ("dense", "sparse"):
            result, seconds = timed(
                lambda a=args, s=solver: match_round(*a, estimator=ESTIMATOR, solver=s)
            )
            solver_rows.append(
                (label, density, solver, sum(x.cost for x in result), len(result), seconds)
            )
        got = {name: (sc, t) for lab, name, sc, _, t in rows if lab == label}
        travel, _ = got["optimal · travel"]
        greedy, _ = got["greedy nearest-first"]
        same = travel.assigned == greedy.assigned
        basis = "total" if same else "per assigned order"
        ratio = (
            travel.total_travel / greedy.total_travel
            if same
            else travel.mean_travel / greedy.mean_travel
        )
        extra = {
            name: got[f"optimal · {name}"][0].mean_travel / travel.mean_travel
            for name in ("balanced", "quality")
        }
        verdicts.append(
            f"{label}: optimal (travel) / greedy travel, {basis} = {ratio:.3f} "
            f"({1 - ratio:.1%} less); served {travel.assigned} vs greedy {greedy.assigned}; "
            f"travel per served order above the travel policy's: balanced "
            f"{extra['balanced'] - 1:+.1%}, quality {extra['quality'] - 1:+.1%}"
        )
        if "tight" in label:
            ok = ratio <= 0.95 and travel.assigned >= greedy.assigned
            verdicts.append(
                f"TARGET optimal ≥ 5% less travel than greedy (tight case, {basis}): "
                f"{1 - ratio:.1%} less — {'PASS' if ok else 'FAIL'}"
            )

    print("# dispatch.py — dispatch rounds: the matcher, the policies, the whole round\n")
    print(f"Machine: {machine()}\n")
    print("## The matcher alone, each policy and greedy\n")
    print(
        "| case | method | served | travel min (total) | km (total, straight) | min / served order "
        "| p50 min | p95 min | time s | load Gini |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for label, name, sc, km, seconds in rows:
        print(
            f"| {label} | {name} | {sc.share_assigned:.1%} ({sc.assigned}) | "
            f"{sc.total_travel:,.0f} | {km:,.0f} | {sc.mean_travel:.2f} | {sc.p50_travel:.2f} "
            f"| {sc.p95_travel:.2f} | {seconds:.3f} | {sc.load_gini:.3f} |"
        )
    print("\nOptimal solvers on the same cost (balanced policy):\n")
    print("| case | eligible pairs | solver | total cost | served | time s |")
    print("| --- | --- | --- | --- | --- | --- |")
    for label, density, solver, cost, assigned, seconds in solver_rows:
        print(f"| {label} | {density:.1%} | {solver} | {cost:,.1f} | {assigned} | {seconds:.3f} |")

    print("\n## The whole round as the worker runs it, database included\n")
    print(
        "| database | case | eligible pairs | offers | whole round s | reads + rules s "
        "| matcher s | statements per round | seeding s |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    by_db: dict[str, set] = {}
    for db_label, label, got in whole_rounds("--sqlite-only" in sys.argv):
        print(
            f"| {db_label} | {label} | {got['pairs']:,} | {got['offers']:,} "
            f"| {got['whole_s']:.3f} | {got['reads_rules_s']:.3f} | {got['match_s']:.3f} "
            f"| {', '.join(map(str, got['statements']))} | {got['seed_s']:.0f} |"
        )
        by_db.setdefault(db_label, set()).update(got["statements"])
        target = ROUND_TARGETS[label]
        verdicts.append(
            f"TARGET whole round {label} ≤ {target:g} s on {db_label}: {got['whole_s']:.3f} s — "
            f"{'PASS' if got['whole_s'] <= target else 'FAIL'}"
        )
    for db_label, counts in by_db.items():
        verdicts.append(
            f"statements per round on {db_label}: {sorted(counts)} — "
            f"{'the same for every size' if len(counts) == 1 else 'DIFFER by size'}"
        )
    print()
    for v in verdicts:
        print("- " + v)
    return 0


if __name__ == "__main__":
    sys.exit(main())
