"""The customer's pages: server time and transferred size of each, on the demo data and on the
benchmark data (2,000 providers and 200,000 reservations beside it).

For SQLite (a fresh file) and PostgreSQL (a fresh database), each migrated and seeded in a
subprocess, this starts gunicorn (2 workers x 4 threads, production settings) and asks each page
`--requests` times, one request at a time on one keep-alive client signed in with a session
cookie (the pages' own sign-in, through the sign-in form), and reports p50/p95 of the time to the
last byte (the server's time plus loopback) and the bytes transferred: the page's HTML, and for
a first visit the HTML with its stylesheet and script (the browser caches them after); an htmx
step is the fragment alone. Targets: p95 <= 50 ms for every page; <= 100 KB for a first page
load (photos aside); <= 20 KB per htmx step.

    .venv/bin/python bench/pages.py [--requests 200] [--only sqlite|postgres] [--no-big]
"""

from __future__ import annotations

import argparse
import datetime as dt
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

TARGET_P95_MS = 50.0
TARGET_FIRST_KB = 100.0
TARGET_STEP_KB = 20.0
PHONE = "+8613700000999"
PASSWORD = "bench-pages-pass"


# --- seeding (inside a Django process, see bench.common.django_call) ----------------------------


def seed_customer() -> dict:
    """A customer with a password, a hall-slot booking paid and one unpaid, on the first
    merchant's hall-slot service that has slots in the coming days (the demo's passport hall)."""
    from django.db import transaction
    from django.utils import timezone

    from yuyue.accounts.models import User
    from yuyue.billing import ledger
    from yuyue.billing.models import AccountKind
    from yuyue.billing.payments import pay_with_wallet, wallet
    from yuyue.catalog.models import Service
    from yuyue.orders.placing import book_slot
    from yuyue.scheduling.models import SlotStatus, TimeSlot

    user = User.objects.create_user(phone=PHONE, password=PASSWORD, name="Bench Customer")
    now = timezone.now()
    slots = (
        TimeSlot.objects.filter(
            status=SlotStatus.OPEN,
            starts_at__gt=now + dt.timedelta(days=1),
            service__form_fields__isnull=True,
        )
        .select_related("service")
        .order_by("starts_at")
    )
    open_slots = [s for s in slots[:200] if s.capacity is None or s.booked + 2 <= s.capacity]
    first, second = open_slots[0], open_slots[1]
    with transaction.atomic():  # money in the wallet, as a top-up would put it there
        ledger.post_transfer(
            key=f"bench-pages:{user.pk}",
            kind="top_up",
            legs=[
                (ledger.account(AccountKind.GATEWAY_CLEARING), -1_000_000),
                (wallet(user.pk), 1_000_000),
            ],
        )
    paid = book_slot(actor=user, slot_id=first.pk, places=1, participants=None)
    if paid.payment_status == "unpaid":
        pay_with_wallet(actor=user, booking_id=paid.pk, coupon=None)
    # the demo's hall services are free: a paid one beside them, for the payment page
    paid_service = Service.objects.create(
        merchant_id=first.service.merchant_id,
        name="Photo for documents",
        kind="hall_slot",
        duration_minutes=30,
        base_price_fen=3000,
    )
    priced = TimeSlot.objects.create(
        service=paid_service,
        hall_id=second.hall_id,
        starts_at=second.starts_at,
        ends_at=second.starts_at + dt.timedelta(minutes=30),
        capacity=10,
    )
    unpaid = book_slot(actor=user, slot_id=priced.pk, places=1, participants=None)
    service = Service.objects.get(pk=first.service_id)
    day = first.starts_at.astimezone(timezone.get_current_timezone()).date()
    from django.db.models import Count

    onsite = (  # the one most providers offer: the 2,000 of the big data when they are there
        Service.objects.filter(kind="on_site", active=True)
        .annotate(n=Count("providers"))
        .order_by("-n", "pk")
        .first()
    )
    remote = Service.objects.filter(kind="remote", active=True).order_by("pk").first()
    carer = onsite.providers.filter(verified=True, active=True).order_by("pk").first()
    from yuyue.catalog.models import Category
    from yuyue.dispatch.taskhall import publish_need

    need = publish_need(
        actor=user,
        category_id=onsite.category_id
        or Category.objects.order_by("pk").values_list("pk", flat=True).first(),
        title="Bench move",
        description="",
        starts_at=now + dt.timedelta(days=2),
        duration_minutes=120,
        address="1 Bench Road",
        lat=31.2304,
        lng=121.4737,
        budget_fen=30000,
    )
    return {
        "provider_id": carer.pk,
        "need_id": need.pk,
        "service_id": service.pk,
        "day": day.isoformat(),
        "booking_id": paid.pk,
        "unpaid_id": unpaid.pk,
        "merchant": service.merchant.slug,
        "onsite_id": onsite.pk if onsite else None,
        "remote_id": remote.pk if remote else None,
        "tomorrow": (timezone.now() + dt.timedelta(days=1)).date().isoformat(),
    }


# --- measuring ----------------------------------------------------------------------------------


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
            "next": "/my/bookings/",
        },
        headers={"Referer": str(client.base_url) + "/sign-in/"},
    )
    if reply.status_code != 302:
        raise RuntimeError(f"sign-in failed: {reply.status_code} {reply.text[:300]}")


def _assets(html: str) -> list[str]:
    """What a first visit loads with the page: stylesheet, script, and a booking's QR image
    (photos would be left out)."""
    return re.findall(r'(?:href|src)="(/static/[^"]+\.(?:css|js)|/bookings/[^"]+/qr\.svg)"', html)


def measure(server: LiveServer, seeds: dict, requests: int) -> list[dict]:
    pages = [
        ("home", "/", False),
        ("search", "/?q=passport", False),
        ("sign in", "/sign-in/", False),
        ("service (a day's slots)", f"/services/{seeds['service_id']}/?day={seeds['day']}", False),
        (
            "htmx: the day's slots again",
            f"/services/{seeds['service_id']}/?part=slots&day={seeds['day']}",
            True,
        ),
        ("my bookings", "/my/bookings/?view=upcoming", False),
        ("a booking (QR, cancel)", f"/my/bookings/{seeds['booking_id']}/", False),
        ("pay", f"/my/bookings/{seeds['unpaid_id']}/pay/", False),
        ("reschedule", f"/my/bookings/{seeds['booking_id']}/reschedule/", False),
        ("merchant", f"/merchants/{seeds['merchant']}/", False),
        (
            "at home: the day's times near a point",
            f"/services/{seeds['onsite_id']}/?day={seeds['tomorrow']}&lat=31.2304&lng=121.4737",
            False,
        ),
        ("voice: consultants and their times", f"/services/{seeds['remote_id']}/", False),
        (
            "choose a provider near a point",
            f"/services/{seeds['onsite_id']}/providers/?lat=31.2304&lng=121.4737&sort=distance",
            False,
        ),
        (
            "htmx: providers filtered",
            f"/services/{seeds['onsite_id']}/providers/?sort=price&gender=female&rating=4",
            True,
        ),
        (
            "a provider: the day's times",
            f"/providers/{seeds['provider_id']}/?service={seeds['onsite_id']}"
            f"&day={seeds['tomorrow']}",
            False,
        ),
        (
            "a package: the form",
            f"/providers/{seeds['provider_id']}/package/?service={seeds['onsite_id']}",
            False,
        ),
        ("post a request", "/my/needs/new/", False),
        ("my requests", "/my/needs/", False),
        ("a request and who applied", f"/my/needs/{seeds['need_id']}/", False),
        ("profile", "/my/profile/", False),
        ("wallet", "/my/wallet/", False),
        ("notices", "/my/notices/", False),
        ("htmx: the unread badge", "/my/notices/badge/", True),
    ]
    out = []
    with httpx.Client(base_url=server.url, timeout=30, follow_redirects=False) as client:
        _sign_in(client)
        for name, path, htmx in pages:
            headers = {"HX-Request": "true"} if htmx else {}
            first = client.get(path, headers=headers)
            if first.status_code != 200:
                raise RuntimeError(f"{name}: {first.status_code} {first.text[:300]}")
            assets = 0 if htmx else sum(len(client.get(a).content) for a in _assets(first.text))
            times = []
            for _ in range(requests):
                t0 = time.perf_counter()
                reply = client.get(path, headers=headers)
                reply.read()
                times.append(time.perf_counter() - t0)
                assert reply.status_code == 200, (name, reply.status_code)
            out.append(
                {
                    "page": name,
                    "htmx": htmx,
                    "p50_ms": percentile(times, 50) * 1000,
                    "p95_ms": percentile(times, 95) * 1000,
                    "html_kb": len(first.content) / 1024,
                    "first_kb": (len(first.content) + assets) / 1024,
                }
            )
    return out


def run(label: str, url: str, *, big: bool, requests: int) -> list[dict]:
    import subprocess

    migrate(url)
    subprocess.run(
        [PYTHON, str(PROJECT_DIR / "manage.py"), "load_demo"],
        env=django_env(url),
        cwd=PROJECT_DIR,
        check=True,
        capture_output=True,
    )
    log(f"[{label}] demo data loaded")
    if big:
        t0 = time.perf_counter()
        got = django_call(
            url, "bench.booking:seed_search", providers=2000, reservations=200_000, days=30
        )
        log(
            f"[{label}] + {got['providers']} providers, {got['reservations']} reservations "
            f"in {time.perf_counter() - t0:.0f} s"
        )
    seeds = django_call(url, "bench.pages:seed_customer")
    subprocess.run(
        [PYTHON, str(PROJECT_DIR / "manage.py"), "collectstatic", "--noinput", "-v", "0"],
        env=django_env(url),
        cwd=PROJECT_DIR,
        check=True,
    )
    with LiveServer(url, workers=2, threads=4, settings_module="yuyue.settings") as server:
        return measure(server, seeds, requests)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    parser.add_argument("--no-big", action="store_true", help="demo data only")
    args = parser.parse_args(argv)
    databases = []
    if args.only != "postgres":
        databases.append(("SQLite", lambda name: fresh_sqlite(name)))
    if args.only != "sqlite" and postgres_available():
        databases.append(("PostgreSQL", lambda name: fresh_postgres(name)))
    datasets = [("demo", False)] + ([] if args.no_big else [("demo + 2,000 providers", True)])
    rows, verdicts = [], []
    for db_label, fresh in databases:
        for data_label, big in datasets:
            name = f"pages_{'big' if big else 'demo'}"
            log(f"pages: {db_label}, {data_label}")
            for r in run(f"{db_label}, {data_label}", fresh(name), big=big, requests=args.requests):
                rows.append((db_label, data_label, r))
    print("# pages.py — the customer's pages: server time and size\n")
    print(f"Machine: {machine()}\n")
    print(
        table(
            ["database", "data", "page", "p50 ms", "p95 ms", "HTML KB", "first load KB"],
            [
                (
                    db,
                    data,
                    r["page"],
                    f"{r['p50_ms']:.1f}",
                    f"{r['p95_ms']:.1f}",
                    f"{r['html_kb']:.1f}",
                    "—" if r["htmx"] else f"{r['first_kb']:.1f}",
                )
                for db, data, r in rows
            ],
        )
    )
    worst = max(rows, key=lambda x: x[2]["p95_ms"])
    verdicts.append(
        f"TARGET p95 <= {TARGET_P95_MS:g} ms for every page: worst {worst[2]['p95_ms']:.1f} ms "
        f"({worst[2]['page']}, {worst[0]}, {worst[1]}) — "
        f"{'PASS' if worst[2]['p95_ms'] <= TARGET_P95_MS else 'FAIL'}"
    )
    pages = [x for x in rows if not x[2]["htmx"]]
    biggest = max(pages, key=lambda x: x[2]["first_kb"])
    verdicts.append(
        f"TARGET first load <= {TARGET_FIRST_KB:g} KB: largest {biggest[2]['first_kb']:.1f} KB "
        f"({biggest[2]['page']}) — "
        f"{'PASS' if biggest[2]['first_kb'] <= TARGET_FIRST_KB else 'FAIL'}"
    )
    steps = [x for x in rows if x[2]["htmx"]]
    if steps:
        step = max(steps, key=lambda x: x[2]["html_kb"])
        verdicts.append(
            f"TARGET htmx step <= {TARGET_STEP_KB:g} KB: largest {step[2]['html_kb']:.1f} KB — "
            f"{'PASS' if step[2]['html_kb'] <= TARGET_STEP_KB else 'FAIL'}"
        )
    print()
    for v in verdicts:
        print("- " + v)
    return 0


if __name__ == "__main__":
    sys.exit(main())
