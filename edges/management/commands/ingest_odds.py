"""`manage.py ingest_odds FILE`: replay an Odds API v4 response file through the quote path."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from edges.feeds.odds_api import ingest_v4


class Command(BaseCommand):
    help = "Ingest an Odds API v4 odds response (a JSON list of events, or one event)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="path to the JSON file, or - for stdin")
        parser.add_argument(
            "--format",
            choices=["auto", "american", "decimal"],
            default="auto",
            help="price format of the file (auto: |x| >= 100 integers are American)",
        )

    def handle(self, *args, **options):
        source = options["file"]
        try:
            text = self.stdin.read() if source == "-" else Path(source).read_text()
        except OSError as error:
            raise CommandError(f"cannot read {source}: {error}") from error
        try:
            payload = json.loads(text)
        except json.JSONDecodeError as error:
            raise CommandError(f"{source} is not JSON: {error}") from error
        report = ingest_v4(payload, odds_format=options["format"])
        self.stdout.write(
            f"events new {report.events}, quotes {report.quotes_received} received, "
            f"{report.quotes_accepted} accepted, {report.quotes_ignored} ignored (not newer), "
            f"markets touched {report.markets_touched}, edges upserted {report.edges_upserted}, "
            f"removed {report.edges_removed}, skipped {report.skipped} in {report.seconds * 1000:.0f} ms"
        )
        for reason, count in sorted(report.reasons().items()):
            self.stdout.write(self.style.WARNING(f"  skipped {count} x {reason}"))
        for problem in report.problems[:50]:
            self.stdout.write(f"    {problem['where']}: {problem['reason']}")
