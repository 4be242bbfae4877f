"""Chat through the websocket: messages a second across 200 conversations and their delivery
latency; and the unread count of a person with 100,000 messages.

On a fresh PostgreSQL database (`--sqlite` for a fresh SQLite file instead), 200 accepted orders
each get their conversation; both sides of each (400 sockets) connect to `ws/chat/<id>/` signed in
by bearer token. For each offered rate, every customer sends messages at an even pace (each with
a key of its own) for `--seconds`; a message is delivered when the provider's socket receives it.
Reported: the rate achieved (messages delivered a second), delivery latency p50/p95/p99 (send to
the other side's socket), the sender's acknowledgement p95, and messages lost. Target: 1,000
messages a second with delivery p95 within 200 ms.

The servers are `--servers` uvicorn processes (2 by default) on ports of their own, the sockets
spread over them as a reverse proxy would (the two sides of a conversation on different ones, so
every delivery crosses processes), Redis the channel layer (REDIS_URL: `--redis`, database 12,
emptied first), as production runs it; the clients run in
this process (asyncio, the `websockets` library) on the same machine, so they take CPU from it.

Then the unread count: one person is sent 100,000 messages (in 100 conversations, beside
300,000 to others), all unread; `chat.unread_count` is timed in a Django process (p50/p95 of 200
calls) and `GET /api/conversations/unread` over HTTP (p95 of 200 on one keep-alive client).
Target: <= 10 ms.

    .venv/bin/python bench/chat.py [--rates 250,500,1000] [--seconds 10] [--sqlite]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    LiveServer,
    Req,
    django_call,
    fresh_postgres,
    fresh_sqlite,
    log,
    machine,
    migrate,
    percentile,
    postgres_available,
    sequential,
    table,
)

CONVERSATIONS = 200
TARGET_RATE = 1000
TARGET_DELIVERY_P95_MS = 200.0
TARGET_UNREAD_MS = 10.0
BIG = 100_000


# --- seeding (inside a Django process) ----------------------------------------------------------


def seed_conversations(n: int) -> list[dict]:
    """n accepted orders with a provider each, and their conversations; bearer keys of both."""
    import datetime as dt

    from django.utils import timezone

    from yuyue.accounts.models import Provider, User
    from yuyue.accounts.tokens import issue_token
    from yuyue.catalog.models import Merchant, MerchantStatus, Service
    from yuyue.engagement import chat
    from yuyue.orders.models import Booking, BookingStatus, Channel

    merchant = Merchant.objects.create(
        name="Bench Chat", slug="bench-chat", status=MerchantStatus.ACTIVE
    )
    service = Service.objects.create(
        merchant=merchant, name="Cleaning", kind="on_site", duration_minutes=120, base_price_fen=100
    )
    start = timezone.now() + dt.timedelta(days=1)
    out = []
    for i in range(n):
        customer = User.objects.create_user(phone=f"+86137{i:08d}", name=f"Customer {i}")
        worker = User.objects.create_user(phone=f"+86136{i:08d}", name=f"Provider {i}")
        provider = Provider.objects.create(user=worker, merchant=merchant, display_name=f"P{i}")
        booking = Booking.objects.create(
            customer=customer,
            merchant=merchant,
            service=service,
            provider=provider,
            channel=Channel.CHOSEN,
            status=BookingStatus.ACCEPTED,
            starts_at=start,
            ends_at=start + dt.timedelta(hours=2),
            code=f"BCHAT{i:07d}",
        )
        talk = chat.open_order_chat(actor=customer, booking_id=booking.pk)
        out.append(
            {
                "conversation": talk.pk,
                "customer": issue_token(user=customer, via="password")[0],
                "provider": issue_token(user=worker, via="password")[0],
            }
        )
    return out


def seed_big_inbox(messages: int, others: int) -> dict:
    """One person sent `messages` messages (100 conversations), all unread, beside `others`
    messages to other people; the person's bearer key and id."""
    import datetime as dt

    from django.db import connection, transaction
    from django.utils import timezone

    from yuyue.accounts.models import User
    from yuyue.accounts.tokens import issue_token
    from yuyue.engagement.models import Conversation, Message, Receipt, UnreadCount

    reader = User.objects.create_user(phone="+8613500000001", name="Inbox")
    writers = [User.objects.create_user(phone=f"+86134{i:08d}", name=f"W{i}") for i in range(101)]
    talks = [
        Conversation.objects.create(kind="support", customer=w, merchant=None) for w in writers
    ]
    now = timezone.now() - dt.timedelta(days=1)
    batch = 20_000
    total = messages + others
    made = 0
    while made < total:
        rows = []
        for j in range(made, min(total, made + batch)):
            k = j % 100 if j < messages else 100
            rows.append(
                Message(
                    conversation=talks[k],
                    sender=writers[k],
                    side="customer",
                    text="x",
                    client_key=f"big-{j}",
                    created_at=now,
                )
            )
        with transaction.atomic():
            Message.objects.bulk_create(rows, batch_size=5000)
        made += len(rows)
    people = [reader.pk] + [w.pk for w in writers[:3]]
    with connection.cursor() as cur, transaction.atomic():
        ids = list(Message.objects.order_by("pk").values_list("pk", "conversation_id"))
        receipts = []
        for n, (pk, conv) in enumerate(ids):
            user = reader.pk if n < messages else people[1 + n % 3]
            receipts.append(Receipt(user_id=user, message_id=pk, conversation_id=conv))
        Receipt.objects.bulk_create(receipts, batch_size=5000)
        counts = {}
        for r in receipts:
            counts[r.user_id] = counts.get(r.user_id, 0) + 1
        UnreadCount.objects.bulk_create(UnreadCount(user_id=u, count=n) for u, n in counts.items())
        if connection.vendor == "postgresql":
            cur.execute("ANALYZE engagement_receipt")
    return {"user": reader.pk, "key": issue_token(user=reader, via="password")[0]}


def time_sends(conversation: int, sends: int) -> dict:
    """The service alone, in this process: ms per `chat.send_message` (pushes collected, not
    sent), the share of it the database takes."""
    from django.db import connection

    from yuyue.engagement import chat
    from yuyue.engagement.models import Conversation

    customer = Conversation.objects.get(pk=conversation).customer
    spent = []

    def timer(execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    with connection.execute_wrapper(timer):
        for i in range(sends):
            chat.send_message(
                actor=customer, conversation_id=conversation, text=f"t{i}", key=f"t-{i}", pushes=[]
            )
    total = time.perf_counter() - t0
    return {
        "ms_per_send": total * 1000 / sends,
        "db_ms_per_send": sum(spent) * 1000 / sends,
        "statements_per_send": len(spent) / sends,
    }


def time_unread(user: int, calls: int) -> dict:
    from yuyue.engagement import chat

    times = []
    count = None
    for _ in range(calls):
        t0 = time.perf_counter()
        count = chat.unread_count(user)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return {"count": count, "p50": times[len(times) // 2], "p95": times[int(len(times) * 0.95)]}


# --- load ---------------------------------------------------------------------------------------


async def run_rate(urls: list[str], pairs: list[dict], rate: int, seconds: float) -> dict:
    import websockets

    sent_at: dict[str, float] = {}
    delivered: dict[str, float] = {}
    acked: dict[str, float] = {}
    refused = []

    async def listen(sock, role):
        async for raw in sock:
            m = json.loads(raw)
            now = time.perf_counter()
            if m.get("type") == "message" and role == "provider":
                delivered.setdefault(m["key"], now)
            elif m.get("type") == "sent":
                acked.setdefault(m["key"], now)
            elif m.get("type") == "refused":
                refused.append(m)

    socks = []
    for n, p in enumerate(pairs):
        for side, role in enumerate(("customer", "provider")):
            # as a proxy spreads them: the two sides of a conversation on different servers,
            # so every delivery crosses processes through the channel layer
            base = urls[(n + side) % len(urls)].replace("http://", "ws://")
            s = await websockets.connect(
                f"{base}/ws/chat/{p['conversation']}/?token={p[role]}", max_queue=None
            )
            ready = json.loads(await s.recv())
            assert ready["type"] == "ready", ready
            socks.append((p, role, s))
    listeners = [asyncio.create_task(listen(s, role)) for _p, role, s in socks]
    senders = [(p, s) for p, role, s in socks if role == "customer"]
    per_second = rate / len(senders)
    count = max(1, int(per_second * seconds))
    interval = 1.0 / per_second
    tag = f"r{rate}-{time.time_ns()}"

    async def send_loop(index, p, sock):
        await asyncio.sleep(interval * index / len(senders))  # spread the starts
        t_next = time.perf_counter()
        for i in range(count):
            key = f"{tag}-{index}-{i}"
            sent_at[key] = time.perf_counter()
            await sock.send(json.dumps({"type": "send", "key": key, "text": f"message {i}"}))
            t_next += interval
            delay = t_next - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)

    start = time.perf_counter()
    await asyncio.gather(*(send_loop(i, p, s) for i, (p, s) in enumerate(senders)))
    deadline = time.perf_counter() + 30
    while len(delivered) < len(sent_at) and time.perf_counter() < deadline and not refused:
        await asyncio.sleep(0.05)
    end = max(delivered.values()) if delivered else time.perf_counter()
    for t in listeners:
        t.cancel()
    for _p, _r, s in socks:
        await s.close()
    lat = sorted((delivered[k] - sent_at[k]) * 1000 for k in delivered)
    ack = sorted((acked[k] - sent_at[k]) * 1000 for k in acked)
    return {
        "offered": rate,
        "sent": len(sent_at),
        "delivered": len(delivered),
        "rate": len(delivered) / (end - start),
        "p50": percentile(lat, 50) if lat else 0,
        "p95": percentile(lat, 95) if lat else 0,
        "p99": percentile(lat, 99) if lat else 0,
        "ack_p95": percentile(ack, 95) if ack else 0,
        "refused": len(refused),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rates", default="250,500,1000")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--no-inbox", action="store_true")
    args = parser.parse_args()

    if args.sqlite or not postgres_available():
        url, label = fresh_sqlite("bench-chat"), "SQLite"
    else:
        url, label = fresh_postgres("yuyue_bench_chat"), "PostgreSQL"
    log(f"chat benchmark on {label}; {machine()}")
    migrate(url)
    pairs = django_call(url, "bench.chat:seed_conversations", n=CONVERSATIONS)
    subprocess.run(["redis-cli", "-u", args.redis, "flushdb"], check=True, capture_output=True)
    servers = [
        LiveServer(url, asgi=True, settings_module="yuyue.settings", env={"REDIS_URL": args.redis})
        for _ in range(args.servers)
    ]
    rows = []
    try:
        for server in servers:
            server.start()
        for rate in [int(r) for r in args.rates.split(",")]:
            result = asyncio.run(run_rate([x.url for x in servers], pairs, rate, args.seconds))
            log(result)
            rows.append(result)
    finally:
        for server in servers:
            server.stop()
    print(
        f"\nChat over the websocket, {label}, {CONVERSATIONS} conversations, {args.servers} "
        "uvicorn processes (clients spread over them) + Redis channel layer, clients on the "
        f"same machine; {machine()}"
    )
    print(
        table(
            [
                "offered/s",
                "sent",
                "delivered",
                "achieved/s",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "ack p95 ms",
                "refused",
            ],
            [
                [
                    r["offered"],
                    r["sent"],
                    r["delivered"],
                    f"{r['rate']:.0f}",
                    f"{r['p50']:.1f}",
                    f"{r['p95']:.1f}",
                    f"{r['p99']:.1f}",
                    f"{r['ack_p95']:.1f}",
                    r["refused"],
                ]
                for r in rows
            ],
        )
    )
    svc = django_call(
        url, "bench.chat:time_sends", conversation=pairs[0]["conversation"], sends=500
    )
    print(
        f"the write alone, in one process: {svc['ms_per_send']:.2f} ms a send, of which "
        f"{svc['db_ms_per_send']:.2f} ms in {svc['statements_per_send']:.0f} statements"
    )
    best = max(rows, key=lambda r: r["rate"])
    verdict = (
        "PASS"
        if best["rate"] >= TARGET_RATE * 0.98 and best["p95"] <= TARGET_DELIVERY_P95_MS
        else "BELOW TARGET"
    )
    print(f"target {TARGET_RATE}/s with delivery p95 <= {TARGET_DELIVERY_P95_MS:.0f} ms: {verdict}")

    if args.no_inbox:
        return
    inbox = django_call(url, "bench.chat:seed_big_inbox", messages=BIG, others=3 * BIG)
    timed = django_call(url, "bench.chat:time_unread", user=inbox["user"], calls=200)
    server = LiveServer(
        url,
        workers=2,
        threads=4,
        settings_module="yuyue.settings",
    ).start()
    try:
        req = Req(
            "GET", "/api/conversations/unread", headers={"Authorization": f"Bearer {inbox['key']}"}
        )
        http = sorted(t * 1000 for t in sequential(server.url, [req] * 200))
    finally:
        server.stop()
    print(
        f"\nUnread count of one person with {BIG:,} unread messages "
        f"({4 * BIG:,} in the table), {label}"
    )
    print(
        table(
            ["path", "count", "p50 ms", "p95 ms", "target ms", "verdict"],
            [
                [
                    "chat.unread_count (in process)",
                    timed["count"],
                    f"{timed['p50']:.2f}",
                    f"{timed['p95']:.2f}",
                    TARGET_UNREAD_MS,
                    "PASS" if timed["p95"] <= TARGET_UNREAD_MS else "BELOW TARGET",
                ],
                [
                    "GET /api/conversations/unread",
                    timed["count"],
                    f"{statistics.median(http):.2f}",
                    f"{percentile(http, 95):.2f}",
                    TARGET_UNREAD_MS,
                    "PASS" if percentile(http, 95) <= TARGET_UNREAD_MS else "BELOW TARGET",
                ],
            ],
        )
    )


if __name__ == "__main__":
    main()
