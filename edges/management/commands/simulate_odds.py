"""`manage.py simulate_odds`: the demo feed (`make run` starts it after seed_demo)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from edges.simulator import Simulator, board_counts


class Command(BaseCommand):
    help = "Run the simulated odds feed: books quote random-walking markets; events start and finish."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run one tick and exit")
        parser.add_argument("--seconds", type=float, default=None, help="stop after this many seconds")
        parser.add_argument(
            "--rate", type=int, default=None, help="at most this many quote updates per second"
        )
        parser.add_argument("--tick", type=float, default=1.0, help="seconds between ticks (default 1)")
        parser.add_argument("--events", type=int, default=10, help="upcoming events to keep on the slate")
        parser.add_argument(
            "--game-seconds", type=float, default=240.0, help="how long a demo event stays live"
        )
        parser.add_argument("--seed", type=int, default=None)
        parser.add_argument("--quiet", action="store_true", help="no per-tick progress line")

    def handle(self, *args, **options):
        Simulator.ensure_books()
        simulator = Simulator(
            events=options["events"], game_seconds=options["game_seconds"], seed=options["seed"]
        )
        tick = max(0.05, options["tick"])
        per_tick = None if options["rate"] is None else max(1, int(options["rate"] * tick))
        deadline = None if options["seconds"] is None else time.monotonic() + options["seconds"]
        try:
            while True:
                started = time.monotonic()
                close_old_connections()
                result = simulator.tick(rate=per_tick)
                report, life = result["report"], result["lifecycle"]
                if not options["quiet"]:
                    counts = board_counts()
                    self.stdout.write(
                        f"tick {simulator.tick_count}: {report.quotes_received} quotes, {report.quotes_accepted} accepted, "
                        f"{report.markets_touched} markets, edges {report.edges_upserted} up / {report.edges_removed} gone, "
                        f"board arb {counts['arbitrage']} ev {counts['positive_ev']} middle {counts['middle']}, "
                        f"events +{result['new_events']} started {life['started']} finished {result['finished']}, "
                        f"stale {life['stale']}, {(time.monotonic() - started) * 1000:.0f} ms"
                    )
                if options["once"] or (deadline is not None and time.monotonic() >= deadline):
                    break
                time.sleep(max(0.0, tick - (time.monotonic() - started)))
        except KeyboardInterrupt:
            self.stdout.write("simulate_odds stopped")
