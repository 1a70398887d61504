"""Chat fan-out and throughput over a real ASGI server and the realtime hub (Redis pub/sub).

1. Fan-out: one room, 500 websocket clients; a sender posts messages through the socket
   (checked, stored by the process's batch writer in the partitioned table with the outbox
   event, published after commit to the room's hub topic); p50 and p99 of send -> delivery
   to every client. Baseline in the same run: the same frames published bare on the room's
   topic (no socket, no store: the hub's fan-out alone) to the same 500 sockets.
2. Throughput: 50 rooms of 20 clients, one sender per room sending with up to 8 sends
   unacknowledged: messages stored per second and deliveries per second, beside bare
   published frames to the same sockets.

Runs in its own database (bench.common.bench_database), dropped at the end; uvicorn is
started on a free port and stopped by its process group.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

from bench.common import bench_database, line, percentile, size, start_uvicorn, stop_group
from bench.edges.main import cpu_seconds

BENCH_DB = "bench_chat"
FANOUT_CLIENTS = int(size("CHAT_BENCH_FANOUT_CLIENTS", "500", "4"))
FANOUT_MESSAGES = int(size("CHAT_BENCH_FANOUT_MESSAGES", "40", "3"))
ROOMS = int(size("CHAT_BENCH_ROOMS", "50", "2"))
PER_ROOM = int(size("CHAT_BENCH_PER_ROOM", "20", "3"))
PER_SENDER = int(size("CHAT_BENCH_PER_SENDER", "40", "3"))


def _run_clients(plan: dict, driver=None) -> dict:
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).parent / "clients.py"), json.dumps(plan)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        ready = json.loads(proc.stdout.readline())
        if driver is not None:
            driver()
            proc.stdin.write("done\n")
            proc.stdin.flush()
        result = json.loads(proc.stdout.readline())
        result["ready"] = ready["ready"]
        return result
    finally:
        proc.wait(timeout=60)


def main() -> int:
    # the benchmark's own senders are not throttled: it measures the path, not the limits
    os.environ.update(
        CHAT_RATE_MESSAGES="100000000", CHAT_SOCKET_FRAMES_PER_SEC="100000", CHAT_DEMO_CHATTER="false"
    )
    with bench_database("chat"):
        return run()


def run() -> int:
    from django.conf import settings
    from django.test import Client

    server = None
    try:
        from betthat.core import realtime as core_realtime
        from betthat.users.models import User
        from chat import realtime
        from chat.models import Room

        listener = User.objects.create_user(email="listener@bench.local", password="x" * 12, status="active")
        sender = User.objects.create_user(
            email="sender@bench.local", password="x" * 12, status="active", verification_level=2
        )

        def cookie_for(user):
            c = Client()
            c.force_login(user)
            return f"{settings.SESSION_COOKIE_NAME}={c.cookies[settings.SESSION_COOKIE_NAME].value}"

        rooms = [
            Room.objects.create(
                kind="lobby" if i == 0 else "event",
                slug=f"bench-{i}",
                title=f"Bench {i}",
                event_id=None if i == 0 else 10_000 + i,
            )
            for i in range(max(ROOMS, 1))
        ]
        from betthat.websocket_protocol import UVICORN_WS

        # served as scripts/run.py serves it: each message compressed once for every socket
        server, port = start_uvicorn(dict(os.environ, LOG_LEVEL="WARNING"), extra_args=["--ws", UVICORN_WS])
        base = f"ws://127.0.0.1:{port}"
        common = {
            "base": base,
            "cookie": cookie_for(listener),
            "sender_cookie": cookie_for(sender),
            "origin": f"http://127.0.0.1:{port}",
            "room_prefix": "bench-",
            "run": 0,
        }

        def publish_frames(room_ids: list[int], count: int, gap: float) -> None:
            """The baseline: the same frames published bare on the rooms' topics."""
            for i in range(count):
                core_realtime.publish_now(
                    [
                        (
                            realtime.room_group(room_id),
                            core_realtime.encode(
                                {"type": "message", "message": {"text": f"t={time.time():.6f}"}}
                            ),
                            True,
                        )
                        for room_id in room_ids
                    ]
                )
                if gap:
                    time.sleep(gap)

        print(f"\n  fan-out: 1 room, {FANOUT_CLIENTS} clients, {FANOUT_MESSAGES} messages", flush=True)
        base_run = _run_clients(
            {
                **common,
                "rooms": 1,
                "clients_per_room": FANOUT_CLIENTS,
                "mode": "bare",
                "expected": FANOUT_CLIENTS * FANOUT_MESSAGES,
            },
            driver=lambda: publish_frames([rooms[0].pk], FANOUT_MESSAGES, 0.1),
        )
        chat_run = _run_clients(
            {
                **common,
                "rooms": 1,
                "clients_per_room": FANOUT_CLIENTS,
                "mode": "sockets",
                "run": time.monotonic_ns(),
                "per_sender": FANOUT_MESSAGES,
                "gap": 0.1,
            }
        )
        b99, c99 = percentile(base_run["latencies"], 99), percentile(chat_run["latencies"], 99)
        line("bare publish baseline p50", percentile(base_run["latencies"], 50), "ms")
        line("bare publish baseline p99", b99, "ms")
        line("chat message p50 (stored, published, fanned out)", percentile(chat_run["latencies"], 50), "ms")
        line(
            f"chat message p99 ({chat_run['delivered']:,} deliveries)",
            c99,
            "ms",
            target="< 100 ms",
            ok=c99 < 100,
        )
        print(
            f"  {'chat p99 / bare publish p99':<52} {c99 / b99 if b99 else float('nan'):>12.2f} x", flush=True
        )

        print(
            f"\n  throughput: {ROOMS} rooms x {PER_ROOM} clients, {PER_SENDER} messages per room", flush=True
        )
        ids = [r.pk for r in rooms[:ROOMS]]
        base_tp = _run_clients(
            {
                **common,
                "rooms": ROOMS,
                "clients_per_room": PER_ROOM,
                "mode": "bare",
                "expected": ROOMS * PER_ROOM * PER_SENDER,
            },
            driver=lambda: publish_frames(ids, PER_SENDER, 0),
        )
        cpu_marks = [sum(cpu_seconds(server.pid))]
        chat_tp = _run_clients(
            {
                **common,
                "rooms": ROOMS,
                "clients_per_room": PER_ROOM,
                "mode": "sockets",
                "run": time.monotonic_ns(),
                "per_sender": PER_SENDER,
                "gap": 0,
            },
            # called once every listener has its hello: the connects' CPU ends here
            driver=lambda: cpu_marks.append(sum(cpu_seconds(server.pid))),
        )
        cpu_marks.append(sum(cpu_seconds(server.pid)))
        print(
            f"  (acked {chat_tp['acked']}, delivered {chat_tp['delivered']}, ready {chat_tp['ready']})",
            flush=True,
        )
        # the server's CPU (all threads), what the machine's load hardly moves: per listener's
        # connect (handshake, session, room, hub join, hello, presence), and per stored message
        # with its deliveries once everyone is in (the senders' own connects included, 1 in 20)
        connect_cpu_ms = (cpu_marks[1] - cpu_marks[0]) * 1000 / max(chat_tp["ready"], 1)
        server_cpu_ms = (cpu_marks[2] - cpu_marks[1]) * 1000 / max(chat_tp["acked"], 1)
        stored = chat_tp["acked"] / chat_tp["sent_seconds"]
        line("bare publish baseline frames/s delivered", base_tp["delivered"] / base_tp["elapsed"], "/s")
        line("bare publish baseline frames/s sent", ROOMS * PER_SENDER / base_tp["sent_seconds"], "/s")
        line("chat messages stored/s", stored, "/s", target=">= 1,000/s", ok=stored >= 1000)
        line("chat deliveries/s", chat_tp["delivered"] / chat_tp["elapsed"], "/s")
        line("chat delivery p99 under that load", percentile(chat_tp["latencies"], 99), "ms")
        line("server CPU per listener's connect and hello", connect_cpu_ms, "ms")
        line("server CPU per stored message (and its deliveries)", server_cpu_ms, "ms")
        return 0
    finally:
        if server is not None:
            stop_group(server)
        from betthat.core import redis as bt_redis

        r = bt_redis.client()
        keys = [
            key
            for part in ("chat", "hub")  # presence and limits; the rooms' frame numbers
            for key in r.scan_iter(match=f"{bt_redis.key(part)}:*", count=1000)
        ]
        if keys:
            r.delete(*keys)


if __name__ == "__main__":
    sys.exit(main())
