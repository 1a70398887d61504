"""Demo data for social (idempotent), called by `seed_demo` (which imports each app's
`demo` module by name) and by `manage.py seed_social_demo`.

The demo bettors make their profiles public with different stake modes and delays, follow
one another, and get a settled history of public bets so that the feed, the profiles and
the leaderboards are not empty on the first visit. The history goes through the real
paths: `bet_place` on the open demo markets (real holds in the wallet), the outbox relay
(which publishes each bet and writes its record line), then a staff settlement through
`bet_settle` with the reason "demo history" (real payouts). History is placed with no
delay so it is visible at once; the final delays apply to the bets placed after it.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings

from betthat.core.errors import ApplicationError
from betthat.core.outbox import relay_outbox
from betting.selectors import manual_settlement_pending_id
from betting.services import LegRequest, bet_place, bet_settle, manual_settlement_approve
from edges.selectors import event_list, event_markets_board
from social import services
from social.models import PublicBet

# (handle, stake visibility, final delay, wins out of every 10 settled bets)
PLANS = [
    ("alice_sharp", "exact", 60, 6),
    ("bob_value", "rounded", 300, 5),
    ("carol_arb", "hidden", 120, 4),
]
DISPLAY_NAMES = {"alice_sharp": "Alice Sharpe", "bob_value": "Bob Value", "carol_arb": "Carol Arbitrage"}
FOLLOWS = [(0, 1), (0, 2), (1, 0), (2, 0), (2, 1)]
HISTORY_BETS = 24
OPEN_BETS = 2
RESULTS_BY_WINS = {
    n: ["win" if i < n else ("push" if i == n else "loss") for i in range(10)] for n in range(11)
}


def _prices(limit: int = 60) -> list[tuple[int, str, Decimal]]:
    """(outcome id, book, price) on the open demo markets, a few per market: the demo feed's
    own events only (edges' demo quotes them before this runs), never a real feed's."""
    found: list[tuple[int, str, Decimal]] = []
    for event in event_list(status="scheduled", simulated_only=True)[:12]:
        for board in event_markets_board(event=event):
            for row in board.rows:
                quotes = row.get("quotes") or {}
                for book, quote in list(quotes.items())[:1]:
                    if quote is not None and not quote.is_suspended:
                        found.append((quote.outcome_id, book, quote.price_decimal))
            if len(found) >= limit:
                return found
    return found


def _place(user, prices, index: int, key: str):
    outcome_id, book, price = prices[index % len(prices)]
    stake = 500 + (index * 735) % 3500  # 5.00 to 39.95
    try:
        return bet_place(
            user=user,
            legs=[LegRequest(outcome_id, book, price)],
            stake_minor=stake,
            accept_price_change="any",
            idempotency_key=key,
        )
    except ApplicationError:
        return None  # the market moved on or closed: the demo goes on


def seed(*, users, stdout) -> None:
    staff_members = [u for u in users if u.is_staff]
    staff = staff_members[0] if staff_members else None
    # Winnings past the staff-grant threshold wait for a second staff member (betting's staff
    # services): the demo's reviewer approves them, as a colleague would.
    approver = staff_members[1] if len(staff_members) > 1 else None
    bettors = [u for u in users if not u.is_staff][: len(PLANS)]
    if staff is None or not bettors:
        stdout.write("social: no demo bettors")
        return
    prices = _prices()
    placed = settled = 0
    for user, (handle, stake, delay, wins) in zip(bettors, PLANS, strict=False):
        services.profile_update(
            user=user,
            handle=handle,
            is_public=True,
            stake_visibility=stake,
            live_delay_sec=0,
            display_name=DISPLAY_NAMES[handle],
        )
        if PublicBet.objects.filter(user_id=user.pk).count() < HISTORY_BETS and prices:
            results = RESULTS_BY_WINS[wins]
            for index in range(HISTORY_BETS):
                bet = _place(user, prices, index + len(handle), f"social-demo-history-{index}")
                if bet is None or bet.status != "pending":
                    continue
                relay_outbox()  # publish it (PublicBet and record line) as the worker would
                bet = bet_settle(
                    bet_id=bet.pk, result=results[index % 10], staff=staff, reason="demo history"
                )
                waiting = manual_settlement_pending_id(bet_id=bet.pk) if bet.status == "pending" else None
                if waiting is not None and approver is not None:
                    manual_settlement_approve(settlement_id=waiting, staff=approver)
                placed += 1
                settled += 1
            relay_outbox()
        services.profile_update(user=user, live_delay_sec=delay)
        for index in range(OPEN_BETS if prices else 0):
            if _place(user, prices, index + 7 * len(handle), f"social-demo-open-{index}"):
                placed += 1
        relay_outbox()
    handles = [plan[0] for plan in PLANS]
    follows = 0
    for follower, followee in FOLLOWS:
        if follower < len(bettors) and followee < len(bettors):
            _follow, created = services.follow_create(follower=bettors[follower], handle=handles[followee])
            follows += int(created)
    services.leaderboards_recompute(min_bets=min(settings.SOCIAL_LEADERBOARD_MIN_BETS, HISTORY_BETS))
    if not prices:
        stdout.write(
            "social: no open demo prices (with ODDS_API_KEY set there are no simulated events), so "
            "no bet history: `manage.py seed_social_demo` adds it once demo events are quoted"
        )
    stdout.write(
        f"social: {len(bettors)} public profiles ({', '.join('@' + h for h in handles[: len(bettors)])}), "
        f"{placed} bets placed ({settled} settled as demo history), {follows} new follows, leaderboards ranked"
    )
