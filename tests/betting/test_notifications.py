"""Settlement notifications respect the bettor's typed preference `notify_settlements`."""

import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from betthat.core import realtime
from betthat.core import redis as bt_redis
from betthat.core.realtime import hub_channel, user_group
from betting.services import settle_due_bets
from edges.models import Event
from edges.services import event_record_result
from tests.betting.helpers import leg, place
from tests.factories import UserFactory
from tests.wallet.factories import fund_user

pytestmark = pytest.mark.django_db


class _Listener:
    """What the hub of an ASGI process would get: the users' topics on Redis pub/sub."""

    def __init__(self, user_ids):
        self.pubsub = bt_redis.client().pubsub(ignore_subscribe_messages=True)
        self.pubsub.subscribe(*(hub_channel(user_group(user_id)) for user_id in user_ids))
        self.frames: dict[int, list[dict]] = {user_id: [] for user_id in user_ids}
        self.by_channel = {hub_channel(user_group(user_id)).encode(): user_id for user_id in user_ids}

    def received(self, user_id) -> dict | None:
        assert realtime.flush(timeout=5)
        # a subscription's confirmation reads as None too: read until nothing came for 0.5 s
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < 0.5:
            message = self.pubsub.get_message(timeout=0.1)
            if message is not None:
                self.frames[self.by_channel[message["channel"]]].append(json.loads(message["data"]))
                quiet_since = time.monotonic()
        return self.frames[user_id][0] if self.frames[user_id] else None


def test_an_opted_out_bettor_gets_no_settlement_message(game, django_capture_on_commit_callbacks):
    keen, quiet = UserFactory(), UserFactory()
    quiet.preferences = {**quiet.preferences, "notify_settlements": False}
    quiet.save()
    for user in (keen, quiet):
        fund_user(user, 10_000)
        place(user, leg(game.o("home_ml")), stake=1000)
    listener = _Listener([keen.pk, quiet.pk])
    Event.objects.filter(pk=game.event.pk).update(commence_time=timezone.now() - timedelta(hours=3))
    event_record_result(event_id=game.event.pk, home_score=27, away_score=20)
    with django_capture_on_commit_callbacks(execute=True):
        assert settle_due_bets() == 2
    # The sends of one batch happen together, inside the on-commit callback that just ran:
    # the keen bettor's message is there, and none was sent to the quiet one.
    message = listener.received(keen.pk)
    assert message is not None and message["payload"]["type"] == "bet.settled"
    assert message["payload"]["bets"][0]["result"] == "win"
    assert listener.received(quiet.pk) is None


def test_malformed_notification_preferences_still_notify(game, django_capture_on_commit_callbacks):
    user = UserFactory()
    user.preferences = {"notifications": "off please"}
    user.save()
    fund_user(user, 10_000)
    place(user, leg(game.o("home_ml")), stake=1000)
    listener = _Listener([user.pk])
    Event.objects.filter(pk=game.event.pk).update(commence_time=timezone.now() - timedelta(hours=3))
    event_record_result(event_id=game.event.pk, home_score=27, away_score=20)
    with django_capture_on_commit_callbacks(execute=True):
        assert settle_due_bets() == 1
    assert listener.received(user.pk) is not None
