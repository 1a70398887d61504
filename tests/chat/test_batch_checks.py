"""Sends checked in batches (issue 19, item 2): `services.messages_prepare` gives each send
of a batch the answer it would get alone, by the same rules, with a fixed number of reads
whatever the batch's size; the writer checks and stores the sockets' sends that way."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from betthat.core.errors import ApplicationError
from betthat.users.models import User
from chat import limits, services
from chat.models import Message, MessageKey, Mute
from chat.writer import MessageWriter
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _code(answer) -> str:
    return answer.code if isinstance(answer, ApplicationError) else ("replay" if answer.is_replay else "ok")


def _cast(lobby):
    """A batch's worth of senders, one per rule, and the code each send must get."""
    later = timezone.now() + timedelta(hours=1)
    fine, muted_here, muted_everywhere = UserFactory(), UserFactory(), UserFactory()
    Mute.objects.create(user=muted_here, room=lobby, until=later, reason="flood")
    Mute.objects.create(user=muted_everywhere, room=None, until=later)
    replayer = UserFactory()
    stored, _ = services.message_post(user=replayer, room=lobby, text="said once", client_id="again")
    cases = [
        (fine, "hello", "c1", "ok"),
        (fine, "   ", "c2", "validation_error"),
        (fine, "see evil.example.com", "c3", "link_not_allowed"),
        (fine, "hello", "bad id!", "validation_error"),
        (muted_here, "hello", None, "muted"),
        (muted_everywhere, "hello", None, "muted"),
        (UserFactory(verification_level=User.VerificationLevel.NONE), "hello", None, "verification_required"),
        (UserFactory(status=User.Status.SUSPENDED), "hello", None, "account_suspended"),
        (UserFactory(self_excluded_until=later), "hello", None, "self_excluded"),
        (replayer, "said twice", "again", "replay"),
    ]
    return cases, stored


def test_each_send_of_a_batch_gets_the_answer_it_gets_alone(lobby, generous_limits, settings):
    settings.CHAT_LINK_POLICY = "block"
    cases, stored = _cast(lobby)
    sends = [services.SendAttempt(user=u, room=lobby, text=t, client_id=c) for u, t, c, _ in cases]
    together = services.messages_prepare(sends)
    assert [_code(answer) for answer in together] == [code for *_, code in cases]
    assert together[-1].message.msg_id == stored.msg_id
    assert together[4].details["room"] == "lobby" and together[5].details["room"] is None
    # the same sends one by one, through message_prepare (the batch of one)
    alone = []
    for send in sends:
        try:
            alone.append(
                services.message_prepare(user=send.user, room=lobby, text=send.text, client_id=send.client_id)
            )
        except ApplicationError as problem:
            alone.append(problem)
    assert [_code(answer) for answer in alone] == [code for *_, code in cases]


@pytest.mark.parametrize("copies", [1, 4])
def test_a_batch_reads_the_same_few_queries_whatever_its_size(
    lobby, generous_limits, settings, django_assert_num_queries, copies
):
    settings.CHAT_LINK_POLICY = "block"
    cases, _ = _cast(lobby)
    sends = [services.SendAttempt(user=u, room=lobby, text=t, client_id=c) for u, t, c, _ in cases] * copies
    # the used client ids, the replayed messages, the users' standing, the mutes
    with django_assert_num_queries(4):
        answers = services.messages_prepare(sends)
    assert len(answers) == len(cases) * copies


def test_a_standing_changed_since_the_object_was_read_counts(lobby, generous_limits):
    user = UserFactory()
    stale = User.objects.get(pk=user.pk)
    User.objects.filter(pk=user.pk).update(status=User.Status.SUSPENDED)
    (answer,) = services.messages_prepare([services.SendAttempt(user=stale, room=lobby, text="hi")])
    assert _code(answer) == "account_suspended"
    User.objects.filter(pk=user.pk).delete()
    (answer,) = services.messages_prepare([services.SendAttempt(user=stale, room=lobby, text="hi")])
    assert _code(answer) == "account_suspended"


def test_the_rate_limit_counts_a_batchs_sends_one_after_the_other(lobby, settings):
    settings.CHAT_RATE_MESSAGES = 3
    user, other = UserFactory(), UserFactory()
    sends = [services.SendAttempt(user=user, room=lobby, text=f"m{i}") for i in range(5)]
    sends.append(services.SendAttempt(user=other, room=lobby, text="mine"))
    answers = services.messages_prepare(sends)
    assert [_code(a) for a in answers] == ["ok", "ok", "ok", "rate_limited", "rate_limited", "ok"]
    assert 0 < answers[3].details["retry_after"] <= settings.CHAT_RATE_WINDOW_SEC
    # the refused ones were not counted: the budget is spent by the three, as one by one
    assert limits.hit_many([(user.pk, "message"), (other.pk, "message")])[0] > 0


@pytest.mark.django_db(transaction=True)
async def test_the_writer_checks_gathered_sends_together_and_answers_each(settings):
    settings.CHAT_RATE_MESSAGES = 100

    def cast():
        lobby = services.room_lobby()
        author, muted = UserFactory(), UserFactory()
        Mute.objects.create(user=muted, room=None, until=timezone.now() + timedelta(hours=1))
        return lobby, author, muted

    lobby, author, muted = await sync_to_async(cast)()
    writer = MessageWriter(asyncio.get_running_loop())
    futures = [
        writer.send(services.SendAttempt(user=author, room=lobby, text="one", client_id="k1")),
        writer.send(services.SendAttempt(user=muted, room=lobby, text="two", client_id="k2")),
        writer.send(services.SendAttempt(user=author, room=lobby, text="one again", client_id="k1")),
        writer.send(services.SendAttempt(user=author, room=lobby, text="x"), share="not a card"),
    ]
    answers = await asyncio.gather(*futures, return_exceptions=True)
    assert writer.check_batches == 1 and writer.batches == 1
    first, refused, again, bad_share = answers
    assert first.created and first.frame["message"]["text"] == "one"
    assert first.frame["message"]["user"]["id"] == author.pk
    assert isinstance(refused, ApplicationError) and refused.code == "muted"
    assert not again.created and again.message.msg_id == first.message.msg_id  # stored once
    assert isinstance(bad_share, ApplicationError) and bad_share.code == "validation_error"
    rows = await sync_to_async(lambda: list(Message.objects.values_list("text", flat=True)))()
    assert rows == ["one"]
    assert await sync_to_async(MessageKey.objects.count)() == 1
    # sent again later, the client id is answered from the store without a new message
    (replay,) = await asyncio.gather(
        writer.send(services.SendAttempt(user=author, room=lobby, text="third", client_id="k1"))
    )
    assert not replay.created and replay.frame["message"]["id"] == str(first.message.msg_id)
    assert writer.batches == 1
