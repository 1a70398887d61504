"""Demo data for the betting app (idempotent).

Only the demo feed's own (`sim-`) events are touched, never a real feed's.

- Same-game prices: for the next few scheduled demo events, each book that quotes both the
  home moneyline and the over of the main total gets a same-game quote for that pair
  (and the away/under pair). The demo feed has no same-game feed of its own, so the quote
  is the product of the two legs less a correlation haircut, the way a book prices a
  correlated pair below the independent product.
- The closure demo account (betthat/users/demo.py) closes itself the way a bettor does,
  through `account_close`: its 1,000.00 is paid out by the sandbox first (the payout's webhook
  delivered at once, the outbox relayed as the worker would), then the account closes.
  Before the first bets, since a bettor with an open bet may not close.
- A first bet for each open demo bettor who has none, from a +EV edge on the board when there
  is one (the bet keeps that edge: `edges/demo.py` ticks the demo feed until the board has
  one), placed through `bet_place` at the current price (real holds in the wallet), so My bets
  and the statistics have something to show once the demo events finish.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from django.utils import timezone

from betthat.core.errors import ApplicationError
from betthat.core.outbox import relay_outbox
from betthat.users.demo import CLOSED_EMAIL
from betthat.users.models import User
from betting.models import Bet, SameGameQuote
from betting.services import LegRequest, account_close, bet_place
from edges.models import SIMULATED_PREFIX, Event, Outcome
from edges.selectors import moneyline_quotes_open, positive_ev_edges_open, quote_prices_by_book
from wallet.models import Payment
from wallet.money import format_minor
from wallet.providers import sandbox

SGP_EVENTS = 4
SGP_HAIRCUT = Decimal("0.90")
DEMO_STAKE_MINOR = 1000


def _main_total_outcome(event: Event, name: str) -> Outcome | None:
    return (
        Outcome.objects.filter(market__event=event, market__key="totals", market__player="", name=name)
        .order_by("market__point")
        .first()
    )


def _seed_same_game_quotes(now) -> int:
    created = 0
    events = Event.objects.filter(
        status=Event.Status.SCHEDULED, commence_time__gt=now, provider_id__startswith=SIMULATED_PREFIX
    ).order_by("commence_time")
    for event in events[:SGP_EVENTS]:
        over, under = _main_total_outcome(event, "Over"), _main_total_outcome(event, "Under")
        home = Outcome.objects.filter(market__event=event, market__key="h2h", name=event.home_team).first()
        away = Outcome.objects.filter(market__event=event, market__key="h2h", name=event.away_team).first()
        for first, second in ((home, over), (away, under)):
            if first is None or second is None:
                continue
            prices: dict[str, list[Decimal]] = {}
            for outcome in (first, second):
                for book, price in quote_prices_by_book(outcome_id=outcome.pk).items():
                    prices.setdefault(book, []).append(price)
            for book, pair in prices.items():
                if len(pair) != 2:
                    continue
                price = (pair[0] * pair[1] * SGP_HAIRCUT).quantize(Decimal("0.0001"), rounding=ROUND_DOWN)
                if price <= 1:
                    continue
                _, is_new = SameGameQuote.objects.update_or_create(
                    sportsbook_id=book,
                    event=event,
                    selection_key=SameGameQuote.key_for([first.pk, second.pk]),
                    defaults={"price_decimal": price, "updated_at": now},
                )
                created += int(is_new)
    return created


def _first_bets(users) -> int:
    """Each demo bettor's first bet: taken from a +EV edge when the board has one (so the bet
    page shows the edge it came from), else the soonest moneyline."""
    placed = 0
    now = timezone.now()
    candidates: list[tuple[str, int, str, Decimal]] = positive_ev_edges_open(
        now=now, limit=10, simulated_only=True
    )
    if not candidates:
        candidates = [
            ("", outcome_id, book, price)
            for outcome_id, book, price in moneyline_quotes_open(now=now, limit=20, simulated_only=True)
        ]
    # fresh rows: the closure demo account has just closed; a frozen one may not bet
    open_ids = set(
        User.objects.filter(
            pk__in=[u.pk for u in users], is_active=True, closed_at__isnull=True, frozen_at__isnull=True
        ).values_list("pk", flat=True)
    )
    for index, user in enumerate(u for u in users if not u.is_staff):
        if user.pk not in open_ids or Bet.objects.filter(user_id=user.pk).exists() or not candidates:
            continue
        edge_id, outcome_id, book, price = candidates[index % len(candidates)]
        try:
            bet_place(
                user=user,
                legs=[LegRequest(outcome_id, book, price)],
                stake_minor=DEMO_STAKE_MINOR,
                accept_price_change="any",
                idempotency_key="demo-first-bet",
                edge_id=edge_id,
            )
            placed += 1
        except ApplicationError:
            continue  # no funds or the market moved on: the demo still runs
    return placed


def _closure(users) -> str:
    """The closure demo account closes itself: paid out first, then closed."""
    demo = next((u for u in users if u.email == CLOSED_EMAIL), None)
    if demo is None:
        return ""
    user = User.all_objects.get(pk=demo.pk)
    if user.closed_at is None:
        result = account_close(user=user, idempotency_key="demo-closure")
        for payout in result.payouts:
            # the sandbox's payout answer now (the worker's queued copy later moves nothing)
            sandbox.deliver(sandbox.build_events(payout, outcome="succeeded"))
        relay_outbox()  # `payments.succeeded` closes the account (betting/handlers.py)
        account_close(user=user)  # "the next request": closed if the handler has not
        user = User.all_objects.get(pk=demo.pk)
    paid = sum(
        Payment.objects.filter(
            user_id=user.pk, direction=Payment.Direction.WITHDRAWAL, status=Payment.Status.SUCCEEDED
        ).values_list("amount_minor", flat=True)
    )
    state = "closed" if user.closed_at else "closing (payout under way)"
    return f"{state} account {user.email} (by its bettor, after a {format_minor(paid)} USD payout)"


def seed(*, users, stdout) -> None:
    now = timezone.now()
    quotes = _seed_same_game_quotes(now)
    closed = _closure(users)
    placed = _first_bets(users)
    stdout.write(f"betting: {quotes} new same-game quotes, {placed} first bets placed")
    if closed:
        stdout.write(f"demo: {closed}")
    edged = (
        Bet.objects.filter(user_id__in=[u.pk for u in users], edge_snapshot__isnull=False)
        .exclude(edge_id="")
        .order_by("pk")
        .first()
    )
    if edged is not None:
        stdout.write(
            f"demo: bet #{edged.pk} of {edged.user.email} keeps the edge it was taken from "
            f"({(edged.edge_snapshot or {}).get('kind')}, /bets/{edged.pk}/)"
        )
