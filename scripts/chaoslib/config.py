"""The chaos run's settings (CHAOS_* environment variables: it runs before and outside
Django's settings, on a system of its own) and its timestamped log line."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DATA_DIR = Path(os.environ.get("CHAOS_DATA_DIR", str(BASE_DIR / ".data" / "chaos")))
# betthat.embedded reads its data folder when imported: ours, never the application's.
os.environ["BETTHAT_DATA_DIR"] = str(DATA_DIR)
sys.path.insert(0, str(BASE_DIR))

WEB_PORT = int(os.environ.get("CHAOS_WEB_PORT", "8105"))
PHASE_SECONDS = float(os.environ.get("CHAOS_PHASE_SECONDS", "8"))
OUTAGE_SECONDS = float(os.environ.get("CHAOS_OUTAGE_SECONDS", "4"))
BETTORS = int(os.environ.get("CHAOS_BETTORS", "12"))
GAMES = 3
GIVE_UP_SECONDS = 120.0  # a client retrying one request with its key stops after this
STARTED_AT = time.monotonic()


def say(message: str) -> None:
    print(f"  t+{time.monotonic() - STARTED_AT:6.1f}s  {message}", flush=True)
