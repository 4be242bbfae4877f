"""Helpers shared by the benchmarks: fresh databases, Django calls in a subprocess, load, tables.

A benchmark compares against a baseline measured in the same run and reports the ratio, because a
bare time says more about the machine than about the code.
"""

from __future__ import annotations

import json
import os
import platform
import ssl
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

PROJECT_DIR = Path(__file__).resolve().parent.parent
for _p in (PROJECT_DIR, PROJECT_DIR / "src"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

import httpx  # noqa: E402
from tests.livesrv import LiveServer  # noqa: E402,F401 (re-exported for the bench scripts)

PYTHON = sys.executable
VAR_DIR = Path(os.environ.get("YUYUE_VAR_DIR", PROJECT_DIR / "var"))
BENCH_DIR = VAR_DIR / "bench"
# PostgreSQL server for the benchmarks; the database name in it is replaced per benchmark.
BENCH_PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/yuyue_bench")
_TLS = ssl.create_default_context()
_RESULT_MARK = "\n@@BENCH-RESULT@@"


def log(*args: Any) -> None:
    print(*args, file=sys.stderr, flush=True)


# --- databases --------------------------------------------------------------------------------


def fresh_sqlite(name: str) -> str:
    """A new, empty SQLite file under var/bench; returns its DATABASE_URL."""
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    path = BENCH_DIR / f"{name}.sqlite3"
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    return f"sqlite:///{path}"


def _pg_parts(url: str, dbname: str) -> tuple[str, str]:
    parts = urlsplit(url)
    target = urlunsplit(parts._replace(path=f"/{dbname}"))
    return target, urlunsplit(parts._replace(path="/postgres"))


def postgres_available(url: str = BENCH_PG_URL) -> bool:
    import psycopg

    _, admin = _pg_parts(url, "postgres")
    try:
        with psycopg.connect(admin, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def _drop(conn, dbname: str) -> None:
    from psycopg import sql

    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))


def fresh_postgres(dbname: str, url: str = BENCH_PG_URL) -> str:
    """Drop and create database `dbname` on the bench PostgreSQL server; returns its URL."""
    import psycopg
    from psycopg import sql

    target, admin = _pg_parts(url, dbname)
    with psycopg.connect(admin, autocommit=True) as conn:
        _drop(conn, dbname)
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    return target


def drop_postgres(dbname: str, url: str = BENCH_PG_URL) -> None:
    import psycopg

    with psycopg.connect(_pg_parts(url, dbname)[1], autocommit=True) as conn:
        _drop(conn, dbname)


def django_env(database_url: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("YUYUE_RACE_CONTROLS", None)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "yuyue.settings",
            "DATABASE_URL": database_url,
            "PYTHONPATH": os.pathsep.join([str(PROJECT_DIR), str(PROJECT_DIR / "src")]),
            "LOG_LEVEL": "WARNING",
        }
    )
    env.update(extra)
    return env


def migrate(database_url: str) -> None:
    subprocess.run(
        [PYTHON, str(PROJECT_DIR / "manage.py"), "migrate", "--noinput", "-v", "0"],
        env=django_env(database_url),
        cwd=PROJECT_DIR,
        check=True,
    )


def django_call(database_url: str, target: str, **kwargs: Any) -> Any:
    """Run `module:function(**kwargs)` in a fresh Django process on `database_url`; its JSON result.

    Each database gets its own process because Django reads its settings once per process.
    """
    module, function = target.split(":")
    code = (
        "import importlib, json, sys, django\n"
        "django.setup()\n"
        f"result = getattr(importlib.import_module({module!r}), {function!r})"
        "(**json.loads(sys.argv[1]))\n"
        f"sys.stdout.write({_RESULT_MARK!r} + json.dumps(result))\n"
    )
    proc = subprocess.run(
        [PYTHON, "-c", code, json.dumps(kwargs)],
        env=django_env(database_url),
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{target} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")
    return json.loads(proc.stdout.rsplit(_RESULT_MARK, 1)[1])


# --- load -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Req:
    method: str
    path: str
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class LoadResult:
    requests: int
    seconds: float
    statuses: Counter
    latencies: list[float]
    samples: dict[int, str]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def ok(self, *statuses: int) -> bool:
        return set(self.statuses) <= set(statuses)


def load(
    base_url: str, requests: Sequence[Req], *, clients: int = 16, timeout: float = 60.0
) -> LoadResult:
    """Send `requests` with `clients` concurrent keep-alive clients, each taking the next one.

    The clock runs from the moment all clients are connected and released until the last reply.
    """
    lock = threading.Lock()
    next_index = iter(range(len(requests)))
    statuses: Counter = Counter()
    latencies: list[float] = []
    samples: dict[int, str] = {}
    barrier = threading.Barrier(clients + 1)

    def client_loop() -> None:
        with httpx.Client(base_url=base_url, timeout=timeout, verify=_TLS) as client:
            client.get("/api/health")  # connect before the clock starts
            barrier.wait()
            while True:
                with lock:
                    i = next(next_index, None)
                if i is None:
                    return
                r = requests[i]
                t0 = time.perf_counter()
                try:
                    resp = client.request(r.method, r.path, json=r.json, headers=r.headers)
                    status, text = resp.status_code, resp.text
                except httpx.HTTPError as exc:
                    status, text = 0, f"{type(exc).__name__}: {exc}"
                elapsed = time.perf_counter() - t0
                with lock:
                    statuses[status] += 1
                    latencies.append(elapsed)
                    samples.setdefault(status, text[:500])

    threads = [threading.Thread(target=client_loop, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - start
    return LoadResult(len(requests), seconds, statuses, latencies, samples)


def sequential(
    base_url: str,
    requests: Sequence[Req],
    *,
    timeout: float = 30.0,
    check: Callable[[httpx.Response], None] | None = None,
) -> list[float]:
    """Send `requests` one after another on one keep-alive client; latencies in seconds."""
    out = []
    with httpx.Client(base_url=base_url, timeout=timeout, verify=_TLS) as client:
        for r in requests:
            t0 = time.perf_counter()
            resp = client.request(r.method, r.path, json=r.json, headers=r.headers)
            out.append(time.perf_counter() - t0)
            if check is not None:
                check(resp)
    return out


# --- CPU accounting -----------------------------------------------------------------------------


def _proc_table() -> list[tuple[int, int, str, float]]:
    """(pid, parent pid, command line, CPU seconds so far) of every process we can read."""
    tick = os.sysconf("SC_CLK_TCK")
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:  # gone meanwhile
            continue
        out.append((int(entry), int(stat[1]), cmd, (int(stat[11]) + int(stat[12])) / tick))
    return out


def cpu_snapshot(server_pid: int) -> dict[str, float]:
    """CPU seconds used so far by the server (its process and all below it), by PostgreSQL's
    processes, and by this process (the load generator's client threads)."""
    procs = _proc_table()
    children: dict[int, list[int]] = {}
    for pid, ppid, _, _ in procs:
        children.setdefault(ppid, []).append(pid)
    tree, todo = set(), [server_pid]
    while todo:
        pid = todo.pop()
        tree.add(pid)
        todo += children.get(pid, [])
    used = os.times()
    return {
        "web": sum(c for pid, _, _, c in procs if pid in tree),
        "database": sum(c for _, _, cmd, c in procs if cmd.startswith("postgres:")),
        "load": used.user + used.system,
    }


def cpu_per_request(before: dict[str, float], after: dict[str, float], requests: int) -> dict:
    """Milliseconds of CPU per request in each part, between two `cpu_snapshot`s."""
    return {k: (after[k] - before[k]) * 1000 / requests for k in before}


def percentile(values: Sequence[float], p: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


# --- reporting ------------------------------------------------------------------------------------


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table (readable in a terminal and pasteable into docs/performance.md)."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"

    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(cells[0]), sep] + [line(r) for r in cells[1:]])


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for row in Path("/proc/cpuinfo").read_text().splitlines():
            if row.startswith("model name"):
                cpu = row.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = ""
    try:
        for row in Path("/proc/meminfo").read_text().splitlines():
            if row.startswith("MemTotal"):
                ram = f", {int(row.split()[1]) / 1024 / 1024:.0f} GiB RAM"
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}{ram}, Python {platform.python_version()}"
