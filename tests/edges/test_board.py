"""The board's defaults and the edges app's boundaries."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings

from edges.models import Edge
from tests.edges.factories import FILE_TIME, books, load

pytestmark = pytest.mark.django_db
EDGES = Path(settings.BASE_DIR) / "edges"


@pytest.fixture
def two_sports():
    """The NFL file and the same prices as an NBA game: edges in two sports."""
    from edges.feeds.odds_api import ingest_v4

    books()
    ingest_v4(load("nfl_decimal.json"), now=FILE_TIME)
    nba = load("nfl_decimal.json")
    nba[0].update(id="evt-bos-den", sport_key="basketball_nba", sport_title="NBA")
    ingest_v4(nba, now=FILE_TIME)
    counts = {
        sport: Edge.objects.filter(status="active", sport_key=sport).count()
        for sport in ("americanfootball_nfl", "basketball_nba")
    }
    assert all(counts.values())
    return counts


def _board_edges(client, query=""):
    text = client.get(f"/edges/{query}").content.decode()
    ids = set(re.findall(r'data-edge-id="([0-9a-f]+)"', text))
    return {e.sport_key for e in Edge.objects.filter(edge_id__in=ids)}, len(ids)


def test_favourite_sports_are_the_boards_default_filter(client, user, two_sports):
    user.preferences = {**user.preferences, "favourite_sports": ["basketball_nba"]}
    user.save()
    client.force_login(user)
    assert _board_edges(client) == ({"basketball_nba"}, two_sports["basketball_nba"])
    # sorting is not a filter: the default stays
    assert _board_edges(client, "?ordering=-edge")[0] == {"basketball_nba"}
    # a sport the viewer chose wins, and sport=all shows every sport
    assert _board_edges(client, "?sport=americanfootball_nfl")[0] == {"americanfootball_nfl"}
    assert _board_edges(client, "?sport=all") == (
        {"americanfootball_nfl", "basketball_nba"},
        sum(two_sports.values()),
    )
    # the other filters keep the default
    kinds = _board_edges(client, "?kind=arbitrage")
    assert kinds == ({"basketball_nba"}, 1)


@pytest.mark.parametrize("preference", [None, [], "basketball_nba", [1, None], {"a": 1}])
def test_no_usable_favourites_shows_every_sport(client, user, two_sports, preference):
    user.preferences = {**user.preferences, "favourite_sports": preference}
    user.save()
    client.force_login(user)
    assert _board_edges(client)[0] == {"americanfootball_nfl", "basketball_nba"}


@pytest.mark.django_db(transaction=True)
async def test_the_live_board_applies_the_same_default(ws_headers_for, two_sports):
    from asgiref.sync import sync_to_async

    from tests.edges.test_consumers import _connect
    from tests.factories import UserFactory

    user = await sync_to_async(UserFactory)(preferences={"favourite_sports": ["basketball_nba"]})
    ws = await _connect(await sync_to_async(ws_headers_for)(user))
    await ws.send_json_to({"action": "subscribe", "board": {"ordering": "-ev"}})
    snapshot = await ws.receive_json_from(timeout=5)
    assert {e["sport_key"] for e in snapshot["edges"]} == {"basketball_nba"}
    await ws.send_json_to({"action": "subscribe", "board": {"sport": "all"}})
    snapshot = await ws.receive_json_from(timeout=5)
    assert {e["sport_key"] for e in snapshot["edges"]} == {"americanfootball_nfl", "basketball_nba"}
    await ws.disconnect()


def _imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_edges_imports_no_wallet_betting_social_or_chat():
    """DESIGN.md's arrows, including imports tucked inside functions."""
    forbidden = ("wallet", "betting", "social", "chat")
    offenders = {
        f"{path.relative_to(EDGES.parent)}: {name}"
        for path in EDGES.rglob("*.py")
        for name in _imported_modules(path)
        if name.split(".")[0] in forbidden
    }
    assert offenders == set()


@pytest.mark.parametrize("module", ["selectors", "views.py", "api.py"])
def test_no_hand_written_money_math(module):
    """Minor and major units convert in betthat.core.money only."""
    path = EDGES / module
    source = "".join(p.read_text() for p in sorted(path.rglob("*.py"))) if path.is_dir() else path.read_text()
    assert not re.findall(r"[*/] ?100\b(?!_)", source)
