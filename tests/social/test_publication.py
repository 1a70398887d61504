"""Public bets from the outbox: who is published, idempotent replays, results, private
and public switches, and follow rules."""

from datetime import timedelta

import pytest
from django.utils import timezone

from betthat.core.errors import ApplicationError
from betthat.core.models import OutboxEvent, ProcessedEvent
from betthat.core.outbox import relay_outbox
from betting.services import bet_settle
from social import selectors, services
from social.handlers import on_bet_placed
from social.models import Follow, PublicBet, RecordEntry
from tests.betting.factories import make_game
from tests.betting.helpers import leg, place
from tests.factories import UserFactory
from tests.social.factories import bettor, place_and_relay, profile

pytestmark = pytest.mark.django_db


def test_a_bet_on_a_public_profile_is_published_with_the_delay_and_mode_in_force():
    alice = bettor(delay=90, stake="rounded")
    bet = place_and_relay(alice, stake=2500)
    public = PublicBet.objects.get(bet_id=bet.pk)
    assert public.user_id == alice.pk and public.stake_mode == "rounded"
    assert public.visible_from == bet.placed_at + timedelta(seconds=90)
    assert (public.stake_minor, public.status, public.released_at) == (2500, "pending", None)
    entry = RecordEntry.objects.get(bet_id=bet.pk)
    assert entry.sequence == 1 and entry.visible_from == public.visible_from
    # later settings changes do not rewrite what was fixed at placement
    services.profile_update(user=alice, live_delay_sec=0, stake_visibility="exact")
    public.refresh_from_db()
    assert public.stake_mode == "rounded" and public.visible_from == bet.placed_at + timedelta(seconds=90)


def test_a_private_profiles_bets_are_not_published():
    carol = bettor(public=False)
    bet = place_and_relay(carol)
    assert not PublicBet.objects.filter(bet_id=bet.pk).exists()
    assert not RecordEntry.objects.filter(user=carol).exists()


def test_a_bet_placed_while_private_stays_unpublished_even_if_relayed_after_going_public():
    dave = bettor(public=False)
    bet = place(dave, leg(make_game().o("home_ml")))  # bet.placed waits in the outbox
    services.profile_update(user=dave, is_public=True)
    relay_outbox()
    assert not PublicBet.objects.filter(bet_id=bet.pk).exists()
    assert OutboxEvent.objects.get(event_type="bet.placed", payload__bet_id=bet.pk).delivered_at is not None


def test_an_outbox_replay_writes_no_second_public_bet_or_record_line():
    erin = bettor()
    bet = place_and_relay(erin)
    event = OutboxEvent.objects.get(event_type="bet.placed", payload__bet_id=bet.pk)
    # the relay delivers again (a relay killed before marking the event delivered) ...
    ProcessedEvent.objects.filter(event_id=event.event_id).delete()
    OutboxEvent.objects.filter(pk=event.pk).update(delivered_at=None)
    assert relay_outbox() == 1
    # ... and the same payload arrives under another event id (a second publisher)
    on_bet_placed("another-event", event.payload)
    assert PublicBet.objects.filter(bet_id=bet.pk).count() == 1
    assert RecordEntry.objects.filter(user=erin).count() == 1


def test_settlement_copies_the_result_and_cancellation_too():
    staff = UserFactory(is_staff=True, is_superuser=True)  # settling needs betting.settle_bet
    frank = bettor()
    game = make_game()
    bet = place_and_relay(frank, game, stake=1000)  # home_ml at draftkings 2.20
    bet_settle(bet_id=bet.pk, result="win", staff=staff, reason="test")
    relay_outbox()
    public = PublicBet.objects.get(bet_id=bet.pk)
    assert (public.status, public.result, public.net_profit_minor) == ("settled", "win", 1200)
    assert public.settled_at is not None


def test_going_private_hides_published_bets_and_public_again_does_not_publish_the_gap():
    grace = bettor(handle="grace_pub")
    viewer = bettor(handle="viewer_one")
    services.follow_create(follower=viewer, handle="grace_pub")
    game = make_game()
    first = place_and_relay(grace, game)
    later = timezone.now() + timedelta(seconds=1)
    assert [i["bet_id"] for i in selectors.feed_for_user(user=viewer, now=later).items] == [first.pk]

    services.profile_update(user=grace, is_public=False)
    assert selectors.feed_for_user(user=viewer, now=later).items == []
    with pytest.raises(ApplicationError) as error:
        selectors.profile_get_for_viewer(handle="grace_pub", viewer=viewer)
    assert error.value.status == 404
    while_private = place_and_relay(grace, game)

    services.profile_update(user=grace, is_public=True)
    after = place_and_relay(grace, game)
    later = timezone.now() + timedelta(seconds=1)
    shown = [i["bet_id"] for i in selectors.feed_for_user(user=viewer, now=later).items]
    assert shown == [after.pk, first.pk]
    assert not PublicBet.objects.filter(bet_id=while_private.pk).exists()
    assert list(RecordEntry.objects.filter(user=grace).values_list("sequence", "bet_id")) == [
        (1, first.pk),
        (2, after.pk),
    ]


def test_follow_rules():
    hank = bettor(handle="hank_pub")
    bettor(handle="ivy_priv", public=False)
    jo = bettor(handle="jo_follows")
    follow, created = services.follow_create(follower=jo, handle="@HANK_PUB")
    assert created and follow.followee_id == hank.pk
    again, created = services.follow_create(follower=jo, handle="hank_pub")
    assert not created and again.pk == follow.pk
    for handle, code in (
        ("ivy_priv", "not_found"),
        ("nobody_here", "not_found"),
        ("jo_follows", "cannot_follow_self"),
    ):
        with pytest.raises(ApplicationError) as error:
            services.follow_create(follower=jo, handle=handle)
        assert error.value.code == code
    assert list(Follow.objects.filter(follower=jo).values_list("followee_id", flat=True)) == [hank.pk]
    services.follow_delete(follower=jo, handle="hank_pub")
    with pytest.raises(ApplicationError) as error:
        services.follow_delete(follower=jo, handle="hank_pub")
    assert error.value.code == "not_following"
    assert not Follow.objects.filter(follower=jo).exists()


def test_follow_limit(settings):
    settings.SOCIAL_MAX_FOLLOWING = 1
    a, b, me = bettor(handle="lim_a"), bettor(handle="lim_b"), bettor(handle="lim_me")
    services.follow_create(follower=me, handle="lim_a")
    with pytest.raises(ApplicationError) as error:
        services.follow_create(follower=me, handle="lim_b")
    assert error.value.code == "too_many_follows"
    assert Follow.objects.filter(follower=me).count() == 1 and a and b


def test_a_staff_hidden_profile_disappears_and_the_action_is_audited():
    from betthat.core.audit import audit_read

    staff = UserFactory(is_staff=True, is_superuser=True)  # settling needs betting.settle_bet
    kim = bettor(handle="kim_hidden")
    services.profile_update(user=kim, bio="buy my picks")
    with pytest.raises(ApplicationError):
        services.profile_hide(actor=staff, profile_id=profile(kim).pk, reason="  ")
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        services.profile_hide(actor=staff, profile_id=profile(kim).pk, reason="spam")
        services.profile_reset_bio(actor=staff, profile_id=profile(kim).pk, reason="advertising")
    assert profile(kim).hidden_at is not None and profile(kim).bio == ""
    with pytest.raises(ApplicationError):
        selectors.profile_get_for_viewer(handle="kim_hidden", viewer=None)
    assert selectors.profile_get_for_viewer(handle="kim_hidden", viewer=kim).pk == profile(kim).pk
    lines = [line for line in audit_read("social-staff") if line["handle"] == "kim_hidden"]
    assert [(line["action"], line["actor_id"]) for line in lines] == [
        ("profile_hide", staff.pk),
        ("profile_reset_bio", staff.pk),
    ]
    assert lines[1]["previous_bio"] == "buy my picks"
