"""Rows for the operations tests: bets written as they stand after placement or settlement
(the views read only the bets table), a redis-server of the test's own."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from betting.models import Bet, BetLeg
from tests.betting.factories import books


def bet(
    user,
    *,
    stake: int,
    placed_at: datetime,
    status: str = "pending",
    result: str = "",
    returned: int | None = None,
    potential: int | None = None,
    settled_at: datetime | None = None,
    currency: str = "USD",
    odds: str = "2.50",
    event=None,
) -> Bet:
    books()
    potential = potential if potential is not None else int(stake * Decimal(odds))
    return Bet.objects.create(
        user=user,
        event=event,
        kind="straight",
        market_type="moneyline",
        sport_key="americanfootball_nfl",
        currency=currency,
        stake_minor=stake,
        odds_decimal=Decimal(odds),
        odds_american=150,
        potential_return_minor=potential,
        actual_return_minor=returned,
        net_profit_minor=None if returned is None else returned - stake,
        status=status,
        result=result,
        sportsbook_id="draftkings",
        placed_at=placed_at,
        settled_at=settled_at,
    )


def leg(bet_row: Bet, game, alias: str = "home_ml") -> BetLeg:
    outcome = game.o(alias)
    return BetLeg.objects.create(
        bet=bet_row,
        event=game.event,
        market=outcome.market,
        outcome=outcome,
        price_decimal=bet_row.odds_decimal,
        attributes={"market_key": outcome.market.key, "outcome_name": outcome.name, "player": ""},
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OwnRedis:
    """A redis-server this test starts and stops itself (never the machine's shared one)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        from betthat.embedded import _redis_server_binary

        self.proc = subprocess.Popen(
            [
                _redis_server_binary(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                sock.settimeout(0.2)
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.02)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.stop()


def wait_for(condition, *, timeout: float = 15.0, interval: float = 0.05):
    """Poll `condition` until it returns something truthy (returned), or fail."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last: {last!r})")
