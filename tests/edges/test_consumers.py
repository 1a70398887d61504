"""The odds websocket: snapshot, then an edge update triggered by an ingest."""

from __future__ import annotations

import copy
import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from betthat.asgi import application
from edges.feeds.odds_api import ingest_v4
from tests.edges.factories import FILE_TIME, books, load
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


async def _connect(headers):
    communicator = WebsocketCommunicator(application, "/ws/odds/", headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    assert (await communicator.receive_json_from(timeout=5))["type"] == "hello"
    return communicator


async def _until(communicator, predicate, timeout=10):
    """The next delta matching `predicate` (deltas arrive batched in frames)."""
    pending = communicator.__dict__.setdefault("_pending", [])
    while True:
        while pending:
            delta = pending.pop(0)
            if predicate(delta):
                return delta
        frame = await communicator.receive_json_from(timeout=timeout)
        assert frame["type"] == "deltas"
        pending.extend(frame["deltas"])


async def test_ingest_pushes_edge_updates_to_the_board(ws_headers_for):
    user = await sync_to_async(UserFactory)()
    headers = await sync_to_async(ws_headers_for)(user)
    await sync_to_async(books)()
    ws = await _connect(headers)
    await ws.send_json_to({"action": "subscribe", "board": {"kind": "positive_ev"}})
    snapshot = await ws.receive_json_from(timeout=5)
    assert snapshot["type"] == "snapshot" and snapshot["edges"] == []

    await sync_to_async(ingest_v4)(load("nfl_decimal.json"), now=FILE_TIME)
    first = await _until(ws, lambda m: m["type"] == "edge.updated")
    assert first["edge"]["kind"] == "positive_ev"  # the filter holds: no arbitrage or middle
    received = {first["edge"]["side"]: first}
    while len(received) < 2:
        message = await _until(ws, lambda m: m["type"] == "edge.updated")
        received[message["edge"]["side"]] = message
    chargers = received["Los Angeles Chargers"]
    p = (1 / 2.45) / (1 / 1.60 + 1 / 2.45)
    assert chargers["edge"]["expected_value_per_dollar"] == pytest.approx(p * 2.60 - 1, abs=1e-6)

    # a newer price moves the edge: a higher version arrives
    payload = copy.deepcopy(load("nfl_decimal.json"))
    dk = payload[0]["bookmakers"][1]["markets"][0]
    dk["last_update"] = "2030-01-01T12:00:20Z"
    dk["outcomes"][1]["price"] = 2.70
    await sync_to_async(ingest_v4)(payload, now=FILE_TIME)
    moved = await _until(
        ws, lambda m: m["type"] == "edge.updated" and m["edge"]["side"] == "Los Angeles Chargers"
    )
    assert moved["version"] > chargers["version"]
    assert moved["edge"]["edge_id"] == chargers["edge"]["edge_id"]
    assert moved["edge"]["expected_value_per_dollar"] == pytest.approx(p * 2.70 - 1, abs=1e-6)

    # the price falls back below fair: the edge is removed
    payload = copy.deepcopy(payload)
    dk = payload[0]["bookmakers"][1]["markets"][0]
    dk["last_update"] = "2030-01-01T12:00:25Z"
    dk["outcomes"][1]["price"] = 2.30
    await sync_to_async(ingest_v4)(payload, now=FILE_TIME)
    removed = await _until(ws, lambda m: m["type"] == "edge.removed")
    assert removed["edge_id"] == chargers["edge"]["edge_id"] and removed["version"] > moved["version"]

    # reconnect: a fresh snapshot to reconcile against
    await ws.disconnect()
    ws = await _connect(headers)
    await ws.send_json_to({"action": "subscribe", "board": {"kind": "positive_ev"}})
    again = await ws.receive_json_from(timeout=5)
    assert [e["side"] for e in again["edges"]] == ["Kansas City Chiefs -3.5"]
    await ws.disconnect()


async def test_event_subscription_gets_quote_updates(ws_headers_for):
    user = await sync_to_async(UserFactory)()
    headers = await sync_to_async(ws_headers_for)(user)
    await sync_to_async(books)()
    await sync_to_async(ingest_v4)(load("nba_american.json"), now=FILE_TIME)
    from edges.models import Event

    event = await sync_to_async(Event.objects.get)(provider_id="evt-bos-nyk")
    ws = await _connect(headers)
    await ws.send_json_to({"action": "subscribe", "events": [event.pk]})
    snapshot = await ws.receive_json_from(timeout=5)
    assert snapshot["scope"] == "events" and len(snapshot["edges"]) == 2
    # the snapshot carries every current quote of the event, shaped as quote.updated carries one
    from edges.models import OddsQuote

    def current() -> list[tuple]:
        rows = OddsQuote.objects.filter(outcome__market__event=event).select_related("outcome", "sportsbook")
        return sorted(
            (
                q.outcome_id,
                q.outcome.market_id,
                q.sportsbook.key,
                str(q.price_decimal),
                q.version,
                q.is_suspended,
            )
            for q in rows
        )

    fields = ("outcome_id", "market_id", "sportsbook", "price_decimal", "version", "is_suspended")
    sent = sorted(tuple(q[f] for f in fields) for q in snapshot["quotes"])
    assert len(sent) > 2 and sent == await sync_to_async(current)()
    payload = copy.deepcopy(load("nba_american.json"))
    payload[0]["bookmakers"][2]["last_update"] = "2030-01-01T12:00:20Z"
    payload[0]["bookmakers"][2]["markets"][0]["outcomes"][0]["price"] = -135
    await sync_to_async(ingest_v4)(payload, now=FILE_TIME)
    # (the first ingest's own fan-out may still be on its way: wait for FanDuel's new price)
    quote = await _until(
        ws, lambda m: m["type"] == "quote.updated" and m["quote"]["price_decimal"] == "1.740741"
    )
    assert quote["quote"]["sportsbook"] == "fanduel"
    assert quote["quote"]["price_decimal"] == "1.740741"
    await ws.disconnect()


async def test_bad_messages_get_errors_and_anonymous_is_refused(ws_headers_for):
    anonymous = WebsocketCommunicator(application, "/ws/odds/", headers=ws_headers_for(None))
    connected, _ = await anonymous.connect(timeout=5)
    assert not connected
    user = await sync_to_async(UserFactory)()
    ws = await _connect(await sync_to_async(ws_headers_for)(user))
    await ws.send_json_to({"action": "subscribe", "board": {"min_edge": "lots"}})
    error = await ws.receive_json_from(timeout=5)
    assert error["type"] == "error" and error["error"]["code"] == "validation_error"
    await ws.send_json_to({"action": "dance"})
    assert (await ws.receive_json_from(timeout=5))["error"]["code"] == "validation_error"
    await ws.send_json_to({"action": "subscribe", "events": "all"})
    assert (await ws.receive_json_from(timeout=5))["error"]["code"] == "validation_error"
    await ws.disconnect()


async def _error_code(ws, frame) -> str:
    if isinstance(frame, bytes):
        await ws.send_to(bytes_data=frame)
    elif isinstance(frame, str):
        await ws.send_to(text_data=frame)
    else:
        await ws.send_json_to(frame)
    answer = await ws.receive_json_from(timeout=5)
    assert answer["type"] == "error" and set(answer["error"]) == {"code", "message", "details"}
    return answer["error"]["code"]


async def test_a_bad_frame_gets_an_error_frame_and_the_socket_stays(ws_headers_for, settings):
    settings.ODDS_WS_MAX_FRAME_BYTES = 1024
    user = await sync_to_async(UserFactory)()
    ws = await _connect(await sync_to_async(ws_headers_for)(user))
    bad = {
        "not json {": "validation_error",
        b"\x00\x01binary": "validation_error",
        json.dumps({"action": "subscribe", "events": [1] * 2000}): "payload_too_large",
        "[1, 2]": "validation_error",
        '"subscribe"': "validation_error",
        "null": "validation_error",
    }
    for frame, code in bad.items():
        assert await _error_code(ws, frame) == code, frame
    wrong_types = [
        {"action": ["subscribe"]},
        {"action": "subscribe", "board": ["sport", "nba"]},
        {"action": "subscribe", "board": {"kind": "positive_ev"}, "units": "basis points"},
        {"action": "subscribe", "board": {"min_edge": {"$gt": 0}}},
        {"action": "subscribe", "board": {"min_edge": True}},
        {"action": "subscribe", "board": {"event": 2**70}},
        {"action": "subscribe", "events": "all"},
        {"action": "subscribe", "events": [True]},
        {"action": "subscribe", "events": [0]},
        {"action": "subscribe", "events": [2**70]},
        {"action": "subscribe", "events": [1.5]},
        {"action": "unsubscribe", "events": 5},
        {"action": "unsubscribe", "events": [{"id": 1}]},
        {"action": "dance"},
        {},
    ]
    for frame in wrong_types:
        assert await _error_code(ws, frame) == "validation_error", frame
    await ws.send_json_to({"action": "ping"})
    assert (await ws.receive_json_from(timeout=5))["type"] == "pong"
    await ws.disconnect()


async def test_event_subscriptions_are_capped_and_must_exist(ws_headers_for, settings):
    from tests.edges.factories import EventFactory

    settings.ODDS_WS_MAX_EVENTS = 2
    user = await sync_to_async(UserFactory)()
    first, second, third = [(await sync_to_async(EventFactory)()).pk for _ in range(3)]
    ws = await _connect(await sync_to_async(ws_headers_for)(user))
    assert (
        await _error_code(ws, {"action": "subscribe", "events": [first, second, third]}) == "validation_error"
    )
    await ws.send_json_to({"action": "subscribe", "events": [first, second]})
    assert (await ws.receive_json_from(timeout=5))["type"] == "snapshot"
    refused = {"action": "subscribe", "events": [third]}
    assert await _error_code(ws, refused) == "too_many_subscriptions"
    # freeing a slot makes room; an id that is no event is refused, not joined
    await ws.send_json_to({"action": "unsubscribe", "events": [first]})
    assert await _error_code(ws, {"action": "subscribe", "events": [third + 1000]}) == "not_found"
    await ws.send_json_to({"action": "subscribe", "events": [third]})
    snapshot = await ws.receive_json_from(timeout=5)
    assert snapshot["type"] == "snapshot" and snapshot["events"] == [third]
    await ws.disconnect()


async def test_subscribe_messages_are_rate_limited(ws_headers_for, settings):
    settings.ODDS_WS_SUBSCRIBES_PER_MINUTE = 3
    user = await sync_to_async(UserFactory)()
    ws = await _connect(await sync_to_async(ws_headers_for)(user))
    for _ in range(3):
        await ws.send_json_to({"action": "subscribe", "board": {}})
        assert (await ws.receive_json_from(timeout=5))["type"] == "snapshot"
    await ws.send_json_to({"action": "subscribe", "board": {}})
    limited = await ws.receive_json_from(timeout=5)
    assert limited["error"]["code"] == "rate_limited"
    assert 1 <= limited["error"]["details"]["retry_after_seconds"] <= 60
    await ws.send_json_to({"action": "ping"})
    assert (await ws.receive_json_from(timeout=5))["type"] == "pong"
    await ws.disconnect()


async def test_the_hub_forgets_filters_no_socket_uses(ws_headers_for):
    from edges.consumers import board as hub
    from edges.selectors import EdgeFilters

    user = await sync_to_async(UserFactory)()
    await sync_to_async(books)()
    ws = await _connect(await sync_to_async(ws_headers_for)(user))
    for kind in ("positive_ev", "middle", "arbitrage"):  # one socket, three filter sets in turn
        await ws.send_json_to({"action": "subscribe", "board": {"kind": kind, "sport": "all"}})
        assert (await ws.receive_json_from(timeout=5))["type"] == "snapshot"
    await sync_to_async(ingest_v4)(load("nfl_decimal.json"), now=FILE_TIME)
    arbitrage = await _until(ws, lambda m: m["type"] == "edge.updated")
    assert arbitrage["edge"]["kind"] == "arbitrage"
    assert list(hub.visible) == [EdgeFilters(kind="arbitrage")]
    await ws.disconnect()
    assert hub.visible == {}
