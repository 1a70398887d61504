"""Websocket clients for the chat benchmark (a process of its own, so the server's figures
are not the clients' parsing). Reads a JSON plan on argv, prints JSON results on stdout.

Every message text (or baseline frame) carries its send time, "t=<epoch seconds>"; each
listener records now - t for every message frame it receives. Senders are sockets too:
they send {"action": "send"} frames as fast as their acks come back, `per_sender` each."""

from __future__ import annotations

import asyncio
import json
import sys
import time

import websockets

WINDOW = 8


async def listen(url, cookie, origin, ready, go, stop, latencies, counter):
    async with websockets.connect(
        url, additional_headers={"Cookie": cookie}, origin=origin, max_queue=None
    ) as ws:
        await ws.recv()  # hello
        ready.append(1)
        await go.wait()
        while not stop.is_set():
            try:
                raw = await asyncio.wait_for(ws.recv(), timeout=0.5)
            except TimeoutError:
                continue
            if '"t=' not in raw:
                continue
            now = time.time()
            at = float(raw[raw.index('"t=') + 3 : raw.index('"', raw.index('"t=') + 3)])
            latencies.append((now - at) * 1000)
            counter[0] += 1


async def send(url, cookie, origin, count, gap, acked, run):
    """Send `count` messages: one at a time `gap` apart (latency), or with up to WINDOW
    unacknowledged at once when gap is 0 (throughput: a socket's frames are handled in order,
    so a window keeps the server busy without waiting a round trip per message)."""
    window = 1 if gap else WINDOW
    async with websockets.connect(
        url, additional_headers={"Cookie": cookie}, origin=origin, max_queue=None
    ) as ws:
        await ws.recv()  # hello
        sent = outstanding = 0
        while sent < count or outstanding:
            while sent < count and outstanding < window:
                frame = {
                    "action": "send",
                    "text": f"t={time.time():.6f}",
                    "client_id": f"{run}-{url.rsplit('/', 2)[-2]}-{sent}",
                }
                await ws.send(json.dumps(frame))
                sent += 1
                outstanding += 1
            frame = json.loads(await ws.recv())
            if frame["type"] in ("ack", "error"):
                acked[0] += frame["type"] == "ack"
                outstanding -= 1
                if gap and sent < count:
                    await asyncio.sleep(gap)


async def main(plan):
    base, cookie, origin = plan["base"], plan["cookie"], plan["origin"]
    rooms, per_room = plan["rooms"], plan["clients_per_room"]
    ready, latencies, counter, acked = [], [], [0], [0]
    go, stop = asyncio.Event(), asyncio.Event()
    tasks = []
    for r in range(rooms):
        url = f"{base}/ws/chat/{plan['room_prefix']}{r}/"
        for _ in range(per_room):
            tasks.append(
                asyncio.create_task(listen(url, cookie, origin, ready, go, stop, latencies, counter))
            )
            await asyncio.sleep(0.002)
    deadline = time.time() + 120
    while len(ready) < rooms * per_room and time.time() < deadline:
        await asyncio.sleep(0.05)
    go.set()
    print(json.dumps({"ready": len(ready)}), flush=True)
    # the driver sends (over sockets here, or bare publishes from its own process), then says "stop"
    started = time.time()
    if plan["mode"] == "sockets":
        senders = [
            send(
                f"{base}/ws/chat/{plan['room_prefix']}{r}/",
                plan["sender_cookie"],
                origin,
                plan["per_sender"],
                plan["gap"],
                acked,
                plan["run"],
            )
            for r in range(rooms)
        ]
        await asyncio.gather(*senders)
        sent_seconds = time.time() - started
        expected = rooms * plan["per_sender"] * per_room
    else:
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)  # driver: done sending
        sent_seconds = time.time() - started
        expected = plan["expected"]
    deadline = time.time() + 30
    while counter[0] < expected and time.time() < deadline:
        await asyncio.sleep(0.05)
    elapsed = time.time() - started
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    print(
        json.dumps(
            {
                "latencies": latencies,
                "delivered": counter[0],
                "acked": acked[0],
                "elapsed": elapsed,
                "sent_seconds": sent_seconds,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
