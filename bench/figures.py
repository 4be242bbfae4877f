"""The merchant's figures dashboard on 200,000 orders: the summary job's time and the
dashboard's server time.

For SQLite (a fresh file) and PostgreSQL (a fresh database), each migrated and seeded in a
subprocess with one merchant of 3 halls, 4 hall services, an on-site service and 40 providers,
and 200,000 orders over the 365 days up to today (hall places, and on-site orders with their
arrivals; some paid, cancelled, refunded, no-shows), this

1. runs the summary job over every day (`billing.figures.summarise_day`) and reports its time;
2. starts gunicorn (2 workers x 4 threads, production settings), signs the owner in through the
   sign-in form, and asks `/shop/figures/` for a day, a week and a month `--requests` times, one
   at a time, reporting p50/p95 of the time to the last byte (target: p95 <= 100 ms);
3. as the baseline, times working a month out from the orders themselves (`compute_day` for
   each of its days, what the dashboard would do without the summary table).

    .venv/bin/python bench/figures.py [--requests 100] [--only sqlite|postgres] [--orders 200000]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402

from bench.common import (  # noqa: E402
    PROJECT_DIR,
    PYTHON,
    LiveServer,
    django_call,
    django_env,
    fresh_postgres,
    fresh_sqlite,
    log,
    machine,
    migrate,
    percentile,
    postgres_available,
    table,
)

TARGET_P95_MS = 100.0
PHONE = "+8613700000888"
PASSWORD = "bench-figures-pass"


def seed(orders: int = 200_000, days: int = 365) -> dict:
    """One merchant's year of orders, written in bulk."""
    import datetime as dt
    import random

    from django.db import transaction
    from django.db.models import F, OuterRef, Subquery
    from django.utils import timezone

    from yuyue.accounts.models import MerchantStaff, Provider, StaffRole, User
    from yuyue.catalog.models import Hall, Merchant, MerchantStatus, Service, ServiceKind
    from yuyue.core.timeutil import local_day_bounds, zone
    from yuyue.orders.models import Booking, BookingEvent, BookingStatus, Channel, PaymentStatus
    from yuyue.scheduling.models import TimeSlot, WorkingHours

    rng = random.Random(2026)
    merchant = Merchant.objects.create(
        name="Bench figures", slug="bench-figures", status=MerchantStatus.ACTIVE
    )
    owner = User.objects.create_user(phone=PHONE, password=PASSWORD, name="Bench owner")
    MerchantStaff.objects.create(user=owner, merchant=merchant, role=StaffRole.OWNER)
    halls = [Hall.objects.create(merchant=merchant, name=f"Hall {i}") for i in range(3)]
    services = [
        Service.objects.create(
            merchant=merchant, name=f"Hall service {i}", kind=ServiceKind.HALL_SLOT,
            duration_minutes=60, base_price_fen=5000 + 1000 * i,
        )
        for i in range(4)
    ]  # fmt: skip
    onsite = Service.objects.create(
        merchant=merchant, name="Cleaning", kind=ServiceKind.ON_SITE, duration_minutes=120,
        base_price_fen=12000,
    )  # fmt: skip
    customers = [User.objects.create_user(phone=f"+86139{i:08d}") for i in range(300)]
    providers = []
    for i in range(40):
        p = Provider.objects.create(
            user=User.objects.create_user(phone=f"+86137{i:08d}"), merchant=merchant,
            display_name=f"Provider {i}", verified=True, lat=31.23, lng=121.47,
        )  # fmt: skip
        p.services.add(onsite)
        providers.append(p)
    WorkingHours.objects.bulk_create(
        WorkingHours(provider=p, weekday=d, start=dt.time(8), end=dt.time(18))
        for p in providers
        for d in range(6)
    )
    tz = zone(merchant.timezone)
    today = timezone.now().astimezone(tz).date()
    per_day = orders // days
    statuses = [BookingStatus.CHECKED_IN] * 6 + [
        BookingStatus.BOOKED, BookingStatus.CANCELLED, BookingStatus.CANCELLED_BY_STAFF,
        BookingStatus.NO_SHOW,
    ]  # fmt: skip
    n = 0
    for back in range(days):
        day = today - dt.timedelta(days=back)
        base = local_day_bounds(day, tz)[0]
        slots = TimeSlot.objects.bulk_create(
            TimeSlot(
                service=s, hall=h, starts_at=base + dt.timedelta(hours=9 + k),
                ends_at=base + dt.timedelta(hours=10 + k), capacity=100,
            )
            for s in services
            for h in halls
            for k in range(8)
        )  # fmt: skip
        rows = []
        for i in range(per_day):
            n += 1
            paid = rng.random() < 0.8
            if i % 5 == 0:
                start = base + dt.timedelta(hours=8 + rng.randrange(8))
                status = rng.choice([BookingStatus.COMPLETED] * 4 + [BookingStatus.CANCELLED])
                rows.append(
                    Booking(
                        customer=rng.choice(customers), merchant=merchant, service=onsite,
                        channel=Channel.DISPATCH, provider=rng.choice(providers), status=status,
                        payment_status=PaymentStatus.PAID if paid else PaymentStatus.NOT_REQUIRED,
                        price_fen=12000, starts_at=start, ends_at=start + dt.timedelta(hours=2),
                        address="1 Bench Rd", lat=31.23, lng=121.47, code=f"F{n:011d}",
                    )
                )  # fmt: skip
            else:
                slot = rng.choice(slots)
                rows.append(
                    Booking(
                        customer=rng.choice(customers), merchant=merchant,
                        service_id=slot.service_id, slot=slot, channel=Channel.HALL_SLOT,
                        status=rng.choice(statuses),
                        payment_status=PaymentStatus.PAID if paid else PaymentStatus.NOT_REQUIRED,
                        price_fen=6000, starts_at=slot.starts_at, ends_at=slot.ends_at,
                        code=f"F{n:011d}",
                    )
                )  # fmt: skip
        with transaction.atomic():
            made = Booking.objects.bulk_create(rows, batch_size=2000)
            arrivals = [
                BookingEvent(
                    booking=b, step="arrive", from_status="departed", to_status="arrived",
                    role="provider",
                )
                for b in made
                if b.status == BookingStatus.COMPLETED
            ]  # fmt: skip
            events = BookingEvent.objects.bulk_create(arrivals, batch_size=2000)
            ids = [e.pk for e in events]
            # `at` is auto_now_add: set it to the order's start, and a quarter 30 minutes late
            BookingEvent.objects.filter(pk__in=ids).update(
                at=Subquery(
                    Booking.objects.filter(pk=OuterRef("booking_id")).values("starts_at")[:1]
                )
            )
            BookingEvent.objects.filter(pk__in=ids[::4]).update(
                at=F("at") + dt.timedelta(minutes=30)
            )
    return {"orders": n, "days": days, "merchant_id": merchant.pk, "today": today.isoformat()}


def summarise_all(days: int = 365) -> dict:
    import datetime as dt

    from django.utils import timezone

    from yuyue.billing.figures import summarise_day
    from yuyue.catalog.models import Merchant
    from yuyue.core.timeutil import zone

    merchant = Merchant.objects.get(slug="bench-figures")
    today = timezone.now().astimezone(zone(merchant.timezone)).date()
    t0 = time.perf_counter()
    rows = sum(summarise_day(merchant, today - dt.timedelta(days=b)) for b in range(days))
    return {"seconds": time.perf_counter() - t0, "rows": rows}


def month_from_orders() -> dict:
    """The baseline: a month worked out from the orders (no summary table)."""
    import datetime as dt

    from django.utils import timezone

    from yuyue.billing.figures import compute_day
    from yuyue.catalog.models import Merchant
    from yuyue.core.timeutil import zone

    merchant = Merchant.objects.get(slug="bench-figures")
    today = timezone.now().astimezone(zone(merchant.timezone)).date()
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        for b in range(30):
            compute_day(merchant, today - dt.timedelta(days=b))
        times.append(time.perf_counter() - t0)
    return {"ms": min(times) * 1000}


def _sign_in(client: httpx.Client) -> None:
    form = client.get("/sign-in/?with=password")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    reply = client.post(
        "/sign-in/",
        data={
            "csrfmiddlewaretoken": token,
            "action": "password",
            "phone": PHONE,
            "password": PASSWORD,
            "next": "/shop/",
        },
        headers={"Referer": str(client.base_url) + "/sign-in/"},
    )
    if reply.status_code != 302:
        raise RuntimeError(f"sign-in failed: {reply.status_code} {reply.text[:300]}")


def run(label: str, url: str, *, orders: int, requests: int) -> dict:
    import subprocess

    migrate(url)
    t0 = time.perf_counter()
    seeded = django_call(url, "bench.figures:seed", orders=orders)
    log(f"[{label}] {seeded['orders']} orders seeded in {time.perf_counter() - t0:.0f} s")
    job = django_call(url, "bench.figures:summarise_all")
    log(f"[{label}] summary job over 365 days: {job['seconds']:.1f} s, {job['rows']} rows")
    baseline = django_call(url, "bench.figures:month_from_orders")
    subprocess.run(
        [PYTHON, str(PROJECT_DIR / "manage.py"), "collectstatic", "--noinput", "-v", "0"],
        env=django_env(url),
        cwd=PROJECT_DIR,
        check=True,
    )
    pages = {}
    with (
        LiveServer(url, workers=2, threads=4, settings_module="yuyue.settings") as server,
        httpx.Client(base_url=server.url, timeout=60) as client,
    ):
        _sign_in(client)
        for period in ("day", "week", "month"):
            path = f"/shop/figures/?period={period}"
            first = client.get(path)
            if first.status_code != 200:
                raise RuntimeError(f"{path}: {first.status_code} {first.text[:300]}")
            times = []
            for _ in range(requests):
                t0 = time.perf_counter()
                reply = client.get(path)
                reply.read()
                times.append(time.perf_counter() - t0)
            pages[period] = {
                "p50_ms": percentile(times, 50) * 1000,
                "p95_ms": percentile(times, 95) * 1000,
            }
    return {"seeded": seeded, "job": job, "baseline_ms": baseline["ms"], "pages": pages}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    args = parser.parse_args(argv)
    databases = []
    if args.only != "postgres":
        databases.append(("SQLite", lambda: fresh_sqlite("figures")))
    if args.only != "sqlite" and postgres_available():
        databases.append(("PostgreSQL", lambda: fresh_postgres("yuyue_bench_figures")))
    rows, worst = [], 0.0
    for label, fresh in databases:
        got = run(label, fresh(), orders=args.orders, requests=args.requests)
        for period, r in got["pages"].items():
            worst = max(worst, r["p95_ms"])
            rows.append(
                (
                    label,
                    f"{got['seeded']['orders']:,}",
                    period,
                    f"{r['p50_ms']:.1f}",
                    f"{r['p95_ms']:.1f}",
                    f"{got['job']['seconds']:.1f}",
                    f"{got['baseline_ms']:.0f}",
                )
            )
    print("# figures.py — the merchant's figures dashboard\n")
    print(f"Machine: {machine()}\n")
    print(
        table(
            [
                "database",
                "orders",
                "dashboard",
                "p50 ms",
                "p95 ms",
                "summary job, 365 days (s)",
                "a month from the orders (ms)",
            ],
            rows,
        )
    )
    verdict = "PASS" if worst <= TARGET_P95_MS else "FAIL"
    print(f"\nTARGET p95 <= {TARGET_P95_MS:g} ms: worst {worst:.1f} ms {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
