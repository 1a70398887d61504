"""Setting up the run: Django pointed at our own servers, the bettors and games, and
finishing the games at the end."""

from __future__ import annotations

import os
import uuid
from decimal import Decimal

from chaoslib.config import BETTORS, DATA_DIR, GAMES, WEB_PORT


def setup_django(urls: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": urls["DATABASE_URL"],
            "REDIS_URL": urls["REDIS_URL"],
            "REDIS_KEY_PREFIX": "chaos",
            "DEBUG": "true",  # the sandbox provider and development defaults; 503s do not depend on it
            "SECRET_KEY": uuid.uuid4().hex * 2,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "CSRF_TRUSTED_ORIGINS": f"http://127.0.0.1:{WEB_PORT}",
            "THROTTLE_USER": "1000000/min",
            "THROTTLE_ANON": "1000000/min",
            "LOG_LEVEL": "WARNING",
            "CONN_MAX_AGE": "60",
            "HTTP_THREADS": "4",
            "AUDIT_ROOT": str(DATA_DIR / "audit"),
            "MEDIA_ROOT": str(DATA_DIR / "media"),
        }
    )
    os.environ.update(env)
    os.environ["DJANGO_SETTINGS_MODULE"] = "betthat.settings"
    import django

    django.setup()
    # This process's own log lines (odds cache writes failing while Redis is down, ...) go to
    # a file: the console is for what the run did and found.
    import logging

    handler = logging.FileHandler(DATA_DIR / "orchestrator.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logging.getLogger().handlers = [handler]
    return env


def make_world():
    from django.db import transaction

    from betthat.users.models import User
    from betthat.users.services import user_token_get_or_create
    from tests.betting.factories import make_game
    from wallet.services import wallet_deposit_complete, wallet_deposit_start

    bettors = []
    for index in range(BETTORS):
        with transaction.atomic():
            user = User.objects.create_user(
                email=f"chaos-{index}@chaos.local",
                password=None,
                status=User.Status.ACTIVE,
                verification_level=User.VerificationLevel.IDENTITY,
                max_bet_size=Decimal("1000.00"),
                daily_bet_limit=Decimal("1000000.00"),
                monthly_bet_limit=Decimal("10000000.00"),
            )
        payment = wallet_deposit_start(user=user, amount_minor=1_000_000, currency="USD", provider="sandbox")
        wallet_deposit_complete(payment=payment)
        bettors.append((user.pk, user_token_get_or_create(user=user)))
    games = [make_game(home=f"Home {i}", away=f"Away {i}") for i in range(GAMES)]
    return bettors, games


def selections_for(game) -> list[tuple[int, str, str]]:
    from edges.models import OddsQuote

    out = []
    for alias in ("home_ml", "away_ml", "over", "under"):
        quote = OddsQuote.objects.get(outcome=game.o(alias), sportsbook__key="draftkings")
        out.append((game.o(alias).pk, "draftkings", str(quote.price_decimal)))
    return out


def finish(game) -> None:
    from django.utils import timezone

    from betting.tasks import settle_due_bets_task
    from edges.models import Event
    from edges.services import event_record_result

    Event.objects.filter(pk=game.event.pk).update(commence_time=timezone.now().replace(year=2000))
    event_record_result(event_id=game.event.pk, home_score=27, away_score=20)
    settle_due_bets_task.apply_async(kwargs={"event_id": game.event.pk, "batch_size": 20})
