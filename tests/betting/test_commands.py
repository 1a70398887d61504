"""ingest_results (Odds API v4 scores + player stats), the demo seed and the exposure view."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from betting import exposure
from betting.models import Bet, SameGameQuote
from tests.betting.factories import make_game
from tests.betting.helpers import ledger_clean, leg, place
from wallet.selectors import wallet_balances_for_user

pytestmark = pytest.mark.django_db


def scores_entry(game, home, away, completed=True):
    return {
        "id": game.event.provider_id,
        "sport_key": "americanfootball_nfl",
        "sport_title": "NFL",
        "commence_time": game.event.commence_time.isoformat(),
        "completed": completed,
        "home_team": game.event.home_team,
        "away_team": game.event.away_team,
        "scores": [
            {"name": game.event.home_team, "score": str(home)},
            {"name": game.event.away_team, "score": str(away)},
        ],
        "last_update": "2026-01-01T00:00:00Z",
    }


def test_ingest_results_records_grades_and_settles(tmp_path, funded_user, game):
    other = make_game(home="Bills", away="Jets")
    pending = make_game(home="Rams", away="49ers")
    ml = place(funded_user, leg(game.o("home_ml")), stake=1000)
    prop = place(funded_user, leg(game.o("prop_over")), stake=1000)
    void = place(funded_user, leg(other.o("over")), stake=1000)
    waiting = place(funded_user, leg(pending.o("home_ml")), stake=1000)
    scores = tmp_path / "scores.json"
    scores.write_text(
        json.dumps(
            [
                scores_entry(game, 31, 17),
                {**scores_entry(other, 0, 0, completed=False), "status": "cancelled"},
                scores_entry(pending, 7, 3, completed=False),
                {"id": "unknown-event", "completed": True, "scores": []},
            ]
        )
    )
    players = tmp_path / "players.json"
    players.write_text(json.dumps({game.event.provider_id: {"Patrick Mahomes": {"player_pass_yds": 312}}}))
    out, err = StringIO(), StringIO()
    call_command("ingest_results", str(scores), "--players", str(players), stdout=out, stderr=err)
    assert "results recorded: 2, skipped: 2" in out.getvalue() and "bets settled: 3" in out.getvalue()
    assert "unknown-event: unknown event" in err.getvalue()
    results = {b.pk: (b.status, b.result, b.actual_return_minor) for b in Bet.objects.all()}
    assert results[ml.pk] == ("settled", "win", 2200)
    assert results[prop.pk] == ("settled", "win", 1950)
    assert results[void.pk] == ("void", "void", 1000)
    assert results[waiting.pk] == ("pending", "", None)
    assert wallet_balances_for_user(user=funded_user).held_minor == 1000
    # Ingesting the same file again changes nothing.
    out = StringIO()
    call_command("ingest_results", str(scores), "--players", str(players), stdout=out, stderr=StringIO())
    assert "bets settled: 0" in out.getvalue()
    assert "ledger_check passed" in ledger_clean()


def test_ingest_results_rejects_bad_files(tmp_path, game):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(CommandError):
        call_command("ingest_results", str(bad))
    with pytest.raises(CommandError):
        call_command("ingest_results", str(tmp_path / "missing.json"))
    entry = scores_entry(game, 1, 0)
    entry["scores"][0]["score"] = "lots"
    bad.write_text(json.dumps([entry]))
    with pytest.raises(CommandError):
        call_command("ingest_results", str(bad))


def test_demo_seed_is_idempotent(funded_user, game, django_user_model):
    from betting.demo import seed
    from edges.models import SIMULATED_PREFIX, Event

    # the demo works on the demo feed's own events only; another feed's event is left alone
    Event.objects.filter(pk=game.event.pk).update(provider_id=f"{SIMULATED_PREFIX}demo-game")
    real = make_game(home="Bills", away="Jets")
    out = StringIO()
    seed(users=[funded_user], stdout=out)
    quotes = SameGameQuote.objects.count()
    assert quotes >= 2 and Bet.objects.filter(user=funded_user).count() == 1
    assert not SameGameQuote.objects.filter(event=real.event).exists()
    assert not Bet.objects.filter(event=real.event).exists()
    seed(users=[funded_user], stdout=StringIO())
    assert SameGameQuote.objects.count() == quotes and Bet.objects.filter(user=funded_user).count() == 1
    # The seeded same-game quote is bettable.
    from betting.models import SameGameQuote as Q

    sgp = Q.objects.filter(sportsbook_id="draftkings", event=game.event).first()
    ids = [int(i) for i in sgp.selection_key.split(",")]
    from edges.models import Outcome

    bet = place(funded_user, *[leg(Outcome.objects.get(pk=i)) for i in ids], stake=500)
    assert bet.kind == "same_game" and bet.odds_decimal == sgp.price_decimal


def test_admin_settle_void_and_exposure(funded_user, game, staff_user, django_capture_on_commit_callbacks):
    first = place(funded_user, leg(game.o("home_ml")), stake=1000)
    second = place(funded_user, leg(game.o("over")), stake=2000)
    exposure.exposure_rebuild()
    staff = Client()
    staff.force_login(staff_user)
    page = staff.get("/admin/betting/bet/exposure/").content.decode()
    assert "Chargers @ Chiefs" in page and "12.00" in page  # draftkings 2.20: liability 12.00 on 10.00
    assert staff.get(f"/admin/betting/bet/{first.pk}/change/").status_code == 200
    assert staff.get("/admin/betting/bet/?status__exact=pending").status_code == 200
    response = staff.post(f"/admin/betting/bet/{first.pk}/settle/", {"result": "void", "reason": ""})
    assert response.status_code == 200 and Bet.objects.get(pk=first.pk).status == "pending"
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(f"/admin/betting/bet/{first.pk}/settle/", {"result": "void", "reason": "Duplicate ticket"})
        staff.post(f"/admin/betting/bet/{second.pk}/settle/", {"result": "win", "reason": "Graded by hand"})
    assert Bet.objects.get(pk=first.pk).status == "void"
    assert Bet.objects.get(pk=second.pk).actual_return_minor == 3900
    assert wallet_balances_for_user(user=funded_user).available_minor == 100_000 + 1900
    assert exposure.exposure_for_event(game.event.pk) == {}
    exposure.exposure_rebuild()
    assert exposure.exposure_for_event(game.event.pk) == {}
    assert "ledger_check passed" in ledger_clean()
