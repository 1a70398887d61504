"""Grading legs and settling bets, exactly once.

Two steps, both idempotent:

1. `bet_legs_grade_event` grades the ungraded legs of a finished or cancelled event (one
   UPDATE per outcome, guarded by `result = ''`, so a second run changes nothing).
2. `settle_due_bets` settles pending bets whose legs are all graded, in batches. A batch is
   one database transaction: the bets are locked (`FOR UPDATE SKIP LOCKED`, so two workers
   never take the same bet), each is still pending under the lock, the wallet captures or
   releases its stake (the wallet's unique `(bet_id, type)` backs this up), the bets are
   updated and `bet.settled` is published. A worker killed anywhere in the batch rolls the
   whole batch back; the task is `acks_late` so the message is redelivered, and the next
   run settles those bets once. The user is notified and a settlement line is appended to
   the audit store after the commit.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from betthat.core import realtime
from betthat.core.audit import audit_append, audit_append_many
from betthat.core.db import binding_cursor
from betthat.core.outbox import publish_batch
from betthat.users import preferences
from betthat.users.models import User
from betting import exposure, grading
from betting.locks import exclusive
from betting.models import Bet, BetLeg
from betting.services.records import BET_ROW_COLUMNS, LEG_ROW_COLUMNS, BetRow, LegRow, bet_event_payload
from edges.models import Event, Outcome
from wallet.services import CaptureSpec, ReleaseSpec, wallet_capture_many, wallet_release_many

logger = logging.getLogger(__name__)

SETTLEMENT_BATCH = 500
GRADED_STATUSES = (Event.Status.FINAL, Event.Status.CANCELLED)


def event_result_of(event: Event) -> grading.EventResult:
    scores = event.scores or {}
    return grading.EventResult(
        status=event.status,
        home_team=event.home_team,
        away_team=event.away_team,
        home_score=event.home_score if event.home_score is not None else scores.get("home"),
        away_score=event.away_score if event.away_score is not None else scores.get("away"),
        players=scores.get("players") or {},
    )


def selection_of(leg: BetLeg, *, has_draw: bool = False) -> grading.Selection:
    attributes = leg.attributes or {}
    return grading.Selection(
        market_key=attributes.get("market_key", ""),
        outcome_name=attributes.get("outcome_name", ""),
        point=leg.point,
        player=attributes.get("player", ""),
        has_draw=has_draw,
    )


def _three_way_markets(event_id: int) -> set[int]:
    """Moneyline markets of the event that offer a draw (a team pick then loses on a tie)."""
    return set(
        Outcome.objects.filter(
            market__event_id=event_id, market__key__startswith="h2h", name__iregex=r"^(draw|tie|x)$"
        ).values_list("market_id", flat=True)
    )


def bet_legs_grade_event(*, event_id: int, now: datetime | None = None) -> int:
    """Grade every ungraded leg on a finished or cancelled event; returns legs graded."""
    now = now or timezone.now()
    event = Event.objects.filter(pk=event_id).first()
    if event is None or event.status not in GRADED_STATUSES:
        return 0
    result = event_result_of(event)
    graded = 0
    with transaction.atomic():
        # One representative leg per distinct selection; legs of one outcome grade alike.
        seen: dict[tuple[int, Decimal | None], grading.Result] = {}
        pending = (
            BetLeg.objects.filter(event_id=event_id, result="")
            .values("outcome_id", "market_id", "point", "attributes")
            .distinct()
        )
        three_way = _three_way_markets(event_id)
        for row in pending:
            leg = BetLeg(point=row["point"], attributes=row["attributes"])
            key = (row["outcome_id"], row["point"])
            if key in seen:
                continue
            try:
                outcome = grading.grade_leg(selection_of(leg, has_draw=row["market_id"] in three_way), result)
            except grading.GradingError:
                logger.exception("cannot grade outcome %s of event %s", row["outcome_id"], event_id)
                continue
            seen[key] = outcome
        for (outcome_id, point), outcome in seen.items():
            graded += BetLeg.objects.filter(
                event_id=event_id, outcome_id=outcome_id, point=point, result=""
            ).update(result=outcome.value, graded_at=now)
    return graded


def bet_legs_grade_finished(*, limit: int = 200) -> int:
    """Grade the legs of every finished or cancelled event that still has ungraded legs."""
    event_ids = list(
        BetLeg.objects.filter(result="", event__status__in=GRADED_STATUSES)
        .values_list("event_id", flat=True)
        .distinct()[:limit]
    )
    return sum(bet_legs_grade_event(event_id=event_id) for event_id in event_ids)


SettlingBet = Bet | BetRow
SettlingLeg = BetLeg | LegRow


def _settlement_for(bet: SettlingBet, legs: Sequence[SettlingLeg]) -> grading.Settlement:
    return grading.settle(bet.stake_minor, [(grading.Result(leg.result), leg.price_decimal) for leg in legs])


def apply_settlement(
    bet: SettlingBet, settlement: grading.Settlement, *, now: datetime, note: str = ""
) -> None:
    """Mark the bet in memory with its settlement (the caller moves the money and saves)."""
    bet.status = Bet.Status.VOID if settlement.result == grading.Result.VOID else Bet.Status.SETTLED
    bet.result = settlement.result.value
    bet.actual_return_minor = settlement.payout_minor
    bet.net_profit_minor = settlement.payout_minor - bet.stake_minor
    bet.settled_at = now
    bet.updated_at = now
    if note:
        bet.settlement_note = note[:300]


def _returns_stake(bet: SettlingBet, settlement: grading.Settlement) -> bool:
    """A void, or a full push, gives the stake back (BET_REFUND) rather than capturing it."""
    return settlement.result == grading.Result.VOID or (
        settlement.result == grading.Result.PUSH and settlement.payout_minor == bet.stake_minor
    )


def move_money(settled: Sequence[tuple[SettlingBet, grading.Settlement]], *, actor: User | None) -> None:
    """The wallet side of a batch (inside the caller's transaction, bets locked): one
    `wallet_release_many` and one `wallet_capture_many` per currency, all or nothing."""
    actor_id = actor.pk if actor is not None else None
    releases: dict[str, list[ReleaseSpec]] = defaultdict(list)
    captures: dict[str, list[CaptureSpec]] = defaultdict(list)
    for bet, settlement in settled:
        if _returns_stake(bet, settlement):
            releases[bet.currency].append(
                ReleaseSpec(
                    user_id=bet.user_id, bet_id=bet.pk, amount_minor=bet.stake_minor, created_by_id=actor_id
                )
            )
        else:
            captures[bet.currency].append(
                CaptureSpec(
                    user_id=bet.user_id,
                    bet_id=bet.pk,
                    stake_minor=bet.stake_minor,
                    payout_minor=settlement.payout_minor,
                    created_by_id=actor_id,
                )
            )
    for currency, release_specs in releases.items():
        wallet_release_many(releases=release_specs, currency=currency)
    for currency, capture_specs in captures.items():
        wallet_capture_many(captures=capture_specs, currency=currency)


def after_settlement(
    bets: Sequence[SettlingBet], legs_by_bet: Mapping[int, Sequence[SettlingLeg]], *, now: datetime, by: str
) -> None:
    lines = []
    deltas = []
    payloads = []
    per_user: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for bet in bets:
        payload = bet_event_payload(bet)
        payload.update(
            {
                "actual_return_minor": bet.actual_return_minor,
                "net_profit_minor": bet.net_profit_minor,
                "settled_at": bet.settled_at,
            }
        )
        payloads.append(payload)
        per_user[bet.user_id].append(
            {
                "bet_id": bet.pk,
                "result": bet.result,
                "net_profit_minor": bet.net_profit_minor,
                "actual_return_minor": bet.actual_return_minor,
                "currency": bet.currency,
            }
        )
        lines.append(
            {
                "bet_id": bet.pk,
                "user_id": bet.user_id,
                "result": bet.result,
                "status": bet.status,
                "stake_minor": bet.stake_minor,
                "payout_minor": bet.actual_return_minor,
                "currency": bet.currency,
                "legs": [[leg.outcome_id, leg.result, str(leg.price_decimal)] for leg in legs_by_bet[bet.pk]],
                "settled_at": now,
                "by": by,
                "note": bet.settlement_note,
            }
        )
        deltas.extend(
            exposure.deltas_for(
                [(leg.event_id, leg.market_id) for leg in legs_by_bet[bet.pk]],
                bet.stake_minor,
                bet.potential_return_minor - bet.stake_minor,
                -1,
            )
        )
    publish_batch("bet.settled", payloads)
    listening = _wants_settlement_notifications(list(per_user))
    realtime.notify_many(
        {
            user_id: {"type": "bet.settled", "bets": settled, "message": _notification_text(settled)}
            for user_id, settled in per_user.items()
            if user_id in listening
        }
    )
    exposure.exposure_add_on_commit(deltas)
    transaction.on_commit(lambda: _audit(lines))


def _wants_settlement_notifications(user_ids: list[int]) -> set[int]:
    """The users who have not turned settlement messages off (the typed preference
    `notify_settlements`, on by default; older stored shapes read the same way)."""
    if not user_ids:
        return set()
    rows = User.all_objects.filter(pk__in=user_ids).values_list("pk", "preferences")
    return {user_id for user_id, stored in rows if preferences.read(stored).notify_settlements}


def _notification_text(settled: list[dict[str, Any]]) -> str:
    if len(settled) == 1:
        item = settled[0]
        return f"Bet #{item['bet_id']} settled: {item['result'].replace('_', ' ')}."
    return f"{len(settled)} bets settled."


def _audit(lines: list[dict[str, Any]]) -> None:
    try:
        audit_append_many("settlement", lines)
    except Exception:  # the ledger and the outbox hold the truth; the log is a copy
        logger.exception("settlement audit append failed for %d lines", len(lines))


def _settle_locked(
    bets: list[BetRow], legs_by_bet: dict[int, list[LegRow]], *, now: datetime
) -> list[BetRow]:
    settled = []
    for bet in bets:
        legs = legs_by_bet[bet.pk]
        if not legs or any(leg.result == "" for leg in legs):
            continue
        settlement = _settlement_for(bet, legs)
        apply_settlement(bet, settlement, now=now)
        settled.append((bet, settlement))
    done = [bet for bet, _settlement in settled]
    if done:
        move_money(settled, actor=None)
        _mark_settled(done, now=now)
        after_settlement(done, legs_by_bet, now=now, by="settle_due_bets")
    return done


_MARK_SETTLED_SQL = """
UPDATE betting_bet b
   SET status = v.status, result = v.result, actual_return_minor = v.payout, net_profit_minor = v.net,
       settled_at = %(now)s, updated_at = %(now)s
  FROM unnest(%(ids)s::bigint[], %(statuses)s::text[], %(results)s::text[], %(payouts)s::bigint[],
              %(nets)s::bigint[]) AS v(id, status, result, payout, net)
 WHERE b.id = v.id AND b.status = 'pending'
"""


def _mark_settled(bets: list[BetRow], *, now: datetime) -> None:
    """One UPDATE for the batch (the rows are locked by this transaction), its arrays bound
    server-side."""
    with binding_cursor() as cursor:
        cursor.execute(
            _MARK_SETTLED_SQL,
            {
                "now": now,
                "ids": [bet.pk for bet in bets],
                "statuses": [bet.status for bet in bets],
                "results": [bet.result for bet in bets],
                "payouts": [bet.actual_return_minor for bet in bets],
                "nets": [bet.net_profit_minor for bet in bets],
            },
        )
        if cursor.rowcount != len(bets):
            raise RuntimeError("a locked pending bet changed under the settlement lock")


# The due bets of a batch with their legs, in one statement. The ids come first, from the
# partial index on pending bets, and the LIMIT stops the scan at the batch's size: locking
# and reading whole rows in id order made PostgreSQL sort every pending row on disk before
# the LIMIT. They are taken in no particular order (any due bet will do; the loop takes them
# all): asked for id order, the planner, believing stale statistics of a few pending rows,
# read them all and sorted them rather than walk the index. `OFFSET 0` keeps the
# ungraded-leg test a per-row probe of the partial index on ungraded legs (as an anti-join it
# hashed every leg). Then those rows are locked by id (an index scan of the primary key), in
# id order, skipping any that another transaction holds, still pending under the lock; then
# their legs (an index scan per bet: a join hashed every leg).
_DUE_SQL = """
WITH due AS (
    SELECT b.id FROM betting_bet b
     WHERE b.status = 'pending' AND b.settlement_failed_at IS NULL {only}
       AND NOT EXISTS (SELECT FROM betting_betleg l WHERE l.bet_id = b.id AND l.result = '' OFFSET 0)
     LIMIT %(limit)s
),
locked AS MATERIALIZED (
    SELECT {bet_columns} FROM betting_bet b
     WHERE b.id = ANY(ARRAY(SELECT id FROM due)) AND b.status = 'pending'
     ORDER BY b.id
       FOR UPDATE OF b SKIP LOCKED
)
SELECT k.*, {leg_columns}
  FROM locked k
 CROSS JOIN LATERAL (
    SELECT * FROM betting_betleg l WHERE l.bet_id = k.id ORDER BY l.position
 ) l
 ORDER BY k.id, l.position
"""
_DUE_BATCH_SQL, _DUE_ONLY_SQL = (
    _DUE_SQL.format(
        only=only,
        bet_columns=BET_ROW_COLUMNS,
        leg_columns=", ".join(f"l.{column}" for column in LEG_ROW_COLUMNS.split(", ")),
    )
    for only in ("", "AND b.id = ANY(%(only)s)")
)
_BET_WIDTH = len(BET_ROW_COLUMNS.split(","))


def _due_bets(batch_size: int, only: list[int] | None = None) -> tuple[list[BetRow], dict[int, list[LegRow]]]:
    """Lock up to `batch_size` due bets (pending, every leg graded, not set aside) and read
    them with their legs, as rows rather than model instances. A bet without legs is never
    settled and is not returned."""
    bets: list[BetRow] = []
    legs: dict[int, list[LegRow]] = defaultdict(list)
    with binding_cursor() as cursor:
        # The batch's statements are planned on statistics that are stale as a rule (a result
        # or a kick-off changes thousands of bets at once); their estimated costs can pass
        # the JIT threshold, and compiling them took a second for a statement of milliseconds.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(
            _DUE_BATCH_SQL if only is None else _DUE_ONLY_SQL,
            {"limit": batch_size, "only": only},
        )
        rows = cursor.fetchall()
    for row in rows:
        bet_id = row[0]
        if bet_id not in legs:
            bets.append(BetRow(*row[:_BET_WIDTH]))
        legs[bet_id].append(LegRow(*row[_BET_WIDTH:]))
    return bets, legs


def _is_infrastructure(error: Exception) -> bool:
    """A lost database is no fault of a bet: the task fails and is retried whole."""
    return isinstance(error, OperationalError | InterfaceError)


def _mark_unsettleable(bet_id: int, error: Exception, *, now: datetime) -> None:
    """Set the bet aside (the next batches skip it) and say so in the log and the audit store;
    staff settle or void it by hand from the admin."""
    message = f"{type(error).__name__}: {error}"[:300]
    logger.error("bet %s cannot be settled automatically: %s", bet_id, message)
    Bet.objects.filter(pk=bet_id, status=Bet.Status.PENDING).update(
        settlement_failed_at=now, settlement_error=message, updated_at=now
    )
    try:
        audit_append(
            "settlement",
            {"bet_id": bet_id, "status": "failed", "error": message, "at": now, "by": "settle_due_bets"},
        )
    except Exception:
        logger.exception("settlement audit append failed for bet %s", bet_id)


def _settle_one_by_one(bet_ids: list[int], *, now: datetime) -> int:
    settled = 0
    for bet_id in bet_ids:
        try:
            with transaction.atomic():
                bets, legs = _due_bets(1, only=[bet_id])
                settled += len(_settle_locked(bets, legs, now=now))
        except Exception as error:
            if _is_infrastructure(error):
                raise
            _mark_unsettleable(bet_id, error, now=now)
    return settled


def settle_batch(*, batch_size: int = SETTLEMENT_BATCH) -> int:
    """Settle up to `batch_size` due bets in one transaction; returns how many settled.

    If any bet of the batch cannot be settled (the wallet refuses it, its legs cannot be
    graded, anything), the batch is retried one bet per transaction: the others settle and
    the bad one is set aside (`settlement_failed_at`), logged and audited, so it never holds
    back a batch again.
    """
    now = timezone.now()
    try:
        with transaction.atomic():
            bets, legs = _due_bets(batch_size)
            if not bets:
                return 0
            return len(_settle_locked(bets, legs, now=now))
    except Exception as error:
        if _is_infrastructure(error):
            raise
        logger.warning("settlement batch failed; settling its bets one by one", exc_info=True)
    candidates = list(
        Bet.objects.filter(status=Bet.Status.PENDING, settlement_failed_at__isnull=True)
        .exclude(legs__result="")
        .order_by("id")
        .values_list("id", flat=True)[:batch_size]
    )
    return _settle_one_by_one(candidates, now=now)


def settle_due_bets(*, batch_size: int = SETTLEMENT_BATCH, max_batches: int | None = None) -> int:
    """Grade what can be graded, then settle every due bet, batch after batch. One run at a
    time (an advisory lock): a second copy (beat's next tick, a redelivery) returns 0 at
    once rather than queue behind the first on its row locks."""
    with exclusive("settle-due") as acquired:
        if not acquired:
            return 0
        bet_legs_grade_finished()
        total = 0
        batches = 0
        while True:
            settled = settle_batch(batch_size=batch_size)
            total += settled
            batches += 1
            if settled < batch_size or (max_batches is not None and batches >= max_batches):
                return total
