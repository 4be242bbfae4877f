"""Booking throughput against the framework limit, and provider-availability search latency.

For SQLite (a fresh file) and PostgreSQL (a fresh database `yuyue_bench`), each migrated and
seeded through the ORM in a subprocess, this starts gunicorn (2 worker processes x 16 threads)
and measures with 16 concurrent keep-alive clients:

1. the bare insert endpoint (`POST /api/_bench/insert`: one row in one transaction), the baseline;
2. the same behind the bearer-token check every booking passes (`POST /api/_bench/insert-authed`);
3. bookings spread over many slots (each by its own customer: little contention);
4. bookings of one hot slot with a big capacity (every request updates the same row);

and reports req/s and the ratio to both baselines (target: booking >= 0.8x bare insert, judged
against the authenticated one, the same stack a booking runs on). Then it
calls `GET /api/services/{id}/provider-availability` for 2,000 providers around one point with
200,000 reservations over 30 days, one request at a time, and reports p50/p95 (target p95 <= 50 ms)
beside the health endpoint's latency on the same server.

    .venv/bin/python bench/booking.py [--requests 2000] [--only sqlite|postgres] [--no-search]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    BENCH_DIR,
    LiveServer,
    Req,
    cpu_per_request,
    cpu_snapshot,
    django_call,
    fresh_postgres,
    fresh_sqlite,
    load,
    log,
    machine,
    migrate,
    percentile,
    postgres_available,
    sequential,
    table,
)

CENTER = (31.23, 121.47)  # People's Square, Shanghai
CLIENTS = 16
WORKERS, THREADS = 2, 16
TARGET_RATIO = 0.8
TARGET_P95_MS = 50.0


# --- seeding (runs inside a Django process for one database, see bench.common.django_call) -----


def _people(n: int, prefix: str):
    from yuyue.accounts.models import User

    users = [User(name=f"{prefix} {i}") for i in range(n)]
    for u in users:
        u.set_unusable_password()
    return User.objects.bulk_create(users, batch_size=1000)


def seed_throughput(*, customers: int, spread_slots: int, hot_slots: int, warmup: int) -> dict:
    """A hall-slot service with many slots and some hot slots (one per round), and customers
    with bearer keys."""
    from django.db import transaction
    from django.utils import timezone

    from yuyue.accounts.tokens import issue_token
    from yuyue.catalog.models import Hall, Merchant, MerchantStatus, Service, ServiceKind
    from yuyue.scheduling.models import TimeSlot

    with transaction.atomic():
        merchant = Merchant.objects.create(
            name="Bench Hall", slug="bench-hall", status=MerchantStatus.ACTIVE
        )
        hall = Hall.objects.create(merchant=merchant, name="Hall A")
        service = Service.objects.create(
            merchant=merchant, name="Bench visit", kind=ServiceKind.HALL_SLOT, duration_minutes=60
        )
        base = (timezone.now() + dt.timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
        hour = dt.timedelta(hours=1)
        slots = TimeSlot.objects.bulk_create(
            [
                TimeSlot(
                    service=service,
                    hall=hall,
                    starts_at=base + i * hour,
                    ends_at=base + (i + 1) * hour,
                    capacity=customers,
                )
                for i in range(spread_slots + hot_slots + 1)
            ]
        )
        keys = [issue_token(user=u, via="password")[0] for u in _people(customers, "customer")]
    return {
        "spread": [s.pk for s in slots[:spread_slots]],
        "hot": [s.pk for s in slots[spread_slots:-1]],
        "warm": slots[-1].pk,
        "keys": keys,
        "warmup": warmup,
    }


def seed_search(*, providers: int, reservations: int, days: int, seed: int = 20261124) -> dict:
    """One on-site service, `providers` providers within ~20 km of CENTER with weekly hours, and
    `reservations` reservations (never overlapping per provider) over the next `days` days."""
    from zoneinfo import ZoneInfo

    from django.db import connection, transaction
    from django.utils import timezone

    from yuyue.accounts.models import Provider
    from yuyue.accounts.tokens import issue_token
    from yuyue.catalog.models import Merchant, MerchantStatus, Service, ServiceKind
    from yuyue.scheduling.models import ProviderReservation, WorkingHours

    rng = random.Random(seed)
    tz = ZoneInfo("Asia/Shanghai")
    today = timezone.now().astimezone(tz).date()
    with transaction.atomic():
        merchant = Merchant.objects.create(
            name="Bench Home Services", slug="bench-home", status=MerchantStatus.ACTIVE
        )
        service = Service.objects.create(
            merchant=merchant,
            name="Home cleaning",
            kind=ServiceKind.ON_SITE,
            duration_minutes=60,
            buffer_minutes=30,
            step_minutes=30,
            base_price_fen=10000,
        )
        rows = []
        for i, user in enumerate(_people(providers, "provider")):
            r_km = 20 * math.sqrt(rng.random())
            theta = rng.uniform(0, 2 * math.pi)
            lat = CENTER[0] + r_km * math.cos(theta) / 111.32
            lng = CENTER[1] + r_km * math.sin(theta) / (111.32 * math.cos(math.radians(CENTER[0])))
            rows.append(
                Provider(
                    user=user,
                    merchant=merchant,
                    display_name=f"P{i}",
                    lat=lat,
                    lng=lng,
                    service_radius_km=rng.uniform(5, 20),
                    verified=True,
                )
            )
        provs = Provider.objects.bulk_create(rows, batch_size=1000)
        Provider.services.through.objects.bulk_create(
            [Provider.services.through(provider_id=p.pk, service_id=service.pk) for p in provs],
            batch_size=2000,
        )
        hours = []
        for p in provs:
            day_off = rng.randrange(7)
            start = dt.time(rng.choice([8, 9]))
            end = dt.time(rng.choice([18, 20]))
            hours += [
                WorkingHours(provider=p, weekday=d, start=start, end=end)
                for d in range(7)
                if d != day_off
            ]
        WorkingHours.objects.bulk_create(hours, batch_size=5000)
        key = issue_token(user=_people(1, "searcher")[0], via="password")[0]

    # Each provider gets the same number of jobs; a day holds 3 or 4 of the 1-hour jobs on a
    # 2-hour grid, so jobs (with their 30-minute buffer) never overlap.
    per_provider = reservations // providers
    per_day = [per_provider // days + (1 if d < per_provider % days else 0) for d in range(days)]
    grid = [8, 10, 12, 14, 16, 18]
    batch: list[ProviderReservation] = []
    made = 0
    for p in provs:
        order = list(range(days))
        rng.shuffle(order)
        for d, count in zip(order, per_day, strict=True):
            day = today + dt.timedelta(days=d)
            for h in rng.sample(grid, min(count, len(grid))):
                starts = dt.datetime.combine(day, dt.time(h), tzinfo=tz).astimezone(dt.UTC)
                ends = starts + dt.timedelta(minutes=60)
                batch.append(
                    ProviderReservation(
                        provider=p,
                        starts_at=starts,
                        ends_at=ends,
                        blocked_until=ends + dt.timedelta(minutes=30),
                    )
                )
            if len(batch) >= 5000:
                ProviderReservation.objects.bulk_create(batch)
                made += len(batch)
                batch = []
    ProviderReservation.objects.bulk_create(batch)
    made += len(batch)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # what autovacuum would soon do after a bulk load
    return {
        "service_id": service.pk,
        "key": key,
        "today": today.isoformat(),
        "days": days,
        "providers": len(provs),
        "reservations": made,
    }


# --- measuring --------------------------------------------------------------------------------


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Accept-Language": "en"}


def _check(name: str, result, *ok: int) -> str:
    if result.ok(*ok):
        return ""
    log(f"!! {name}: unexpected statuses {dict(result.statuses)}")
    for status, text in result.samples.items():
        if status not in ok:
            log(f"   {status}: {text}")
    return " (!)"


def measure_throughput(server: LiveServer, seeds: dict, requests: int) -> dict:
    """Rounds of (bare insert, spread bookings, hot-slot bookings), interleaved so that drift in
    the machine's speed hits every workload alike; each workload's median rate is reported."""
    keys, spread = seeds["keys"], seeds["spread"]
    bare = [Req("POST", "/api/_bench/insert")] * requests
    authed = [
        Req("POST", "/api/_bench/insert-authed", headers=_auth(keys[i])) for i in range(requests)
    ]

    def book(slot_id: int, i: int) -> Req:
        return Req("POST", "/api/bookings", {"slot_id": slot_id, "places": 1}, _auth(keys[i]))

    # Warm up every worker thread (imports, URL resolver, first connections).
    load(server.url, bare[:200], clients=CLIENTS)
    load(server.url, [book(seeds["warm"], i) for i in range(seeds["warmup"])], clients=CLIENTS)

    rates: dict[str, list[float]] = {"bare": [], "authed": [], "spread": [], "hot": []}
    cpu: dict[str, list[dict]] = {name: [] for name in rates}
    flags = dict.fromkeys(rates, "")

    def measured(name: str, reqs: list[Req]):
        before = cpu_snapshot(server.pid)
        result = load(server.url, reqs, clients=CLIENTS)
        cpu[name].append(cpu_per_request(before, cpu_snapshot(server.pid), len(reqs)))
        return result

    for r, hot in enumerate(seeds["hot"]):
        runs = {
            "bare": (measured("bare", bare), 200),
            "authed": (measured("authed", authed), 200),
            # customer i books a different spread slot in every round: never the limit
            "spread": (
                measured(
                    "spread", [book(spread[(i + r) % len(spread)], i) for i in range(requests)]
                ),
                201,
            ),
            "hot": (measured("hot", [book(hot, i) for i in range(requests)]), 201),
        }
        for name, (result, ok) in runs.items():
            rates[name].append(result.rate)
            flags[name] = flags[name] or _check(f"{name} (round {r + 1})", result, ok)
    median = {name: statistics.median(v) for name, v in rates.items()}
    cpu_median = {
        name: {part: statistics.median(c[part] for c in runs_) for part in runs_[0]}
        for name, runs_ in cpu.items()
    }
    return {"rates": rates, "median": median, "flags": flags, "cpu": cpu_median}


def _count_providers(body) -> int:
    if isinstance(body, list):
        return len(body)
    if isinstance(body, dict):
        for key in ("providers", "items", "results"):
            if isinstance(body.get(key), list):
                return len(body[key])
    return 0


def measure_search(server: LiveServer, seeds: dict, calls: int) -> dict:
    """Sequential searches at random points within 12 km of CENTER on random days, for the
    endpoint's default answer size (20 providers) and its largest (100)."""
    rng = random.Random(7)
    today = dt.date.fromisoformat(seeds["today"])
    headers = _auth(seeds["key"])
    points = []
    for _ in range(calls):
        day = today + dt.timedelta(days=rng.randrange(1, seeds["days"]))
        r_km = 12 * math.sqrt(rng.random())
        theta = rng.uniform(0, 2 * math.pi)
        lat = CENTER[0] + r_km * math.cos(theta) / 111.32
        lng = CENTER[1] + r_km * math.sin(theta) / (111.32 * math.cos(math.radians(CENTER[0])))
        points.append(
            f"/api/services/{seeds['service_id']}/provider-availability"
            f"?date={day.isoformat()}&lat={lat:.5f}&lng={lng:.5f}"
        )
    out: dict = {"health": sequential(server.url, [Req("GET", "/api/health")] * calls)}
    for name, suffix in (("limit 20", ""), ("limit 100", "&limit=100")):
        reqs = [Req("GET", p + suffix, headers=headers) for p in points]
        found: list[int] = []
        failures: list[str] = []

        def check(resp, found=found, failures=failures) -> None:
            if resp.status_code != 200:
                failures.append(f"{resp.status_code} {resp.text[:300]}")
            else:
                found.append(_count_providers(resp.json()))

        sequential(server.url, reqs[:20] * 2)  # warm up both workers
        latencies = sequential(server.url, reqs, check=check)
        if failures:
            log(f"!! availability search ({name}): {len(failures)} failures, first: {failures[0]}")
        out[name] = {
            "latencies": latencies,
            "failures": len(failures),
            "found": sum(found) / len(found) if found else 0.0,
        }
    return out


def run_database(label: str, url: str, args) -> dict:
    t0 = time.perf_counter()
    migrate(url)
    log(f"[{label}] migrated in {time.perf_counter() - t0:.1f} s")
    customers = args.requests + 100
    t0 = time.perf_counter()
    seeds = django_call(
        url,
        "bench.booking:seed_throughput",
        customers=customers,
        spread_slots=args.spread_slots,
        hot_slots=args.rounds,
        warmup=100,
    )
    log(
        f"[{label}] seeded {customers} customers, {args.spread_slots + args.rounds + 1} slots in "
        f"{time.perf_counter() - t0:.1f} s"
    )
    search_seeds = None
    if args.search:
        t0 = time.perf_counter()
        search_seeds = django_call(
            url,
            "bench.booking:seed_search",
            providers=args.providers,
            reservations=args.reservations,
            days=30,
        )
        log(
            f"[{label}] seeded {search_seeds['providers']} providers, "
            f"{search_seeds['reservations']} reservations in {time.perf_counter() - t0:.1f} s"
        )
    result = {}
    server = LiveServer(
        url,
        workers=WORKERS,
        threads=THREADS,
        settings_module="yuyue.settings",
        env={"YUYUE_BENCH_ENDPOINTS": "1"},
    )
    with server:
        t0 = time.perf_counter()
        result["throughput"] = measure_throughput(server, seeds, args.requests)
        log(f"[{label}] throughput measured in {time.perf_counter() - t0:.1f} s")
        if search_seeds:
            t0 = time.perf_counter()
            result["search"] = measure_search(server, search_seeds, args.search_calls)
            result["search"]["seeds"] = search_seeds
            log(f"[{label}] search measured in {time.perf_counter() - t0:.1f} s")
        errors = [line for line in server.output().splitlines() if "Error" in line]
        if errors:
            log(f"[{label}] server log has errors, e.g.: {errors[:3]}")
    return result


def report(results: dict[str, dict], args) -> str:
    labels = list(results)
    out = [
        f"## Booking throughput ({CLIENTS} clients, {args.requests} requests per run, "
        f"median of {args.rounds} interleaved rounds, gunicorn {WORKERS} workers x "
        f"{THREADS} threads)",
        "",
    ]
    headers = ["workload"]
    for label in labels:
        headers += [f"{label} req/s", f"{label} x bare", f"{label} x bare+auth"]
    rows = []
    names = [
        ("bare", "bare insert (baseline)"),
        ("authed", "bare insert + bearer auth (baseline)"),
        ("spread", "booking, spread over slots"),
        ("hot", "booking, one hot slot"),
    ]
    for key, name in names:
        row = [name]
        for label in labels:
            t = results[label]["throughput"]
            rate = t["median"][key]
            row += [
                f"{rate:.0f}{t['flags'][key]}",
                f"{rate / t['median']['bare']:.2f}",
                f"{rate / t['median']['authed']:.2f}",
            ]
        rows.append(row)
    out.append(table(headers, rows))
    out.append("")

    def worst(base: str) -> float:
        return min(
            results[label]["throughput"]["median"][k] / results[label]["throughput"]["median"][base]
            for label in labels
            for k in ("spread", "hot")
        )

    def spread_of(label: str) -> str:
        v = results[label]["throughput"]["rates"]["bare"]
        return f"{label} {(max(v) - min(v)) / statistics.median(v):.0%}"

    w_auth, w_bare = worst("authed"), worst("bare")
    out.append(
        f"Target: booking >= {TARGET_RATIO:.1f}x bare insert; worst here {w_auth:.2f}x the "
        f"authenticated insert ({'met' if w_auth >= TARGET_RATIO else 'NOT met'}), {w_bare:.2f}x "
        f"the unauthenticated one ({'met' if w_bare >= TARGET_RATIO else 'NOT met'}). Bare insert "
        f"varied between rounds by " + ", ".join(spread_of(label) for label in labels) + "."
    )
    out += ["", *cpu_report(results, labels, names)]
    searched = [label for label in labels if "search" in results[label]]
    if searched:
        s0 = results[searched[0]]["search"]["seeds"]
        out += [
            "",
            f"## Provider availability search ({s0['providers']} providers, "
            f"{s0['reservations']} reservations over {s0['days']} days, "
            f"{args.search_calls} sequential calls)",
            "",
        ]
        rows = []
        worst_p95 = 0.0
        for label in searched:
            s = results[label]["search"]
            health = percentile([x * 1000 for x in s["health"]], 50)
            for name in ("limit 20", "limit 100"):
                lat = [x * 1000 for x in s[name]["latencies"]]
                worst_p95 = max(worst_p95, percentile(lat, 95))
                rows.append(
                    [
                        label,
                        name,
                        f"{percentile(lat, 50):.1f}",
                        f"{percentile(lat, 95):.1f}",
                        f"{max(lat):.1f}",
                        f"{health:.1f}",
                        f"{s[name]['found']:.0f}",
                        str(s[name]["failures"]),
                    ]
                )
        out.append(
            table(
                [
                    "database",
                    "answer size",
                    "p50 ms",
                    "p95 ms",
                    "max ms",
                    "health p50 ms",
                    "providers per answer",
                    "failures",
                ],
                rows,
            )
        )
        out += [
            "",
            f"Target: p95 <= {TARGET_P95_MS:.0f} ms; worst here {worst_p95:.1f} ms "
            f"({'met' if worst_p95 <= TARGET_P95_MS else 'NOT met'}).",
        ]
    out += ["", f"Machine: {machine()}. Run {dt.datetime.now().strftime('%Y-%m-%d %H:%M')}."]
    return "\n".join(out)


def cpu_report(results: dict, labels: list[str], names: list[tuple[str, str]]) -> list[str]:
    """Where the CPU goes: per request, in the server, in PostgreSQL and in the load generator,
    which all share the machine's cores, so a row's rate is about the inverse of its sum."""
    parts = [("web", "web"), ("database", "database"), ("load", "load gen")]
    shown = {
        label: [p for p in parts if p[0] != "database" or label != "SQLite"] for label in labels
    }
    headers = ["workload"] + [f"{label} {title}" for label in labels for _, title in shown[label]]
    rows = []
    for key, name in names:
        row = [name]
        for label in labels:
            cpu = results[label]["throughput"]["cpu"][key]
            row += [f"{cpu[part]:.2f}" for part, _ in shown[label]]
        rows.append(row)
    lines = [
        "CPU per request under this load (ms, median of the rounds; web: gunicorn and its "
        "workers, SQLite included; database: PostgreSQL's processes; load gen: the clients):",
        "",
        table(headers, rows),
        "",
    ]
    for label in labels:
        cpu = results[label]["throughput"]["cpu"]
        total = {key: sum(cpu[key].values()) for key, _ in names}
        extra = {key: total[key] - total["bare"] for key in ("spread", "hot")}
        db = {key: cpu[key]["database"] - cpu["bare"]["database"] for key in ("spread", "hot")}
        lines.append(
            f"{label}: the bare insert costs {total['bare']:.2f} ms in all, a booking "
            f"{extra['spread']:.2f} (spread) / {extra['hot']:.2f} (hot) ms more"
            + (
                f", {db['spread']:.2f} / {db['hot']:.2f} ms of it in PostgreSQL"
                if label != "SQLite"
                else ""
            )
            + f"; {TARGET_RATIO:.1f}x the bare insert's rate allows "
            f"{total['bare'] * (1 / TARGET_RATIO - 1):.2f} ms more."
        )
        # The clients' CPU is about the same for every workload, so sharing the cores with them
        # pulls every ratio towards 1: the server's own CPU gives the ratio a load generator on
        # another machine would see.
        server = {key: total[key] - cpu[key]["load"] for key in ("bare", "authed", "spread", "hot")}
        lines.append(
            f"{label}, the server's CPU alone (web"
            + ("" if label == "SQLite" else " + database")
            + f", without the load generator's share): bookings would run at "
            f"{server['bare'] / server['spread']:.2f}x (spread) / "
            f"{server['bare'] / server['hot']:.2f}x (hot) the bare insert's rate, "
            f"{server['authed'] / server['spread']:.2f}x / {server['authed'] / server['hot']:.2f}x "
            "the authenticated insert's."
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per throughput row")
    parser.add_argument("--spread-slots", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved throughput rounds")
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    parser.add_argument("--no-search", dest="search", action="store_false")
    parser.add_argument("--providers", type=int, default=2000)
    parser.add_argument("--reservations", type=int, default=200_000)
    parser.add_argument("--search-calls", type=int, default=200)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    results: dict[str, dict] = {}
    if args.only in (None, "sqlite"):
        results["SQLite"] = run_database("SQLite", fresh_sqlite("yuyue_bench"), args)
    if args.only in (None, "postgres"):
        if postgres_available():
            results["PostgreSQL"] = run_database("PostgreSQL", fresh_postgres("yuyue_bench"), args)
        else:
            log("PostgreSQL not reachable (BENCH_PG_URL): skipped")
    text = report(results, args)
    print(text)
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    (BENCH_DIR / "booking.md").write_text(text + "\n")
    (BENCH_DIR / "booking.json").write_text(json.dumps(results, default=str, indent=1))
    log(f"bench/booking.py done in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
