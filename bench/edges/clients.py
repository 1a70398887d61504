"""Websocket clients for the edges benchmark: N sockets on /ws/odds/ subscribed to the
board; each records, for every deltas frame it receives, the batch's start (its "at"), the
time it arrived, its edge updates and its length. Prints JSON on stdout."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time

import uvloop
import websockets


async def client(
    url: str,
    cookie: str,
    origin: str,
    ready: asyncio.Event,
    counts: list,
    latencies: list,
    start_after: list,
):
    try:
        ws = await websockets.connect(
            url, additional_headers={"Cookie": cookie}, origin=origin, max_queue=None, open_timeout=60
        )
        await ws.recv()  # hello
        await ws.send(json.dumps({"action": "subscribe", "board": {}}))
        await ws.recv()  # snapshot
    except Exception as error:  # counted and reported: the run goes on with the others
        counts[2] += 1
        counts[3] = counts[3] or f"{type(error).__name__}: {error}"
        if counts[0] + counts[2] == counts[1]:
            ready.set()
        return
    async with ws:
        counts[0] += 1
        if counts[0] + counts[2] == counts[1]:
            ready.set()
        # no per-message timeout (asyncio.wait_for made a task per message): the run ends by
        # cancelling these tasks (a line on stdin, or `seconds` at most)
        while True:
            raw = await ws.recv()
            now = time.time()
            # the simulated browsers share one process here: read the frame's batch time and
            # count its edge updates without decoding the whole frame, so this process's own
            # parsing does not queue up and inflate the server's figure
            if not raw.startswith('{"type":"deltas","at":') or not start_after[0]:
                continue
            at = float(raw[22 : raw.index(",", 22)])
            if at >= start_after[0]:
                latencies.append((at, now, raw.count('"type":"edge.updated"'), len(raw)))


async def main(url: str, cookie: str, origin: str, n: int, seconds: float) -> None:
    ready = asyncio.Event()
    counts: list = [0, n, 0, ""]  # connected, wanted, failed, the first failure
    latencies: list[float] = []
    start_after = [0.0]
    tasks = []
    for _ in range(n):
        tasks.append(asyncio.create_task(client(url, cookie, origin, ready, counts, latencies, start_after)))
        await asyncio.sleep(0.005)
    # 500 sockets each asking for a board snapshot take a while on a loaded machine
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(ready.wait(), timeout=180)
    print(json.dumps({"ready": counts[0], "failed": counts[2], "first_failure": counts[3]}), flush=True)
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    start_after[0] = float(line.strip())
    # a second line on stdin ends the run early (the window is only an upper bound)
    stop = asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    _done, _pending = await asyncio.wait(
        [asyncio.gather(*tasks, return_exceptions=True), stop],
        timeout=seconds,
        return_when=asyncio.FIRST_COMPLETED,
    )
    for task in tasks:
        task.cancel()
    # one row per frame received: [the batch's start, received at, edge updates, characters]
    print(json.dumps({"frames": latencies}), flush=True)


if __name__ == "__main__":
    # uvloop, as uvicorn uses: these 500 sockets stand in for browsers on other machines, and
    # what this process spends on its own event loop only delays the receipts it records
    uvloop.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])))
