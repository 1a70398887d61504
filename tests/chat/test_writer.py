"""chat.writer: sends gathered while a batch is written are stored together, acked after commit."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async

from betthat.core.errors import ApplicationError
from chat import services
from chat.models import Message
from chat.writer import MessageWriter
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


async def _prepared(n: int, **kwargs):
    def make():
        room = services.room_lobby()
        user = UserFactory()
        return [
            services.message_prepare(user=user, room=room, text=f"m{i}", client_id=f"c{i}", **kwargs)
            for i in range(n)
        ]

    return await sync_to_async(make)()


async def test_sends_that_gathered_are_one_batch_and_stored_when_answered(settings):
    settings.CHAT_RATE_MESSAGES = 100
    writer = MessageWriter(asyncio.get_running_loop())
    prepared = await _prepared(5)
    results = await asyncio.gather(*(writer.submit(p) for p in prepared))
    assert writer.batches == 1
    assert [(r.message.text, r.created) for r in results] == [(f"m{i}", True) for i in range(5)]
    # answered after the commit: another connection sees every one
    stored = await sync_to_async(lambda: set(Message.objects.values_list("msg_id", flat=True)))()
    assert stored == {r.message.msg_id for r in results}
    # the next send while nothing is being written is a batch of its own
    (again,) = await _prepared(1)
    await writer.submit(again)
    assert writer.batches == 2


async def test_a_failed_batch_is_written_one_by_one_and_only_the_bad_one_fails(settings, monkeypatch):
    settings.CHAT_RATE_MESSAGES = 100
    store = services.messages_store

    def store_refusing_m1(prepared):
        if any(p.message.text == "m1" for p in prepared):
            raise RuntimeError("the database refused m1")
        return store(prepared)

    monkeypatch.setattr(services, "messages_store", store_refusing_m1)
    writer = MessageWriter(asyncio.get_running_loop())
    prepared = await _prepared(3)
    results = await asyncio.gather(*(writer.submit(p) for p in prepared), return_exceptions=True)
    assert [r.message.text for r in (results[0], results[2])] == ["m0", "m2"]
    assert isinstance(results[1], ApplicationError) and results[1].code == "server_error"
    texts = await sync_to_async(lambda: sorted(Message.objects.values_list("text", flat=True)))()
    assert texts == ["m0", "m2"]
