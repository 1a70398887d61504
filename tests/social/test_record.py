"""The verifiable record: a hash chain per bettor, served for its visible part, that
detects a line added late, edited or removed."""

from __future__ import annotations

import copy
import re
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from rest_framework.test import APIClient

from social import services
from social.models import RecordEntry
from social.record import GENESIS, record_hash, verify_chain
from tests.betting.factories import make_game
from tests.social.factories import bettor, place_and_relay

pytestmark = pytest.mark.django_db
DOCS = Path(__file__).resolve().parents[2] / "docs" / "social.md"


@pytest.fixture
def chain():
    alice = bettor(handle="rec_alice", delay=0, stake="hidden")
    game = make_game()
    bets = [
        place_and_relay(alice, game, stake=1000 + i, alias=alias)
        for i, alias in enumerate(["home_ml", "over", "away_spread"])
    ]
    body = APIClient().get("/api/v1/profiles/rec_alice/record/").json()
    return alice, bets, body


def test_the_api_serves_a_chain_that_verifies(chain):
    _alice, bets, body = chain
    entries = body["entries"]
    assert [e["bet_id"] for e in entries] == [b.pk for b in bets]
    assert [e["sequence"] for e in entries] == [1, 2, 3]
    assert entries[0]["previous_hash"] == GENESIS == body["genesis"]
    assert body["head"] == entries[-1]["hash"] and body["algorithm"] == "sha256"
    assert entries[0]["market"] == "Chargers @ Chiefs: Chiefs (h2h)"
    assert entries[1]["market"] == "Chargers @ Chiefs: Over 44.5 (totals)"
    assert entries[2]["market"] == "Chargers @ Chiefs: Chargers +3.5 (spreads)"
    assert entries[0]["price"] == "2.200000" and entries[0]["stake_mode"] == "hidden"
    line = f"{GENESIS}|{bets[0].pk}|{entries[0]['market']}|2.200000|hidden|{entries[0]['placed_at']}"
    assert record_hash(line) == entries[0]["hash"]
    assert verify_chain(entries) == (True, None)
    # stakes are not in the record: no line carries a stake field, and each hash was made without one
    fields = {"sequence", "bet_id", "market", "price", "stake_mode", "placed_at", "previous_hash", "hash"}
    assert all(set(entry) == fields for entry in entries)
    assert all(e["stake_mode"] == "hidden" for e in entries)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda e: e[1].update(price="2.500000"),  # a price edited
        lambda e: e[1].update(market="Chargers @ Chiefs: Under 44.5 (totals)"),  # a pick changed
        lambda e: e[0].update(placed_at="2020-01-01T00:00:00.000000Z"),  # placed "earlier"
        lambda e: e.pop(1),  # a losing pick removed
        lambda e: e.insert(1, {**e[1], "bet_id": 999_999}),  # a pick added late
        lambda e: e.reverse(),  # reordered
    ],
)
def test_any_change_to_a_served_chain_fails_verification(chain, tamper):
    entries = copy.deepcopy(chain[2]["entries"])
    tamper(entries)
    ok, where = verify_chain(entries)
    assert not ok and where is not None


def test_the_database_refuses_edits_and_a_tampered_row_is_caught(chain):
    _alice, bets, _body = chain
    with pytest.raises(IntegrityError), transaction.atomic():
        RecordEntry.objects.filter(bet_id=bets[1].pk).update(price="9.000000")
    with pytest.raises(IntegrityError), transaction.atomic():
        RecordEntry.objects.filter(bet_id=bets[1].pk).delete()
    # someone with the database's keys switches the trigger off and edits a row ...
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # fire the pending FK checks first
        cursor.execute("ALTER TABLE social_recordentry DISABLE TRIGGER social_record_append_only")
        cursor.execute("UPDATE social_recordentry SET price = '9.000000' WHERE bet_id = %s", [bets[1].pk])
        cursor.execute("ALTER TABLE social_recordentry ENABLE TRIGGER social_record_append_only")
    served = APIClient().get("/api/v1/profiles/rec_alice/record/").json()["entries"]
    assert verify_chain(served) == (False, 2)  # ... and the check finds the line


def test_only_the_visible_prefix_is_served():
    bea = bettor(handle="rec_bea", delay=3600)
    game = make_game()
    first = place_and_relay(bea, game)
    services.profile_update(user=bea, live_delay_sec=0)
    second = place_and_relay(bea, game, alias="over")  # visible at once, but line 2
    client = APIClient()
    assert client.get("/api/v1/profiles/rec_bea/record/").json()["entries"] == []
    with time_machine.travel(first.placed_at + timedelta(seconds=3600), tick=False):
        entries = client.get("/api/v1/profiles/rec_bea/record/").json()["entries"]
    assert [e["bet_id"] for e in entries] == [first.pk, second.pk]
    assert verify_chain(entries) == (True, None)


def test_a_private_profiles_record_is_a_404():
    bettor(handle="rec_private", public=False)
    response = APIClient().get("/api/v1/profiles/rec_private/record/")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_the_documented_snippet_verifies_the_served_chain(chain):
    """docs/social.md's verification code, run as written against the API's answer."""
    text = DOCS.read_text()
    code = re.search(r"```python\n(# verify_record\.py.*?)```", text, re.S).group(1)
    namespace: dict = {}
    exec(compile(code.split("if __name__")[0], "verify_record.py", "exec"), namespace)
    body = chain[2]
    assert namespace["verify"](body) == body["head"]
    broken = copy.deepcopy(body)
    broken["entries"][0]["price"] = "3.000000"
    with pytest.raises(ValueError, match="line 1"):
        namespace["verify"](broken)


def _snippet() -> dict:
    code = re.search(r"```python\n(# verify_record\.py.*?)```", DOCS.read_text(), re.S).group(1)
    namespace: dict = {}
    exec(compile(code.split("if __name__")[0], "verify_record.py", "exec"), namespace)
    return namespace


def test_the_record_is_served_in_pages_that_chain_and_the_snippet_follows_them(chain):
    _alice, bets, whole = chain
    client = APIClient()
    first = client.get("/api/v1/profiles/rec_alice/record/?limit=2").json()
    assert [e["sequence"] for e in first["entries"]] == [1, 2]
    assert (first["count"], first["head"], first["next_after"]) == (3, whole["head"], 2)
    assert first["next"] == "http://testserver/api/v1/profiles/rec_alice/record/?after=2&limit=2"
    second = client.get(first["next"]).json()
    assert [e["sequence"] for e in second["entries"]] == [3]
    assert (second["next_after"], second["next"], second["head"]) == (None, None, whole["head"])
    # a page's first line links to the previous page's last hash
    assert second["entries"][0]["previous_hash"] == first["entries"][-1]["hash"]
    verify = _snippet()["verify"]
    assert verify([first, second]) == whole["head"]
    with pytest.raises(ValueError, match="line 1"):
        verify([second, first])  # out of order
    with pytest.raises(ValueError, match="before its head"):
        verify([first])  # stopped early
    # a verifier who kept line 2's hash checks only what is new
    newer = client.get("/api/v1/profiles/rec_alice/record/?after=2").json()["entries"]
    assert [e["bet_id"] for e in newer] == [bets[2].pk]
    assert newer[0]["previous_hash"] == first["entries"][1]["hash"]


@pytest.mark.parametrize("query", ["limit=0", "limit=1001", "after=-1", "after=two", "limit=x"])
def test_bad_record_page_parameters_are_a_400(chain, query):
    response = APIClient().get(f"/api/v1/profiles/rec_alice/record/?{query}")
    assert response.status_code == 400 and response.json()["error"]["code"] == "validation_error"


def test_after_never_reaches_past_the_visible_prefix():
    bea = bettor(handle="rec_skip", delay=3600)
    game = make_game()
    place_and_relay(bea, game)  # line 1: an hour away
    services.profile_update(user=bea, live_delay_sec=0)
    place_and_relay(bea, game, alias="over")  # line 2: visible at once
    body = APIClient().get("/api/v1/profiles/rec_skip/record/?after=1").json()
    assert (body["entries"], body["count"], body["head"], body["next"]) == ([], 0, None, None)
