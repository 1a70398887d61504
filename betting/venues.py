"""Execution connectors: where a bet is actually placed.

A connector takes the priced ticket and answers with the venue's ticket id (`external_id`)
and the price it filled at, or a rejection. `BETTING_VENUE` names the connector class;
the sandbox is the default and fills at the quoted price, with configurable rejections
and delays (settings `BETTING_SANDBOX_REJECT_RATE`, `BETTING_SANDBOX_REJECT_BOOKS`,
`BETTING_SANDBOX_DELAY_MS`, `BETTING_SANDBOX_CANCELLABLE`) so tests and demos can exercise
the unhappy paths.

Contract: betting calls a connector with no database transaction open. `execute` returns
an `Execution` (filled or rejected) and raises only when the ticket was not filled (a
connector that cannot tell after a timeout looks the ticket up by `bet_id` before it
answers). `cancel` returns True only when the venue cancelled the ticket; `is_void` says
whether the venue voided the ticket on its own side. `lookup` answers, for a bet left
`placing`, whether the venue holds a filled ticket for it (by `bet_id`, the ticket's
idempotency key at the venue): the filled `Execution` with its ticket id if it does, a
rejected one if it does not; it raises when it cannot tell (betting/services/recovery.py
then asks again later).
"""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from betthat.core import redis as bt_redis


@dataclass(frozen=True)
class Ticket:
    bet_id: int
    user_id: int
    sportsbook: str
    stake_minor: int
    currency: str
    price_decimal: Decimal
    outcome_ids: tuple[int, ...]


@dataclass(frozen=True)
class Execution:
    is_accepted: bool
    external_id: str = ""
    price_decimal: Decimal | None = None
    reason: str = ""


class VenueConnector(Protocol):
    def execute(self, ticket: Ticket) -> Execution: ...

    def can_cancel(self, *, sportsbook: str, external_id: str) -> bool: ...

    def cancel(self, *, sportsbook: str, external_id: str) -> bool: ...

    def is_void(self, *, sportsbook: str, external_id: str) -> bool: ...

    def lookup(self, *, sportsbook: str, bet_id: int) -> Execution: ...


# How long the sandbox remembers a ticket it filled, for `lookup` (a real venue keeps them).
SANDBOX_TICKET_DAYS = 7


def _sandbox_ticket_key(sportsbook: str, bet_id: int) -> str:
    return bt_redis.key("venue", "sandbox", sportsbook, bet_id)


class SandboxVenue:
    """Fills every ticket at the quoted price unless told to reject it, and remembers the
    tickets it filled (in Redis, as a venue keeps its own) so that `lookup` can answer."""

    def __init__(self) -> None:
        self.reject_rate = float(settings.BETTING_SANDBOX_REJECT_RATE)
        self.reject_books = set(settings.BETTING_SANDBOX_REJECT_BOOKS)
        self.delay_ms = int(settings.BETTING_SANDBOX_DELAY_MS)
        self.cancellable = bool(settings.BETTING_SANDBOX_CANCELLABLE)

    def execute(self, ticket: Ticket) -> Execution:
        if self.delay_ms:
            time.sleep(self.delay_ms / 1000)
        if ticket.sportsbook in self.reject_books:
            return Execution(False, reason=f"{ticket.sportsbook} is not taking bets on this market.")
        if self.reject_rate and random.random() < self.reject_rate:
            return Execution(False, reason="The sportsbook declined the ticket.")
        external_id = f"sbx-{ticket.sportsbook}-{uuid.uuid4().hex[:16]}"
        # The ticket is the venue's once this returns: remembered first, as a venue books a
        # ticket before it answers (a failure here raises: not filled, as the contract says).
        # Its price is the ticket's, which the bet keeps.
        bt_redis.client().set(
            _sandbox_ticket_key(ticket.sportsbook, ticket.bet_id), external_id, ex=SANDBOX_TICKET_DAYS * 86400
        )
        return Execution(True, external_id=external_id, price_decimal=ticket.price_decimal)

    def can_cancel(self, *, sportsbook: str, external_id: str) -> bool:
        return self.cancellable

    def cancel(self, *, sportsbook: str, external_id: str) -> bool:
        return self.cancellable

    def is_void(self, *, sportsbook: str, external_id: str) -> bool:
        return False  # the sandbox never voids a ticket on its own

    def lookup(self, *, sportsbook: str, bet_id: int) -> Execution:
        external_id = bt_redis.client(decode_responses=True).get(_sandbox_ticket_key(sportsbook, bet_id))
        if external_id is None:
            return Execution(False, reason=f"{sportsbook} holds no ticket for this bet.")
        return Execution(True, external_id=str(external_id))


def venue() -> VenueConnector:
    connector: VenueConnector = import_string(settings.BETTING_VENUE)()
    return connector
