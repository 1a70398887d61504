"""Bets left `placing`: resolved from the venue's answer, once.

A placement reserves (the bet `placing`, the stake held: a synchronous commit), asks the
venue, then books the fill, which commits without waiting for its WAL flush
(services/placement.py). A bet stays `placing` when the fill never committed (the process
died while the venue worked, or after it answered) or was lost in a database crash before
its flush. Either way the venue knows the truth: `placing_bets_resolve` asks it, for every
bet `placing` for longer than `BETTING_PLACING_RECOVERY_SECONDS`, whether it holds a
filled ticket for the bet, and books the fill (the same statement and `bet.placed` event
id as the lost one) or releases the stake (`rejected`). Both bookings change the bet only
if it is still `placing`, under its row lock or in the same statement, so two sweeps, or a
sweep and a late placement, move the money once. A venue that cannot answer leaves the
bet for the next run.

The delay must be longer than a venue call can take: a bet younger than that may still
have its placement waiting on the venue, which could fill a ticket the sweep had just
released the stake of.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from betthat.core.errors import ApplicationError
from betting.models import Bet
from betting.services.placement import book_fill, release_placing
from betting.venues import venue

logger = logging.getLogger(__name__)


@dataclass
class PlacingSweep:
    filled: int = 0  # the venue held a ticket: booked `pending`
    released: int = 0  # the venue held none: `rejected`, the stake back in cash
    unresolved: int = 0  # the venue could not say; asked again on the next run


def bet_placing_resolve(*, bet_id: int) -> str:
    """Resolve one `placing` bet from the venue: "filled", "released", "unresolved" (the
    venue could not answer), or "unchanged" (no longer `placing`: nothing is written)."""
    bet = Bet.objects.select_related("user").filter(pk=bet_id, status=Bet.Status.PLACING).first()
    if bet is None:
        return "unchanged"
    try:
        found = venue().lookup(sportsbook=bet.sportsbook_id, bet_id=bet.pk)
    except Exception as error:  # a connector that cannot tell raises; ask again later
        logger.warning("venue %s could not look up bet %s: %r", bet.sportsbook_id, bet.pk, error)
        return "unresolved"
    if found.is_accepted:
        legs = list(bet.legs.order_by("position"))
        try:
            book_fill(bet, legs, found)
        except ApplicationError:  # booked or voided meanwhile
            return "unchanged"
        logger.warning(
            "bet %s was left placing; %s holds ticket %s: filled",
            bet.pk,
            bet.sportsbook_id,
            found.external_id,
        )
        return "filled"
    reason = found.reason or f"{bet.sportsbook_id} holds no ticket for this bet."
    if not release_placing(user=bet.user, bet=bet, reason=reason):
        return "unchanged"
    logger.warning("bet %s was left placing; %s holds no ticket: stake released", bet.pk, bet.sportsbook_id)
    return "released"


def placing_bets_resolve(*, now: datetime | None = None, limit: int = 200) -> PlacingSweep:
    """Resolve up to `limit` bets `placing` for longer than BETTING_PLACING_RECOVERY_SECONDS,
    oldest first. Safe to run twice and alongside placements (see the module's docstring)."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.BETTING_PLACING_RECOVERY_SECONDS)
    bet_ids = list(
        Bet.objects.filter(status=Bet.Status.PLACING, placed_at__lt=cutoff)
        .order_by("placed_at")
        .values_list("pk", flat=True)[:limit]
    )
    sweep = PlacingSweep()
    for bet_id in bet_ids:
        outcome = bet_placing_resolve(bet_id=bet_id)
        if outcome == "filled":
            sweep.filled += 1
        elif outcome == "released":
            sweep.released += 1
        elif outcome == "unresolved":
            sweep.unresolved += 1
    return sweep
