from decimal import Decimal

from django.core.management import call_command

from betthat.core.models import OutboxEvent
from betting.models import Bet
from betting.services import LegRequest, bet_place
from wallet.selectors import wallet_balances_for_user


def leg(outcome, book="draftkings", price=None):
    from edges.models import OddsQuote

    if price is None:
        price = OddsQuote.objects.get(outcome=outcome, sportsbook__key=book).price_decimal
    return LegRequest(outcome.pk, book, Decimal(price))


def place(user, *legs, stake=1000, policy="none", **kwargs):
    return bet_place(user=user, legs=list(legs), stake_minor=stake, accept_price_change=policy, **kwargs)


def state(user):
    """Everything a refused placement must leave unchanged."""
    balances = wallet_balances_for_user(user=user, currency="USD")
    return (
        Bet.objects.filter(user=user).count(),
        balances.available_minor,
        balances.held_minor,
        OutboxEvent.objects.filter(event_type="bet.placed").count(),
    )


def ledger_clean():
    from io import StringIO

    out = StringIO()
    call_command("ledger_check", stdout=out)
    return out.getvalue()
