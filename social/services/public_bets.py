"""Public bets: written from `bet.placed`, completed from `bet.settled`, released to the
followers' open feeds once their delay has passed.

Nothing here runs in a request: the outbox relay calls the `*_from_event` services inside
its own transaction, once per event (and a replayed event finds the bet already written).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from betting.selectors import bet_result_for_public_record, bets_for_public_view
from social.models import Follow, Profile, PublicBet, RecordEntry, listed_q
from social.presenters import market_text, public_bet_item
from social.push import push_on_commit
from social.record import GENESIS, placed_at_text, record_hash, record_line

logger = logging.getLogger(__name__)


def _when(value: object) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return parse_datetime(str(value))


def public_bet_from_placed_event(*, payload: dict, now: datetime | None = None) -> PublicBet | None:
    """Publish a bet placed on a public profile: the PublicBet (visible from placement +
    the profile's delay, with its stake mode) and the bettor's next record line, in one
    transaction. Nothing for a private or hidden profile, or for a bet placed before the
    profile became public; nothing new for a bet already published (a replayed event)."""
    now = now or timezone.now()
    bet_id, user_id, placed_at = (
        payload.get("bet_id"),
        payload.get("user_id"),
        _when(payload.get("placed_at")),
    )
    if not bet_id or not user_id or placed_at is None:
        logger.warning("bet.placed without bet_id, user_id or placed_at: %r", payload)
        return None
    with transaction.atomic():
        # The profile row lock serialises one bettor's publications: the record's
        # sequence has no gaps and a bet is published once.
        profile = Profile.objects.select_for_update().filter(user_id=user_id).first()
        # The profile's own setting decides publication (a bet placed while public and
        # relayed after a suspension stays in the record, shown again on a restore); who
        # may see it is decided at every read (`listed_q`).
        if (
            profile is None
            or not profile.is_public
            or profile.is_hidden
            or profile.public_since is None
            or placed_at < profile.public_since
        ):
            return None
        existing = PublicBet.objects.filter(bet_id=bet_id).first()
        if existing is not None:
            return existing
        bet = bets_for_public_view(bet_ids=[bet_id]).get(bet_id)
        if bet is None or bet.user_id != user_id:
            logger.warning("bet.placed for a bet that does not exist: %r", payload)
            return None
        public_bet = PublicBet.objects.create(
            bet_id=bet.pk,
            user_id=user_id,
            visible_from=bet.placed_at + timedelta(seconds=profile.live_delay_sec),
            stake_mode=profile.stake_visibility,
            placed_at=bet.placed_at,
            stake_minor=bet.stake_minor,
            currency=bet.currency,
            sport_key=bet.sport_key,
            status=bet.status,
            result=bet.result,
        )
        _append_record(public_bet, market_text(bet), f"{bet.odds_decimal}")
        if public_bet.visible_from <= now:
            public_bets_release(public_bet_ids=[public_bet.pk], now=now)
        elif (public_bet.visible_from - now).total_seconds() <= settings.SOCIAL_RELEASE_ETA_MAX_SEC:
            _schedule_release(public_bet)
    return public_bet


def _append_record(public_bet: PublicBet, market: str, price: str) -> RecordEntry:
    last = RecordEntry.objects.filter(user_id=public_bet.user_id).order_by("-sequence").first()
    previous_hash = last.hash if last else GENESIS
    placed = placed_at_text(public_bet.placed_at)
    line = record_line(
        previous_hash=previous_hash,
        bet_id=public_bet.bet_id,
        market=market,
        price=price,
        stake_mode=public_bet.stake_mode,
        placed_at=placed,
    )
    return RecordEntry.objects.create(
        user_id=public_bet.user_id,
        sequence=(last.sequence + 1) if last else 1,
        bet_id=public_bet.bet_id,
        market=market,
        price=price,
        stake_mode=public_bet.stake_mode,
        placed_at=placed,
        previous_hash=previous_hash,
        hash=record_hash(line),
        visible_from=public_bet.visible_from,
    )


def _schedule_release(public_bet: PublicBet) -> None:
    from social.tasks import release_public_bets_task

    when = public_bet.visible_from

    def send() -> None:
        try:
            release_public_bets_task.apply_async(eta=when)
        except Exception:  # the beat sweep releases it within SOCIAL_RELEASE_INTERVAL_SEC
            logger.warning("could not schedule the release of public bet %s", public_bet.pk, exc_info=True)

    transaction.on_commit(send)


def public_bet_from_result_event(*, payload: dict) -> PublicBet | None:
    """Copy a published bet's result (settled, void or cancelled) from the betting app; once
    the bet is visible, the followers' open feeds get the updated item."""
    bet_id = payload.get("bet_id")
    if not bet_id:
        return None
    with transaction.atomic():
        public_bet = PublicBet.objects.select_for_update().filter(bet_id=bet_id).first()
        if public_bet is None:
            return None
        facts = bet_result_for_public_record(bet_id=bet_id)
        if facts is None:
            return None
        public_bet.status = facts["status"]
        # The stake-free result and units (a parlay's own result is named from its rounded
        # payout, so at a few cents it can depend on the stake).
        public_bet.result = facts["public_result"]
        public_bet.profit_units = facts["profit_units"]
        public_bet.net_profit_minor = facts["net_profit_minor"]
        public_bet.clv_percent = facts["clv_percent"]
        public_bet.settled_at = facts["settled_at"] or facts["cancelled_at"]
        public_bet.save(
            update_fields=[
                "status",
                "result",
                "profit_units",
                "net_profit_minor",
                "clv_percent",
                "settled_at",
            ]
        )
        if public_bet.released_at is not None:
            _push_items([public_bet], frame="feed.update")
    return public_bet


def public_bets_release(
    *, public_bet_ids: list[int] | None = None, now: datetime | None = None, limit: int = 1000
) -> int:
    """Mark due public bets released and send each to its bettor's followers' open feeds
    (after commit). Idempotent: a bet is released once, whoever gets there first (the
    scheduled task, the beat sweep, or the handler for a bet with no delay)."""
    now = now or timezone.now()
    with transaction.atomic():
        queryset = PublicBet.objects.select_for_update(skip_locked=True).filter(
            released_at__isnull=True, visible_from__lte=now
        )
        if public_bet_ids is not None:
            queryset = queryset.filter(pk__in=public_bet_ids)
        due = list(queryset.order_by("visible_from", "id")[:limit])
        if not due:
            return 0
        PublicBet.objects.filter(pk__in=[p.pk for p in due]).update(released_at=now)
        _push_items(due, frame="feed.item")
    return len(due)


def _push_items(public_bets: list[PublicBet], *, frame: str) -> None:
    profiles = {
        p.user_id: p
        for p in Profile.objects.filter(listed_q(), user_id__in={pb.user_id for pb in public_bets})
    }
    visible = [pb for pb in public_bets if pb.user_id in profiles]
    if not visible:
        return
    followers: dict[int, list[int]] = defaultdict(list)
    for followee, follower in Follow.objects.filter(followee_id__in=profiles).values_list(
        "followee_id", "follower_id"
    ):
        followers[followee].append(follower)
    bets = bets_for_public_view(bet_ids=[pb.bet_id for pb in visible])
    messages: list[tuple[int, dict[str, Any]]] = []
    for public_bet in visible:
        profile = profiles[public_bet.user_id]
        item = public_bet_item(
            public_bet, bets[public_bet.bet_id], handle=profile.handle, profile_mode=profile.stake_visibility
        )
        messages.extend(
            (follower, {"type": frame, "item": item}) for follower in followers[public_bet.user_id]
        )
    push_on_commit(messages)
