"""The verifiable record: an append-only, hash-chained log of each bettor's public bets.

Line n of a bettor's record is the text

    {previous_hash}|{bet_id}|{market}|{price}|{stake_mode}|{placed_at}

and its hash is the SHA-256 of that text (UTF-8), in lowercase hex. `previous_hash` is the
hash of line n-1, or 64 zeros for the first line. `price` is the decimal odds as written
at placement ("2.200000"), `placed_at` ISO 8601 in UTC with microseconds. A line is written
in the same transaction as the PublicBet, when the bet is placed and before anyone can see
it, so a pick cannot be added late, edited or removed without breaking every later hash
(and a trigger refuses UPDATE and DELETE on the table). `verify_chain` is the whole check;
docs/social.md has the same dozen lines to run against the API.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

GENESIS = "0" * 64


def record_line(
    *, previous_hash: str, bet_id: int, market: str, price: str, stake_mode: str, placed_at: str
) -> str:
    return f"{previous_hash}|{bet_id}|{market}|{price}|{stake_mode}|{placed_at}"


def record_hash(line: str) -> str:
    return hashlib.sha256(line.encode("utf-8")).hexdigest()


def placed_at_text(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def verify_chain(entries: Iterable[Mapping]) -> tuple[bool, int | None]:
    """Recompute a record from its first line. Returns (True, None) if every line hashes
    to its `hash` and links to the line before it; otherwise (False, sequence of the first
    line that does not)."""
    previous = GENESIS
    expected_sequence = 1
    for entry in entries:
        line = record_line(
            previous_hash=previous,
            bet_id=entry["bet_id"],
            market=entry["market"],
            price=entry["price"],
            stake_mode=entry["stake_mode"],
            placed_at=entry["placed_at"],
        )
        if (
            entry["sequence"] != expected_sequence
            or entry["previous_hash"] != previous
            or record_hash(line) != entry["hash"]
        ):
            return False, entry["sequence"]
        previous = entry["hash"]
        expected_sequence += 1
    return True, None
