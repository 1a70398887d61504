"""Outbox handlers: the betting app's events publish and complete public bets.

Registered with `betthat.core.outbox.register_handler` when the app is ready (apps.py).
Whatever delivers the outbox (the relay today, a Redis Streams consumer group tomorrow)
calls each registered handler once per event; a replayed event is a no-op here as well
(a bet is published once, under its bettor's profile lock).
"""

from __future__ import annotations

from betthat.core.outbox import register_handler
from social import services


@register_handler("bet.placed")
def on_bet_placed(event_id: str, payload: dict) -> None:
    services.public_bet_from_placed_event(payload=payload)


@register_handler("bet.settled")
@register_handler("bet.cancelled")
def on_bet_result(event_id: str, payload: dict) -> None:
    services.public_bet_from_result_event(payload=payload)
