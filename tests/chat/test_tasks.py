"""Chat's periodic tasks and commands: partitions ahead, the demo chatter."""

from __future__ import annotations

import io
import random
from datetime import UTC, datetime

import pytest
from django.core.management import call_command

from chat import demo, partitions, tasks
from chat.models import Message, Room
from tests.edges.factories import EventFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_maintain_partitions_creates_ahead_and_reports(settings, monkeypatch):
    settings.CHAT_PARTITIONS_AHEAD = 4
    result = tasks.maintain_partitions_task()
    names = partitions.list_partitions()
    now = datetime.now(UTC)
    expected = partitions.partition_for(now).name
    assert expected in names and len([n for n in names if n > expected]) >= 4
    assert result["dropped"] == []
    assert tasks.maintain_partitions_task()["created"] == []  # nothing twice


def test_the_command_prints_partitions_and_strays():
    out = io.StringIO()
    call_command("chat_partitions", "--ahead", "1", stdout=out)
    text = out.getvalue()
    assert (
        "partitions:" in text
        and "chat_message_default" in text
        and "0 message(s) in the default partition" in text
    )


def test_demo_seed_gives_rooms_a_conversation_and_is_idempotent():
    from edges.models import SIMULATED_PREFIX

    bettors = [UserFactory(email=f"demo{i}@bet-that.local") for i in range(3)]
    demo_event = EventFactory(provider_id=f"{SIMULATED_PREFIX}chat-demo")
    real = EventFactory()  # another feed's event: the demo opens no room there
    out = io.StringIO()
    demo.seed(users=bettors, stdout=out)
    rooms = Room.objects.count()
    count = Message.objects.count()
    assert rooms >= 2 and count == rooms * 6
    assert Room.objects.filter(event_id=demo_event.pk).exists()
    assert not Room.objects.filter(event_id=real.pk).exists()
    assert {m.user_id for m in Message.objects.all()} <= {u.pk for u in bettors}
    demo.seed(users=bettors, stdout=out)
    assert Message.objects.count() == count


def test_demo_chatter_speaks_only_as_demo_bettors(settings, lobby):
    settings.CHAT_DEMO_CHATTER = True
    real = UserFactory(email="real@example.com")
    assert demo.chatter(rng=random.Random(1)) is False  # no demo bettors: nothing is said
    demo_user = UserFactory(email="alice@bet-that.local")
    assert demo.chatter(rng=random.Random(1)) is True
    message = Message.objects.get()
    assert message.user_id == demo_user.pk != real.pk and message.text in demo.LINES
    settings.CHAT_DEMO_CHATTER = False
    assert demo.chatter() is False and Message.objects.count() == 1


def test_rooms_of_finished_events_close_after_the_setting(settings):
    from datetime import timedelta

    from django.utils import timezone

    from chat import services

    settings.CHAT_ROOM_CLOSE_AFTER_HOURS = 6
    event = EventFactory()
    room = services.room_for_event(event_id=event.pk, title=str(event))
    assert tasks.close_finished_rooms_task() == 0 and Room.objects.get(pk=room.pk).closed_at is None
    finished = timezone.now() - timedelta(hours=1)
    type(event).objects.filter(pk=event.pk).update(status="final", finished_at=finished)
    assert tasks.close_finished_rooms_task() == 1
    assert Room.objects.get(pk=room.pk).closed_at == finished + timedelta(hours=6)
