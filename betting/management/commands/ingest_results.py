"""`python manage.py ingest_results FILE [--players FILE]`: record results and settle.

FILE is The Odds API v4 scores shape (`GET /v4/sports/{sport}/scores`): a list of
`{"id", "completed", "home_team", "away_team", "scores": [{"name", "score"}, ...]}`.
An entry may also carry `"status": "cancelled"` (the feed has no such field; our demo and
staff use it) to void the event's bets. `--players` is a JSON file of player stats for
props: `{"<event id>": {"<player>": {"player_pass_yds": 291, ...}, "<player who sat>": null}}`.

Each completed event goes through `edges.services.event_record_result`; then its legs are
graded and due bets are settled at once (the outbox handlers would also trigger it).
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from betthat.core.errors import ApplicationError
from betting.services import bet_legs_grade_event, settle_due_bets
from edges.models import Event
from edges.services import event_record_result


def _load(path: str):
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError as error:
        raise CommandError(f"{path}: no such file") from error
    except json.JSONDecodeError as error:
        raise CommandError(f"{path}: not JSON ({error})") from error


def _score(entry: dict, team: str) -> int:
    for item in entry.get("scores") or []:
        if item.get("name") == team:
            try:
                return int(str(item.get("score")).strip())
            except ValueError as error:
                raise CommandError(f"{entry.get('id')}: score of {team} is not a number") from error
    raise CommandError(f"{entry.get('id')}: no score for {team}")


class Command(BaseCommand):
    help = "Record results (Odds API v4 scores JSON, plus player stats for props) and settle bets."

    def add_arguments(self, parser):
        parser.add_argument("file", help="scores JSON (The Odds API v4 /scores shape)")
        parser.add_argument("--players", help="player stats JSON for props", default="")
        parser.add_argument("--no-settle", action="store_true", help="record and grade, do not settle")

    def handle(self, *args, **options):
        entries = _load(options["file"])
        if isinstance(entries, dict):
            entries = [entries]
        if not isinstance(entries, list):
            raise CommandError("the scores file is a JSON list of events")
        players = _load(options["players"]) if options["players"] else {}
        recorded, skipped, graded = 0, 0, 0
        for entry in entries:
            provider_id = str(entry.get("id", ""))
            event = Event.objects.filter(provider_id=provider_id).first()
            if event is None:
                self.stderr.write(f"skip {provider_id}: unknown event")
                skipped += 1
                continue
            status = str(entry.get("status", "")).lower()
            try:
                if status in ("cancelled", "canceled", "postponed"):
                    event_record_result(
                        event_id=event.pk, home_score=None, away_score=None, status="cancelled"
                    )
                elif entry.get("completed"):
                    stats = {
                        name: dict(values or {}) for name, values in (players.get(provider_id) or {}).items()
                    }
                    event_record_result(
                        event_id=event.pk,
                        home_score=_score(entry, event.home_team),
                        away_score=_score(entry, event.away_team),
                        status="final",
                        player_stats=stats,
                    )
                else:
                    skipped += 1
                    continue
            except ApplicationError as error:
                self.stderr.write(f"skip {provider_id}: {error.message}")
                skipped += 1
                continue
            recorded += 1
            graded += bet_legs_grade_event(event_id=event.pk)
        settled = 0 if options["no_settle"] else settle_due_bets()
        self.stdout.write(
            self.style.SUCCESS(
                f"results recorded: {recorded}, skipped: {skipped}, legs graded: {graded}, bets settled: {settled}"
            )
        )
