"""`make bench`: run every benchmark under bench/ (each a folder with a main.py).

make bench                    # all
.venv/bin/python bench/run.py ledger edges
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    wanted = argv[1:]
    suites = sorted(p.parent.name for p in BENCH_DIR.glob("*/main.py"))
    if wanted:
        suites = [s for s in suites if s in wanted]
    env = dict(os.environ)
    started: list[str] = []
    sys.path.insert(0, str(BENCH_DIR.parent))
    if not env.get("DATABASE_URL") or not env.get("REDIS_URL"):
        from betthat import embedded

        urls, started = embedded.start_missing(
            postgres=not env.get("DATABASE_URL"), redis=not env.get("REDIS_URL")
        )
        env.update({k: env.get(k) or v for k, v in urls.items()})
    failed = []
    from bench.common import cpu_reference

    print(f"machine CPU reference (one core, Python): {cpu_reference():,.1f} k rounds/s", flush=True)
    try:
        for index, suite in enumerate(suites, 1):
            print(f"\n=== [{index}/{len(suites)}] bench/{suite} ===", flush=True)
            began = time.monotonic()
            result = subprocess.run([sys.executable, str(BENCH_DIR / suite / "main.py")], env=env)
            print(f"=== bench/{suite} done in {time.monotonic() - began:.0f}s (exit {result.returncode}) ===")
            if result.returncode != 0:
                failed.append(suite)
        print(f"\nmachine CPU reference at the end: {cpu_reference():,.1f} k rounds/s", flush=True)
    finally:
        if started:
            from betthat import embedded

            embedded.stop(started)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
