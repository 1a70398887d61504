"""Settlement notifications respect the bettor's typed preference `notify_settlements`."""

import asyncio
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.utils import timezone

from betthat.core.realtime import user_group
from betting.services import settle_due_bets
from edges.models import Event
from edges.services import event_record_result
from tests.betting.helpers import leg, place
from tests.factories import UserFactory
from tests.wallet.factories import fund_user

pytestmark = pytest.mark.django_db


async def _listen(user_ids):
    layer = get_channel_layer()
    channels = {}
    for user_id in user_ids:
        channels[user_id] = await layer.new_channel()
        await layer.group_add(user_group(user_id), channels[user_id])
    return channels


async def _received(channel) -> dict | None:
    try:
        return await asyncio.wait_for(get_channel_layer().receive(channel), timeout=1.0)
    except TimeoutError:
        return None


def test_an_opted_out_bettor_gets_no_settlement_message(game, django_capture_on_commit_callbacks):
    keen, quiet = UserFactory(), UserFactory()
    quiet.preferences = {**quiet.preferences, "notify_settlements": False}
    quiet.save()
    for user in (keen, quiet):
        fund_user(user, 10_000)
        place(user, leg(game.o("home_ml")), stake=1000)
    channels = async_to_sync(_listen)([keen.pk, quiet.pk])
    Event.objects.filter(pk=game.event.pk).update(commence_time=timezone.now() - timedelta(hours=3))
    event_record_result(event_id=game.event.pk, home_score=27, away_score=20)
    with django_capture_on_commit_callbacks(execute=True):
        assert settle_due_bets() == 2
    # The sends of one batch happen together, inside the on-commit callback that just ran:
    # the keen bettor's message is there, and none was sent to the quiet one.
    message = async_to_sync(_received)(channels[keen.pk])
    assert message is not None and message["payload"]["type"] == "bet.settled"
    assert message["payload"]["bets"][0]["result"] == "win"
    assert async_to_sync(_received)(channels[quiet.pk]) is None


def test_malformed_notification_preferences_still_notify(game, django_capture_on_commit_callbacks):
    user = UserFactory()
    user.preferences = {"notifications": "off please"}
    user.save()
    fund_user(user, 10_000)
    place(user, leg(game.o("home_ml")), stake=1000)
    channels = async_to_sync(_listen)([user.pk])
    Event.objects.filter(pk=game.event.pk).update(commence_time=timezone.now() - timedelta(hours=3))
    event_record_result(event_id=game.event.pk, home_score=27, away_score=20)
    with django_capture_on_commit_callbacks(execute=True):
        assert settle_due_bets() == 1
    assert async_to_sync(_received)(channels[user.pk]) is not None
