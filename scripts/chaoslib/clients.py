"""What the clients saw: each answer classified (ok, refused, outage, down, hang, bad) and
counted per phase; the retrying client."""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from chaoslib.config import GIVE_UP_SECONDS


def classify(response=None, error: Exception | None = None) -> str:
    """ok, refused (a definitive 4xx), outage (503 in the error shape), down (no server),
    hang (timed out), bad (a 5xx that is not a proper outage answer)."""
    import httpx

    if error is not None:
        if isinstance(error, httpx.TimeoutException):
            return "hang"
        return "down"
    if response.status_code < 300:
        return "ok"
    if response.status_code == 503:
        try:
            body = response.json()
        except ValueError:
            return "bad"
        if body.get("error", {}).get("code") == "service_unavailable" and response.headers.get("Retry-After"):
            return "outage"
        return "bad"
    if response.status_code < 500:
        return "refused"
    return "bad"


@dataclass
class Tally:
    phase: str = "setup"
    seen: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    bad_samples: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, detail: str = "") -> None:
        with self.lock:
            self.seen[self.phase][kind] += 1
            if kind in ("bad", "hang") and len(self.bad_samples) < 10:
                self.bad_samples.append(f"[{self.phase}] {kind}: {detail[:300]}")


tally = Tally()
stop_load = threading.Event()


def send(client, method: str, url: str, **kwargs):
    try:
        response = client.request(method, url, **kwargs)
    except Exception as error:
        kind = classify(error=error)
        tally.record(kind, f"{method} {url}: {error!r}")
        return kind, None
    kind = classify(response)
    tally.record(kind, f"{method} {url}: {response.status_code} {response.text[:200]}")
    return kind, response


def until_answered(client, method: str, url: str, **kwargs):
    """Retry the same request (same Idempotency-Key) until a definitive answer."""
    began = time.monotonic()
    attempts = 0
    while True:
        attempts += 1
        kind, response = send(client, method, url, **kwargs)
        if kind in ("ok", "refused"):
            return kind, response, attempts
        if time.monotonic() - began > GIVE_UP_SECONDS:
            return "gave_up", response, attempts
        time.sleep(0.3)
