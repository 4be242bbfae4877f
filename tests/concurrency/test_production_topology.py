"""The production topology on this machine: every line of deploy/Procfile (gunicorn with two
workers, uvicorn with two, two job workers) as its own process, on the suite's PostgreSQL
database and Redis as channel layer and cache, as `make prod-up` runs them.

It books a slot of 10 with 240 clients across both web processes, dispatches an order whose
offer reaches the provider's socket from a job worker through Redis, follows the provider on
the customer's tracking socket, relays a call's signalling, then kills a web process and a job
worker with SIGKILL in the middle of load: nothing goes over capacity, no job is lost or done
twice, readiness names the dead worker and is whole again once it is restarted, and /metrics
shows the business counters moving."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest
import redis
from django.db import connection, connections
from django_tasks_db.models import DBTaskResult
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families
from websockets.sync.client import connect as ws_connect

from tests.calls.conftest import book_call, call_service, consultant, move_to_now  # noqa: F401
from tests.core.jobs import marked_wait
from tests.dispatch.conftest import HOME, at_ten, crew  # noqa: F401
from tests.livesrv import (
    PROJECT_DIR,
    VENV_BIN,
    Call,
    bearer,
    current_database_url,
    free_port,
    storm,
)
from yuyue.accounts.tokens import issue_token
from yuyue.billing.ledger import unbalanced_transfers
from yuyue.billing.models import Payment, Transfer
from yuyue.core.models import AuditLog, WorkerBeat
from yuyue.core.periodic import ensure_periodic_jobs
from yuyue.orders.models import Booking
from yuyue.orders.queries import slot_counts_consistent
from yuyue.scheduling.models import TimeSlot

from .conftest import SHANGHAI, outcome, people_with_keys
from .test_slot_capacity import CAPACITY
from .test_slot_capacity import _slot as capacity_slot

CLIENTS = 240
DAYS_2 = dt.timedelta(days=2)
TOKEN = "topology-metrics-token"
REDIS_DB = 12
pytestmark = pytest.mark.django_db(transaction=True)


class Topology:
    """deploy/Procfile's lines, each started as its own process group (killable one by one)."""

    def __init__(self, tmp: Path, redis_url: str):
        self.lines = dict(
            re.match(r"^(\w+):\s*(.+)$", line).groups()
            for line in (PROJECT_DIR / "deploy" / "Procfile").read_text().splitlines()
            if line.strip() and not line.startswith("#")
        )
        self.port, self.ws_port, self.tmp = free_port(), free_port(), tmp
        (tmp / "metrics").mkdir()
        self.env = {
            **os.environ,
            # the suite's settings: its keys read the people the test made (production otherwise)
            "DJANGO_SETTINGS_MODULE": "yuyue.test_settings",
            "DATABASE_URL": current_database_url(),
            "REDIS_URL": redis_url,
            "PROMETHEUS_MULTIPROC_DIR": str(tmp / "metrics"),
            "YUYUE_METRICS_TOKEN": TOKEN,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "WS_PORT": str(self.ws_port),
            "WEB_WORKERS": "2",
            "WS_WORKERS": "2",
            "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONPATH": os.pathsep.join([str(PROJECT_DIR / "src"), str(PROJECT_DIR)]),
            "YUYUE_PUBLIC_BASE_URL": f"http://127.0.0.1:{self.port}",
            "YUYUE_WORKER_BEAT_SECONDS": "0.5",
            "YUYUE_WORKER_DEAD_SECONDS": "3",
            "YUYUE_DISPATCH_ROUND_SECONDS": "1",
            "YUYUE_SANDBOX_PAYMENTS": "1",
            "DB_POOL_MAX": "24",
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "WARNING",
            "DEBUG": "0",
        }
        self.env.pop("YUYUE_RACE_CONTROLS", None)
        self.procs: dict[str, subprocess.Popen] = {}
        self.web = f"http://127.0.0.1:{self.port}"
        self.ws = f"ws://127.0.0.1:{self.ws_port}"

    def start(self, name: str) -> None:
        log = (self.tmp / f"{name}.log").open("ab")
        self.procs[name] = subprocess.Popen(
            ["sh", "-c", self.lines[name]],
            env=self.env,
            cwd=PROJECT_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_all(self) -> None:
        ensure_periodic_jobs()  # as deploy/prod-up does before starting the lines
        for name in self.lines:
            self.start(name)
        self.wait(lambda: self.ready()[0] == 200, "the platform to be ready", 90)

    def stop_all(self) -> None:
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
            for p in sorted(self.tmp.glob("*.log"))
        )

    def wait(self, what, about: str, timeout: float = 30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                value = what()
                if value:
                    return value
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {about}\n{self.logs()}")

    def ready(self) -> tuple[int, dict]:
        r = httpx.get(f"{self.web}/health/ready", timeout=10)
        return r.status_code, r.json()

    def children(self, name: str) -> list[int]:
        """The server processes under a line's process (gunicorn's or uvicorn's workers)."""
        root = self.procs[name].pid
        parents = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                parents[int(stat.parent.name)] = int(fields[1])
        tree, found = {root}, True
        while found:
            found = {pid for pid, ppid in parents.items() if ppid in tree and pid not in tree}
            tree |= found
        leaves = [pid for pid in tree if pid not in parents.values() or pid == root]
        return sorted(pid for pid in leaves if pid != root)

    def metrics(self) -> dict[tuple, float]:
        r = httpx.get(f"{self.web}/metrics", headers=bearer(TOKEN), timeout=10)
        assert r.status_code == 200, r.text
        return samples(text_string_to_metric_families(r.text))

    def metrics_of(self, pid: int) -> dict[tuple, float]:
        files = [str(p) for p in (self.tmp / "metrics").glob(f"*_{pid}.db")]
        return samples(MultiProcessCollector.merge(files, accumulate=True)) if files else {}


def samples(families) -> dict[tuple, float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families for s in f.samples}


def delta(before: dict, after: dict, name: str, **labels) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0) - before.get(key, 0)


@pytest.fixture
def topology(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip(
            "the production topology runs on PostgreSQL: CI's PostgreSQL phase runs it "
            "(DATABASE_URL=postgres://… make test)"
        )
    redis_url = os.environ.get("REDIS_URL") or f"redis://127.0.0.1:6379/{REDIS_DB}"
    server = redis.Redis.from_url(redis_url)
    server.ping()  # production needs Redis: fail, never skip
    if not os.environ.get("REDIS_URL"):
        server.flushdb()  # our own database number: nothing left from an earlier run
    top = Topology(tmp_path, redis_url)
    try:
        top.start_all()
        yield top
    finally:
        top.stop_all()
        connections.close_all()


def _slot(hall_service, hall, hour: int) -> TimeSlot:
    """A slot of CAPACITY places the day after tomorrow at `hour` (test_slot_capacity's)."""
    return capacity_slot(hall_service, hall, (dt.datetime.now(SHANGHAI) + DAYS_2).date(), hour)


def test_the_production_topology_holds_under_load_and_loss(
    topology,
    hall_service,
    hall,
    crew,  # noqa: F811
    customer,
    onsite_service,
    at_ten,  # noqa: F811
    book_call,  # noqa: F811
):
    hall_service.base_price_fen = 2000
    hall_service.save()
    top = topology
    people = people_with_keys(CLIENTS)
    before = top.metrics()

    storm_of_ten(top, _slot(hall_service, hall, 10), people)
    after_storm = top.metrics()
    assert delta(before, after_storm, "yuyue_bookings_total", channel="hall_slot") == CAPACITY
    refused = delta(
        before, after_storm, "yuyue_booking_refusals_total", channel="hall_slot", code="slot_full"
    )
    assert refused == CLIENTS - CAPACITY

    dispatch_and_follow(top, customer, crew, onsite_service, at_ten)
    call_signalling(top, move_to_now(book_call(funds=10_000)))

    slots = [_slot(hall_service, hall, h) for h in (12, 13, 14)]
    killed_mid_load(top, slots, people)
    end = top.metrics()
    paid = Payment.objects.filter(gateway="sandbox", status="paid").count()
    assert delta(before, end, "yuyue_payments_total", gateway="sandbox", outcome="paid") == paid
    assert paid > 0
    requeued = sum(
        v - before.get(k, 0) for k, v in end.items() if k[0] == "yuyue_jobs_requeued_total"
    )
    assert requeued >= 1
    assert delta(before, end, "yuyue_dispatch_offers_total") >= 1
    assert end[("yuyue_workers_alive", ())] == 2


def storm_of_ten(top: Topology, slot: TimeSlot, people) -> None:
    calls = [
        Call("POST", "/api/bookings", {"slot_id": slot.pk, "places": 1}, bearer(key))
        for _, key in people
    ]
    replies = storm(top.web, calls)
    won = [r for r in replies if r.status == 201]
    full = [r for r in replies if r.status == 409 and r.code == "slot_full"]
    assert (len(won), len(full)) == (CAPACITY, CLIENTS - CAPACITY), outcome(replies)
    slot.refresh_from_db()
    assert slot.booked == CAPACITY and slot_counts_consistent(slot)
    assert Booking.objects.filter(slot=slot).count() == CAPACITY
    served = {
        pid: sum(
            v
            for (name, labels), v in top.metrics_of(pid).items()
            if name == "yuyue_booking_refusals_total" and ("code", "slot_full") in labels
        )
        for pid in top.children("web")
    }
    assert len(served) == 2 and all(served.values()), served  # both web processes took part


def dispatch_and_follow(top: Topology, customer, crew, onsite_service, at_ten) -> None:  # noqa: F811
    """An order dispatched by a job worker: its offer reaches the provider's socket (worker →
    Redis → uvicorn); accepted over HTTP; the provider's positions reach the customer's
    tracking socket (gunicorn → Redis → uvicorn)."""
    keys = {p.pk: issue_token(user=p.user, via="password")[0] for p in crew}
    customer_key = issue_token(user=customer, via="password")[0]
    with contextlib.ExitStack() as stack:
        sockets = {
            pid: stack.enter_context(
                ws_connect(f"{top.ws}/ws/provider/offers/?token={key}", open_timeout=10)
            )
            for pid, key in keys.items()
        }
        for s in sockets.values():
            assert json.loads(s.recv(10)) == {"event": "ready"}
        order = httpx.post(
            f"{top.web}/api/orders/onsite",
            headers=bearer(customer_key),
            json={
                "service_id": onsite_service.pk,
                "starts_at": at_ten.isoformat(),
                "address": "1 People's Square",
                "lat": HOME[0],
                "lng": HOME[1],
            },
            timeout=10,
        )
        assert order.status_code == 201, order.text
        offered = first_offer(sockets, top)
    provider_id, card = offered
    accepted = httpx.post(
        f"{top.web}/api/provider/offers/{card['offer_id']}/accept",
        headers=bearer(keys[provider_id]),
        timeout=10,
    )
    assert accepted.status_code == 200, accepted.text
    booking_id = order.json()["id"]
    with ws_connect(
        f"{top.ws}/ws/bookings/{booking_id}/track/?token={customer_key}", open_timeout=10
    ) as watcher:
        assert json.loads(watcher.recv(10))["status"] == "accepted"
        moved = httpx.post(
            f"{top.web}/api/provider/orders/{booking_id}/location",
            headers=bearer(keys[provider_id]),
            json={"lat": 31.2401, "lng": 121.4801},
            timeout=10,
        )
        assert moved.status_code == 200, moved.text
        update = json.loads(watcher.recv(10))
        assert (update["lat"], update["lng"]) == (31.2401, 121.4801)


def first_offer(sockets: dict, top: Topology) -> tuple[int, dict]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for provider_id, s in sockets.items():
            with contextlib.suppress(TimeoutError):
                message = json.loads(s.recv(0.2))
                if message.get("event") == "offer":
                    return provider_id, message
    raise AssertionError(f"no offer reached any provider's socket\n{top.logs()}")


def call_signalling(top: Topology, booking) -> None:
    """The two sides of a call, each on its socket (WS_WORKERS=2: maybe two processes), relay
    an offer through the channel layer (Redis)."""
    url = f"{top.ws}/ws/calls/{booking.pk}/?token="
    customer_key = issue_token(user=booking.customer, via="password")[0]
    consultant_key = issue_token(user=booking.provider.user, via="password")[0]
    with (
        ws_connect(url + customer_key, open_timeout=10) as caller,
        ws_connect(url + consultant_key, open_timeout=10) as callee,
    ):
        assert json.loads(caller.recv(10))["party"] == "customer"
        assert json.loads(callee.recv(10))["party"] == "consultant"
        offer = {"sdp": {"type": "offer"}}
        caller.send(json.dumps({"type": "signal", "data": offer}))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            got = json.loads(callee.recv(10))
            if got["type"] == "signal":
                assert got == {"type": "signal", "from": "customer", "data": offer}
                return
        raise AssertionError("the offer never reached the consultant")


def killed_mid_load(top: Topology, slots: list[TimeSlot], people) -> None:
    """Bookings and sandbox payments on three slots of 10 while a web process and a worker
    running a job are killed; then the worker is restarted."""
    jobs = [marked_wait.enqueue(f"slow-{i}", 4.0) for i in range(6)]
    victim = top.wait(
        lambda: next((b for b in _beats() if b.job_id and b.worker_id.endswith("-worker1")), None),
        "worker1 to be running a job",
    )
    results: list = []
    load = threading.Thread(target=lambda: results.append(book_and_pay(top, slots, people)))
    load.start()
    time.sleep(0.3)
    web_victim = top.children("web")[0]
    os.kill(web_victim, signal.SIGKILL)
    os.killpg(top.procs["worker1"].pid, signal.SIGKILL)
    top.procs["worker1"].wait(10)
    connections.close_all()
    orphans = [  # what it was running when it died: nobody will say it finished
        job.pk
        for job in DBTaskResult.objects.filter(status="RUNNING")
        if job.worker_ids[-1:] == [victim.worker_id]
    ]
    assert orphans, "worker1 was killed between jobs"
    wanted = {str(j.id) for j in jobs} | {str(pk) for pk in orphans}
    load.join(120)

    ((statuses, paying),) = results
    for slot in slots:
        slot.refresh_from_db()
        assert slot.booked <= CAPACITY and slot_counts_consistent(slot)
        holding = Booking.objects.filter(slot=slot).exclude(status__startswith="cancelled")
        assert holding.count() == slot.booked
    assert statuses.count(201) >= CAPACITY and paying, statuses

    status, body = top.wait(
        lambda: (r := top.ready())[1]["checks"]["Workers"].count(victim.worker_id) and r,
        "readiness to name the dead worker",
    )
    assert status == 200 and body["status"] == "degraded", body
    assert web_victim not in top.children("web") and len(top.children("web")) == 2

    done = top.wait(
        lambda: (
            DBTaskResult.objects.filter(pk__in=wanted, status="SUCCESSFUL").count() == len(wanted)
        ),
        "every slow job, and what the dead worker ran, to be done by the live worker",
        60,
    )
    assert done
    assert AuditLog.objects.filter(action="test.job_done").count() == len(jobs)  # none twice
    for job in DBTaskResult.objects.filter(pk__in=orphans):  # run again, by the live worker
        assert job.status == "SUCCESSFUL" and job.worker_ids[0] == victim.worker_id, job
        assert len(job.worker_ids) == 2, job.worker_ids

    top.start("worker1")  # restarted: the same id takes its row back
    top.wait(lambda: top.ready()[1]["status"] == "ok", "readiness to be whole again")
    assert top.ready()[1]["checks"]["Workers"] == "OK"
    pending = top.wait(
        lambda: (
            not DBTaskResult.objects.filter(
                task_path__endswith="sandbox_notify", status__in=["READY", "RUNNING"]
            ).exists()
        ),
        "the payments' notices to be sent",
        60,
    )
    assert pending
    paid = Payment.objects.filter(out_trade_no__in=paying)
    assert sorted(paid.values_list("status", flat=True)) == ["paid"] * len(paying)
    assert unbalanced_transfers() == []
    assert Transfer.objects.filter(key__in=[f"payment:{p.pk}" for p in paid]).count() == (
        paid.count()
    )


def _beats():
    connections.close_all()
    return list(WorkerBeat.objects.all())


def book_and_pay(top: Topology, slots: list[TimeSlot], people) -> list[int]:
    """Each person books a place on one of the slots; the winners pay through the sandbox."""
    calls = [
        Call("POST", "/api/bookings", {"slot_id": slots[i % len(slots)].pk, "places": 1}, bearer(k))
        for i, (_, k) in enumerate(people[:150])
    ]
    replies = storm(top.web, calls)
    paying = []  # out_trade_no of each payment the sandbox accepted to notify
    for call, reply in zip(calls, replies, strict=True):
        if reply.status != 201:
            continue
        with (
            contextlib.suppress(httpx.HTTPError),
            httpx.Client(base_url=top.web, headers=call.headers, timeout=30) as http,
        ):
            start = http.post("/api/payments", json={"booking_id": reply.body["id"]})
            if start.status_code == 201:
                trade = start.json()["out_trade_no"]
                if http.post(f"/api/payments/sandbox/checkout/{trade}", json={}).status_code == 202:
                    paying.append(trade)
    return [r.status for r in replies], paying
