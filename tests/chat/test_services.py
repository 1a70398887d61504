"""Chat services on the real PostgreSQL (partitioned table) and Redis."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone

from betthat.core.audit import audit_read
from betthat.core.errors import ApplicationError
from betthat.core.models import OutboxEvent
from betthat.users.models import User
from chat import partitions, selectors, services
from chat.models import Message, Mute, Reaction, Report, Room
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _codes(call):
    with pytest.raises(ApplicationError) as problem:
        call()
    return problem.value.code


# --- partitions ------------------------------------------------------------------------


def test_a_message_lands_in_its_months_partition(lobby, user):
    ts = timezone.now()
    message, _ = services.message_post(user=user, room=lobby, text="hello", now=ts)
    expected = partitions.partition_for(ts).name
    assert partitions.partition_of_message(message.msg_id, message.ts) == expected


def test_partitions_are_created_ahead_and_a_boundary_message_is_stored(lobby, user, settings):
    settings.CHAT_PARTITIONS_AHEAD = 3
    created = partitions.ensure_partitions(now=datetime(2031, 1, 20, tzinfo=UTC))
    assert created == [
        "chat_message_p20310101",
        "chat_message_p20310201",
        "chat_message_p20310301",
        "chat_message_p20310401",
    ]
    assert partitions.ensure_partitions(now=datetime(2031, 1, 20, tzinfo=UTC)) == []  # idempotent
    boundary = datetime(2031, 2, 1, tzinfo=UTC)  # the first instant of February
    just_before = boundary - timedelta(microseconds=1)
    a = Message.objects.create(room=lobby, user=user, text="last of january", ts=just_before)
    b = Message.objects.create(room=lobby, user=user, text="first of february", ts=boundary)
    assert partitions.partition_of_message(a.msg_id, a.ts) == "chat_message_p20310101"
    assert partitions.partition_of_message(b.msg_id, b.ts) == "chat_message_p20310201"


def test_weekly_partitions_start_on_monday(settings):
    settings.CHAT_PARTITION_INTERVAL = "week"
    part = partitions.partition_for(datetime(2031, 5, 15, 13, tzinfo=UTC))  # a Thursday
    assert (part.name, part.start, part.end) == (
        "chat_message_p20310512",
        datetime(2031, 5, 12, tzinfo=UTC),
        datetime(2031, 5, 19, tzinfo=UTC),
    )


def test_a_message_without_a_partition_is_kept_and_moved_in_later(lobby, user):
    far = datetime(2040, 6, 3, 12, tzinfo=UTC)  # no partition exists that far ahead
    stray = Message.objects.create(room=lobby, user=user, text="from the future", ts=far)
    assert partitions.partition_of_message(stray.msg_id, stray.ts) == "chat_message_default"
    assert partitions.default_partition_rows() == 1
    from django.core import checks

    warnings = checks.run_checks(databases=["default"], tags=[checks.Tags.database])
    assert [w.id for w in warnings if w.id.startswith("chat.")] == ["chat.W001"]

    partitions.ensure_partitions(now=far, ahead=0)
    assert partitions.partition_of_message(stray.msg_id, stray.ts) == "chat_message_p20400601"
    assert partitions.default_partition_rows() == 0


def test_expired_partitions_are_dropped_only_with_a_retention(settings):
    partitions.ensure_partitions(now=datetime(2020, 1, 10, tzinfo=UTC), ahead=0)
    assert "chat_message_p20200101" in partitions.list_partitions()
    settings.CHAT_RETENTION_DAYS = 0
    assert partitions.drop_expired_partitions() == []
    settings.CHAT_RETENTION_DAYS = 365
    assert "chat_message_p20200101" in partitions.drop_expired_partitions()
    assert "chat_message_p20200101" not in partitions.list_partitions()
    assert "chat_message_default" in partitions.list_partitions()


def test_history_has_no_gap_or_duplicate_across_partitions(lobby, user, generous_limits):
    partitions.ensure_partitions(now=datetime(2032, 1, 1, tzinfo=UTC), ahead=2)
    start = datetime(2032, 1, 31, 23, 0, tzinfo=UTC)
    same_time = datetime(2032, 2, 1, tzinfo=UTC)
    march = datetime(2032, 3, 1, tzinfo=UTC)
    times = (
        [start + timedelta(minutes=7 * i) for i in range(20)] + [same_time] * 5 + [march] * 3
    )  # ties on ts
    for i, ts in enumerate(times):
        Message.objects.create(room=lobby, user=user, text=f"m{i}", ts=ts)
    assert len({partitions.partition_of_message(m.msg_id, m.ts) for m in Message.objects.all()}) == 3
    seen, before = [], None
    while True:
        page = selectors.history(room=lobby, before=before, limit=4)
        seen = [m.text for m in page.messages] + seen
        if page.before is None:
            break
        before = page.before
    assert len(seen) == 28 and len(set(seen)) == 28
    ordered = list(Message.objects.filter(room=lobby).order_by("ts", "msg_id").values_list("text", flat=True))
    assert seen == ordered


def test_a_bad_cursor_is_a_validation_error(lobby):
    assert _codes(lambda: selectors.history(room=lobby, before="not-a-cursor!")) == "validation_error"


# --- sending ---------------------------------------------------------------------------


def test_a_message_is_stored_once_per_client_id_and_published(lobby, user):
    first, created = services.message_post(user=user, room=lobby, text="  once  ", client_id="abc-1")
    again, created_again = services.message_post(user=user, room=lobby, text="  once  ", client_id="abc-1")
    assert (created, created_again) == (True, False)
    assert again.msg_id == first.msg_id and first.text == "once"
    assert Message.objects.count() == 1
    events = list(OutboxEvent.objects.filter(event_type="chat.message"))
    assert len(events) == 1 and events[0].payload["msg_id"] == str(first.msg_id)


def test_a_batch_stores_each_client_id_once_in_one_transaction(lobby, user, generous_limits):
    """The writer's batch: two sends of one client id in the same batch and a client id
    stored by an earlier batch are each answered with the stored message; one row each."""
    earlier, _ = services.message_post(user=user, room=lobby, text="earlier", client_id="k-0")
    other = UserFactory()
    batch = [
        services.message_prepare(user=user, room=lobby, text="one", client_id="k-1"),
        services.message_prepare(user=user, room=lobby, text="one again", client_id="k-1"),
        services.message_prepare(user=other, room=lobby, text="same id, other user", client_id="k-1"),
        services.message_prepare(user=user, room=lobby, text="no id"),
    ]
    # prepared before the earlier send was stored (a resend racing its original)
    stale = services.PreparedMessage(
        message=Message(msg_id=uuid.uuid4(), ts=timezone.now(), room=lobby, user=user, text="earlier"),
        client_id="k-0",
    )
    results = services.messages_store([*batch, stale])
    assert [created for _, created in results] == [True, False, True, True, False]
    assert results[1][0].msg_id == results[0][0].msg_id
    assert results[4][0].msg_id == earlier.msg_id
    assert sorted(Message.objects.values_list("text", flat=True)) == sorted(
        ["earlier", "one", "same id, other user", "no id"]
    )
    assert OutboxEvent.objects.filter(event_type="chat.message").count() == 4


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "validation_error"),
        ("   ", "validation_error"),
        ("x" * 501, "validation_error"),
        ("bell\x07", "validation_error"),
        ("rtl\u202eoverride", "validation_error"),
        (12, "validation_error"),
    ],
)
def test_text_rules(lobby, user, text, code):
    assert _codes(lambda: services.message_post(user=user, room=lobby, text=text)) == code
    assert Message.objects.count() == 0


def test_exactly_500_characters_and_newlines_are_fine(lobby, user):
    message, _ = services.message_post(user=user, room=lobby, text="a\n\n\n\nb" + "x" * 494)
    assert message.text.startswith("a\n\nb") and len(message.text) == 498


def test_blocked_words_and_links(lobby, user, settings, generous_limits):
    settings.CHAT_BLOCKED_WORDS = ["scam"]
    settings.CHAT_ALLOWED_LINK_DOMAINS = ["bet-that.example"]
    assert (
        _codes(lambda: services.message_post(user=user, room=lobby, text="total SCAM here")) == "blocked_word"
    )
    assert services.message_post(user=user, room=lobby, text="scampi for dinner")[
        1
    ]  # a word, not a substring
    for text in ("see https://evil.example.com/x", "go to www.tips.net now", "try freepicks.io"):
        assert (
            _codes(lambda t=text: services.message_post(user=user, room=lobby, text=t)) == "link_not_allowed"
        )
    assert services.message_post(user=user, room=lobby, text="rules at https://bet-that.example/help")[1]


# Issue 18 item 11: every way of writing a link that a reader (or a browser) follows is
# refused; ordinary betting talk is not. `host` is the first host the filter names.
LINKS_REFUSED = [
    ("example.com", "example.com"),
    ("evil.co/x", "evil.co"),
    ("visit evil.casino now", "evil.casino"),
    ("EVIL.RU", "evil.ru"),
    ("sub.evil.io/path?q=1", "sub.evil.io"),
    ("so.much.fun", "so.much.fun"),
    ("пример.рф", "xn--e1afmkfd.xn--p1ai"),
    ("user@evil.com", "evil.com"),
    ("user\\@evil.com", "evil.com"),
    ("user\uff20evil.com", "evil.com"),  # fullwidth @
    ("user\ufe6bevil.com", "evil.com"),  # small @
    ("evil\uff0ecom", "evil.com"),  # fullwidth full stop
    ("evil\u3002com", "evil.com"),  # ideographic full stop
    ("evil\\.com", "evil.com"),
    ("evil[.]com", "evil.com"),
    ("evil (dot) com", "evil.com"),
    ("e\u200dvil.com", "evil.com"),  # zero-width joiner
    ("evil\u200b.com", "evil.com"),  # zero-width space
    ("evil.c\u00adom", "evil.com"),  # soft hyphen
    ("https://\uff45\uff56\uff49\uff4c.com", "evil.com"),  # fullwidth letters
    ("hxxp://evil.com", "evil.com"),
    ("//evil.com", "evil.com"),
    ("http:\\\\evil.com", "evil.com"),
    ("http://evil", "evil"),
    ("http://10.0.0.1:8080/x", "10.0.0.1"),
    ("see 192.168.1.1", "192.168.1.1"),
    ("https://evil.com\\@bet-that.example/", "evil.com"),  # a browser goes to evil.com
    ("https://bet-that.example@evil.com/", "evil.com"),
    ("https://bet-that.example/see evil.com", "evil.com"),
]
TEXT_ALLOWED = [
    "1.91 odds at 3.5 units, 45.5 total",
    "e.g. the over",
    "nice.lets go",
    "w/ my mates, and/or the under",
    "I said 1.2.3 go",
    "rules at https://bet-that.example/help",
    "mail help@bet-that.example",
    "www.bet-that.example/rules",
]


@pytest.mark.parametrize(("text", "host"), LINKS_REFUSED)
def test_links_however_written_are_refused(lobby, user, settings, generous_limits, text, host):
    """On the old code bare domains outside a short TLD list, `\\@`, look-alike @ and dots,
    zero-width characters and escaped dots all passed (e.g. `evil.casino`, `evil\\u3002com`)."""
    settings.CHAT_LINK_POLICY = "block"
    settings.CHAT_ALLOWED_LINK_DOMAINS = ["bet-that.example"]
    with pytest.raises(ApplicationError) as problem:
        services.check_policy(text, user=user)
    assert (problem.value.code, problem.value.details) == ("link_not_allowed", {"host": host})


@pytest.mark.parametrize("text", TEXT_ALLOWED)
def test_betting_talk_and_allowed_links_pass(lobby, user, settings, generous_limits, text):
    settings.CHAT_LINK_POLICY = "block"
    settings.CHAT_ALLOWED_LINK_DOMAINS = ["bet-that.example"]
    message, created = services.message_post(user=user, room=lobby, text=text)
    assert created and message.text == text


def test_a_refused_link_stores_nothing(lobby, user, settings):
    settings.CHAT_LINK_POLICY = "block"
    settings.CHAT_ALLOWED_LINK_DOMAINS = []
    assert _codes(lambda: services.message_post(user=user, room=lobby, text="go evil.casino")) == (
        "link_not_allowed"
    )
    assert Message.objects.filter(user=user).count() == 0


def test_rate_limit_counts_per_user_and_says_when(lobby, user, settings):
    settings.CHAT_RATE_MESSAGES, settings.CHAT_RATE_WINDOW_SEC = 3, 10
    for i in range(3):
        services.message_post(user=user, room=lobby, text=f"m{i}")
    with pytest.raises(ApplicationError) as problem:
        services.message_post(user=user, room=lobby, text="one too many")
    assert (problem.value.code, problem.value.status) == ("rate_limited", 429)
    assert 0 < problem.value.details["retry_after"] <= 10
    other = UserFactory()
    assert services.message_post(user=other, room=lobby, text="not limited")[1]
    assert Message.objects.filter(user=user).count() == 3


def test_slow_mode(lobby, user, moderator):
    services.room_set_slow_mode(staff=moderator, room=lobby, seconds=30)
    services.message_post(user=user, room=lobby, text="first")
    with pytest.raises(ApplicationError) as problem:
        services.message_post(user=user, room=lobby, text="second")
    assert problem.value.code == "slow_mode" and 0 < problem.value.details["retry_after"] <= 30
    assert services.message_post(user=UserFactory(), room=lobby, text="someone else")[1]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"status": User.Status.SUSPENDED}, "account_suspended"),
        ({"is_active": False}, "account_suspended"),
        ({"verification_level": User.VerificationLevel.NONE}, "verification_required"),
    ],
)
def test_who_cannot_write(lobby, change, code):
    user = UserFactory(**change)
    assert _codes(lambda: services.message_post(user=user, room=lobby, text="hi")) == code


def test_self_excluded_users_cannot_write(lobby):
    user = UserFactory(self_excluded_until=timezone.now() + timedelta(days=30))
    assert _codes(lambda: services.message_post(user=user, room=lobby, text="hi")) == "self_excluded"


def test_mute_in_a_room_or_everywhere(lobby, user, moderator):
    other = Room.objects.create(kind=Room.Kind.EVENT, slug="event-99", title="A @ B", event_id=99)
    services.user_mute(staff=moderator, user=user, room=lobby, minutes=10, reason="spam")
    with pytest.raises(ApplicationError) as problem:
        services.message_post(user=user, room=lobby, text="hi")
    assert problem.value.code == "muted" and "spam" in problem.value.message
    assert services.message_post(user=user, room=other, text="still fine here")[1]
    services.user_mute(staff=moderator, user=user, minutes=10)
    assert _codes(lambda: services.message_post(user=user, room=other, text="hi")) == "muted"
    for mute in Mute.objects.filter(user=user):
        services.user_unmute(staff=moderator, mute=mute)
    assert services.message_post(user=user, room=lobby, text="back")[1]
    actions = [r["action"] for r in audit_read("chat") if r.get("user_id") == user.pk]
    assert actions == ["mute", "mute", "unmute", "unmute"]


def test_a_mute_says_until_when_in_the_users_own_zone(lobby, moderator):
    user = UserFactory(timezone="America/New_York")
    mute = services.user_mute(staff=moderator, user=user, room=lobby, minutes=90, reason="spam")
    local = mute.until.astimezone(ZoneInfo("America/New_York"))
    with pytest.raises(ApplicationError) as problem:
        services.message_post(user=user, room=lobby, text="hi")
    assert f"until {local:%H:%M} {local.tzname()}." in problem.value.message
    assert "UTC" not in problem.value.message
    assert problem.value.details["until"] == mute.until.isoformat()  # the frame's value stays UTC
    unzoned = UserFactory(timezone="")
    services.user_mute(staff=moderator, user=unzoned, room=lobby, minutes=90)
    assert _codes(lambda: services.message_post(user=unzoned, room=lobby, text="hi")) == "muted"
    with pytest.raises(ApplicationError) as problem:
        services.message_post(user=unzoned, room=lobby, text="hi")
    assert problem.value.message.endswith(" UTC.")


def test_closed_rooms_refuse_messages(user):
    room = services.room_for_event(event_id=7, title="X @ Y", finished_at=timezone.now() - timedelta(hours=7))
    assert _codes(lambda: services.message_post(user=user, room=room, text="late")) == "room_closed"
    open_room = services.room_for_event(
        event_id=8, title="Z @ W", finished_at=timezone.now() - timedelta(hours=1)
    )
    assert services.message_post(user=user, room=open_room, text="still open")[1]


# --- reactions, reports, moderation ------------------------------------------------------


def test_a_reaction_toggles_once_per_user(lobby, user):
    message, _ = services.message_post(user=user, room=lobby, text="nice")
    a, b = UserFactory(), UserFactory()
    assert services.message_react(user=a, message=message, emoji="🔥")[1] is True
    assert services.message_react(user=b, message=message, emoji="🔥")[0].reactions == {"🔥": 2}
    updated, on = services.message_react(user=a, message=message, emoji="🔥")
    assert on is False and updated.reactions == {"🔥": 1}
    assert Reaction.objects.filter(msg_id=message.msg_id).count() == 1
    assert _codes(lambda: services.message_react(user=a, message=message, emoji="💩")) == "validation_error"


def test_report_hide_restore_and_the_queue(lobby, user, moderator):
    message, _ = services.message_post(user=user, room=lobby, text="buy my picks")
    reporter = UserFactory()
    services.message_report(user=reporter, message=message, reason="spam")
    services.message_report(user=reporter, message=message, reason="spam again")  # once per reporter
    assert Report.objects.filter(status=Report.Status.OPEN).count() == 1
    assert _codes(lambda: services.message_report(user=user, message=message)) == "validation_error"

    assert (
        _codes(lambda: services.message_hide(staff=UserFactory(is_staff=True), message=message))
        == "permission_denied"
    )
    services.message_hide(staff=moderator, message=message, reason="spam")
    stored = Message.objects.get(msg_id=message.msg_id)
    assert stored.flags["hidden"] is True and stored.flags["reports"] == 1
    assert Report.objects.get().status == Report.Status.HIDDEN
    page = selectors.history(room=lobby)
    from chat.serializers import message_frame

    frame = message_frame(page.messages[0])["message"]
    assert frame["state"] == "hidden" and frame["text"] is None
    services.message_restore(staff=moderator, message=stored)
    assert "hidden" not in Message.objects.get(msg_id=message.msg_id).flags
    mine = [r["action"] for r in audit_read("chat") if r.get("msg_id") == str(message.msg_id)]
    assert mine == ["hide", "restore"]


def test_authors_delete_only_their_own(lobby, user):
    message, _ = services.message_post(user=user, room=lobby, text="oops")
    assert _codes(lambda: services.message_delete(user=UserFactory(), message=message)) == "permission_denied"
    services.message_delete(user=user, message=message)
    assert Message.objects.get(msg_id=message.msg_id).flags == {"deleted": True}


def test_rooms_open_counts_presence(lobby, user):
    from chat import presence

    presence.heartbeat(lobby.pk, user.pk, "conn-a")
    presence.heartbeat(lobby.pk, user.pk, "conn-b")  # two tabs, one person
    presence.heartbeat(lobby.pk, UserFactory().pk, "conn-c")
    rooms = selectors.rooms_open()
    assert rooms[0]["slug"] == "lobby" and rooms[0]["present"] == 2
    presence.leave(lobby.pk, user.pk, "conn-a")
    presence.leave(lobby.pk, user.pk, "conn-b")
    assert selectors.rooms_open()[0]["present"] == 1


def test_presence_expires_without_a_goodbye(lobby, user, settings):
    from chat import presence

    presence.heartbeat(lobby.pk, user.pk, "killed-tab")
    assert presence.user_ids(lobby.pk) == [user.pk]
    settings.CHAT_PRESENCE_TTL_SEC = 0  # as if the last heartbeat were older than the TTL
    assert presence.user_ids(lobby.pk) == []


def test_partition_table_is_really_partitioned():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT partstrat FROM pg_partitioned_table WHERE partrelid = 'chat_message'::regclass"
        )
        assert cursor.fetchone()[0] == "r"
