"""Reads of the social app. Every read a non-owner can reach filters on
`visible_from <= now` and on `social.models.listed_q` (the profile public and not hidden,
its user neither soft-deleted nor suspended), in the query."""

from __future__ import annotations

import base64
import binascii
import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.postgres.search import TrigramWordSimilarity
from django.db.models import F, FloatField, Min, Q, QuerySet, Value
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from betthat.core.db import prepared_cursor
from betthat.core.errors import ApplicationError, NotFound
from betting.selectors import bet_clv_for_bets, bets_for_public_view, units_chart
from social.handles import handle_normalise
from social.models import (
    SUSPENDED,
    Follow,
    LeaderboardMetric,
    LeaderboardRank,
    LeaderboardWindow,
    Profile,
    PublicBet,
    RecordEntry,
    listed_q,
)
from social.presenters import card_item, leg_item, public_bet_item
from social.services.profiles import profile_create_for_user
from social.statistics import PublicRow, public_statistics

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from betthat.users.models import User

    Viewer = User | AnonymousUser | None

MAX_PAGE = 100
UNIT_PLACES = Decimal("0.0001")


def profile_for_user(*, user: User) -> Profile:
    return profile_create_for_user(user=user)


def _is_owner(profile: Profile, viewer: Viewer) -> bool:
    return viewer is not None and getattr(viewer, "is_authenticated", False) and viewer.pk == profile.user_id


def profile_get_for_viewer(*, handle: str, viewer: Viewer) -> Profile:
    """The profile `handle` if `viewer` may see it (public and not hidden, or their own);
    otherwise NotFound, the same answer as for a handle that does not exist."""
    profile = Profile.objects.filter(handle__iexact=handle_normalise(handle)).select_related("user").first()
    if profile is None or not (profile.is_visible_to_others or _is_owner(profile, viewer)):
        raise NotFound("No public profile with this handle.", details={"handle": handle_normalise(handle)})
    return profile


def visible_public_bets(
    *, profile: Profile, viewer: Viewer, now: datetime | None = None
) -> QuerySet[PublicBet]:
    """The profile's public bets that `viewer` may see: all of them for the owner, those
    past their delay for anyone else (and none if the profile is not visible to others)."""
    now = now or timezone.now()
    queryset = PublicBet.objects.filter(user_id=profile.user_id)
    if not _is_owner(profile, viewer):
        if not profile.is_visible_to_others:
            return queryset.none()
        queryset = queryset.filter(visible_from__lte=now)
    return queryset.order_by("-visible_from", "-id")


# Cursor pagination: the cursor is the (visible_from, id) of the last item, opaque.


def _encode_cursor(public_bet: PublicBet) -> str:
    return _cursor_text(public_bet.visible_from, public_bet.pk)


def _cursor_text(visible_from: datetime, public_bet_id: int) -> str:
    text = f"{visible_from.isoformat()}|{public_bet_id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when_text, id_text = text.rsplit("|", 1)
        when = parse_datetime(when_text)
        if when is None or when.tzinfo is None:
            raise ValueError(when_text)
        return when, int(id_text)
    except (ValueError, binascii.Error, UnicodeDecodeError) as error:
        raise ApplicationError(
            "The cursor is not valid.",
            code="invalid_cursor",
            details={"cursor": ["Not a cursor from this API."]},
        ) from error


@dataclass(frozen=True)
class Page:
    items: list[dict]
    next_cursor: str | None


def _page_limit(limit: int | None) -> int:
    limit = settings.SOCIAL_FEED_PAGE_SIZE if limit is None else limit
    if not 1 <= limit <= MAX_PAGE:
        raise ApplicationError(
            f"The limit is from 1 to {MAX_PAGE}.",
            code="validation_error",
            details={"limit": [f"1 to {MAX_PAGE}."]},
        )
    return limit


def _page(queryset: QuerySet[PublicBet], *, cursor: str | None, limit: int | None, now: datetime) -> Page:
    limit = _page_limit(limit)
    if cursor:
        when, last_id = _decode_cursor(cursor)
        # `visible_from <= when` first, so the backward scan of (visible_from, id) starts at
        # the cursor (an OR of the two cases would scan from the newest row instead).
        queryset = queryset.filter(visible_from__lte=when).exclude(visible_from=when, pk__gte=last_id)
    rows = list(
        queryset.annotate(
            profile_handle=F("user__social_profile__handle"),
            profile_mode=F("user__social_profile__stake_visibility"),
        ).order_by("-visible_from", "-id")[: limit + 1]
    )
    more = len(rows) > limit
    rows = rows[:limit]
    profiles = {row.pk: (row.profile_handle, row.profile_mode) for row in rows}
    return Page(
        items=present(rows, profiles=profiles, now=now),
        next_cursor=_encode_cursor(rows[-1]) if more and rows else None,
    )


def present(
    public_bets: Sequence[PublicBet], *, profiles: Mapping[int, tuple[str, str]], now: datetime
) -> list[dict[str, Any]]:
    """Items as others see them (`social.presenters`), plus `is_visible` for the owner's view;
    `profiles` maps each public bet's id to its author's (handle, stake visibility)."""
    if not public_bets:
        return []
    bets = bets_for_public_view(bet_ids=[pb.bet_id for pb in public_bets])
    items = []
    for public_bet in public_bets:
        handle, mode = profiles[public_bet.pk]
        item = public_bet_item(public_bet, bets[public_bet.bet_id], handle=handle, profile_mode=mode)
        item["is_visible"] = public_bet.visible_from <= now
        items.append(item)
    return items


def profile_bets_page(
    *,
    profile: Profile,
    viewer: Viewer,
    cursor: str | None = None,
    limit: int | None = None,
    now: datetime | None = None,
) -> Page:
    now = now or timezone.now()
    return _page(
        visible_public_bets(profile=profile, viewer=viewer, now=now), cursor=cursor, limit=limit, now=now
    )


# The feed's read, one statement prepared once per connection (`prepared_cursor`): the page
# of public bets (the follow set as a semi-join, `listed_q` written out, the backward scan of
# `publicbet_visible_from_idx` from the cursor), each with its author's handle and stake
# setting, its bet, the bet's event and its legs aggregated in order. It reads betting's and
# edges' rows directly, as the ORM's joins did before it (`bets_for_public_view`), because a
# read of three statements spent most of its time waiting on round trips
# (docs/performance.md, issue 19); tests/social/test_feed_statement.py holds its output to
# the presenter's byte for byte. A leg's outcome name, market key and matchup come from its
# `attributes` when set there, else from the leg's outcome, market and event rows.
_FEED_SQL = """
SELECT pb.id, pb.bet_id, pb.visible_from, pb.stake_mode, pb.placed_at, pb.status, pb.result,
       pb.stake_minor, pb.currency, pb.net_profit_minor, pb.profit_units, pb.settled_at,
       pb.handle, pb.stake_visibility,
       b.kind, b.sport_key, b.market_type, b.sportsbook_id, b.odds_decimal, b.odds_american,
       b.clv_percent, e.commence_time,
       (SELECT json_agg(json_build_array(
                   l.event_id, l.attributes, l.point::text, l.price_decimal::text,
                   CASE WHEN coalesce(l.attributes->>'outcome_name', '') = '' THEN o.name END,
                   CASE WHEN coalesce(l.attributes->>'market_key', '') = '' THEN m.key END,
                   CASE WHEN coalesce(l.attributes->>'matchup', '') = ''
                        THEN le.away_team || ' @ ' || le.home_team END)
                 ORDER BY l.position)
          FROM betting_betleg l
          JOIN edges_outcome o ON o.id = l.outcome_id
          JOIN edges_market m ON m.id = l.market_id
          JOIN edges_event le ON le.id = l.event_id
         WHERE l.bet_id = b.id)
  FROM (SELECT p.*, pr.handle, pr.stake_visibility
          FROM social_publicbet p
          JOIN users_user u ON u.id = p.user_id
          JOIN social_profile pr ON pr.user_id = p.user_id
         WHERE p.user_id IN (SELECT f.followee_id FROM social_follow f WHERE f.follower_id = %(reader)s)
           AND pr.is_public AND pr.hidden_at IS NULL
           AND u.deleted_at IS NULL AND u.is_active AND u.status <> '{suspended}'
           AND (p.visible_from, p.id) < (%(before)s, %(before_id)s)
         ORDER BY p.visible_from DESC, p.id DESC
         LIMIT {rows}) pb
  JOIN betting_bet b ON b.id = pb.bet_id
  LEFT JOIN edges_event e ON e.id = b.event_id
 ORDER BY pb.visible_from DESC, pb.id DESC
"""
_AFTER_EVERY_ID = 2**63 - 1


@functools.cache
def _feed_sql(rows: int) -> str:
    """The statement for pages of `rows - 1` items, one text (so one prepared statement) per
    page size. Its generic plan, which PostgreSQL keeps after five executions, must be the
    custom one: with `LIMIT $n` and `status <> $m` it estimated one listed user and one row
    to sort, and read every bet of the bettors followed (20,000, 28 ms) where the backward
    scan of `publicbet_visible_from_idx` reads 228 rows (1.5 ms); with the limit and the
    constant written in, the two plans are the same. The cursor and `now` are one row
    comparison (`_feed_bound`), whose default selectivity keeps that plan too."""
    return _FEED_SQL.format(suspended=SUSPENDED, rows=int(rows))


def _feed_bound(cursor: str | None, now: datetime) -> tuple[datetime, int]:
    """`(visible_from, id) < bound` for the page: before the cursor's row, and never after
    `now` (a cursor from the future reads from now, as `visible_from <= now` did)."""
    if cursor:
        when, last_id = _decode_cursor(cursor)
        if when <= now:
            return when, last_id
    return now, _AFTER_EVERY_ID


def feed_for_user(
    *, user: User, cursor: str | None = None, limit: int | None = None, now: datetime | None = None
) -> Page:
    """The public bets of the bettors `user` follows that are visible now, newest first, in
    one statement (`_FEED_SQL`)."""
    now = now or timezone.now()
    limit = _page_limit(limit)
    before, before_id = _feed_bound(cursor, now)
    with prepared_cursor() as sql:
        sql.execute(_feed_sql(limit + 1), {"reader": user.pk, "before": before, "before_id": before_id})
        rows = sql.fetchall()
    more = len(rows) > limit
    items = [_feed_item(row, now) for row in rows[:limit]]
    return Page(
        items=items,
        next_cursor=_cursor_text(rows[limit - 1][2], rows[limit - 1][0]) if more else None,
    )


def _feed_item(row: Sequence[Any], now: datetime) -> dict[str, Any]:
    (
        public_bet_id, bet_id, visible_from, stake_mode, placed_at, status, result,
        stake_minor, currency, net_profit_minor, profit_units, settled_at,
        handle, profile_mode,
        kind, sport_key, market_type, sportsbook, odds_decimal, odds_american,
        clv_percent, commence_time, legs,
    ) = row  # fmt: skip
    if isinstance(legs, str):
        legs = json.loads(legs)
    item = card_item(
        public_bet_id=public_bet_id,
        bet_id=bet_id,
        handle=handle,
        profile_mode=profile_mode,
        stake_mode=stake_mode,
        status=status,
        result=result,
        profit_units=profit_units,
        stake_minor=stake_minor,
        currency=currency,
        net_profit_minor=net_profit_minor,
        placed_at=placed_at,
        visible_from=visible_from,
        settled_at=settled_at,
        kind=kind,
        sport_key=sport_key,
        market_type=market_type,
        sportsbook=sportsbook,
        odds_decimal=odds_decimal,
        odds_american=odds_american,
        clv_percent=clv_percent,
        commence_time=commence_time,
        legs=[_feed_leg(leg) for leg in legs or ()],
    )
    item["is_visible"] = visible_from <= now
    return item


def _feed_leg(values: Sequence[Any]) -> dict[str, Any]:
    event_id, attributes, point, price, outcome_name, market_key, matchup = values
    attributes = attributes or {}
    return leg_item(
        attributes=attributes,
        outcome_name=attributes.get("outcome_name") or outcome_name,
        market_key=attributes.get("market_key") or market_key,
        point=None if point is None else Decimal(point),
        event_id=event_id,
        matchup=attributes.get("matchup") or matchup,
        price_decimal=Decimal(price),
    )


def _visible_rows(profile: Profile, viewer: Viewer, now: datetime) -> QuerySet[PublicBet]:
    if _is_owner(profile, viewer) and not profile.is_visible_to_others:
        # The owner previews what others would see once public.
        return PublicBet.objects.filter(user_id=profile.user_id, visible_from__lte=now)
    return visible_public_bets(profile=profile, viewer=None, now=now)


def _public_rows(profile: Profile, viewer: Viewer, now: datetime) -> list[PublicRow]:
    rows = list(
        _visible_rows(profile, viewer, now).values_list(
            "bet_id", "status", "result", "profit_units", "sport_key"
        )
    )
    clv = bet_clv_for_bets(bet_ids=[row[0] for row in rows])
    return [
        PublicRow(status, result, units, clv.get(bet_id), sport)
        for bet_id, status, result, units, sport in rows
    ]


def profile_summary(*, profile: Profile, viewer: Viewer, now: datetime | None = None) -> dict:
    """The header of a profile: handle, bio, counts, whether `viewer` follows, and the
    verified record over the bets others can see now (ROI, win rate, CLV, by sport), every
    number stake-free (`social.statistics`)."""
    now = now or timezone.now()
    stats = public_statistics(_public_rows(profile, viewer, now))
    is_following = bool(
        viewer is not None
        and getattr(viewer, "is_authenticated", False)
        and Follow.objects.filter(follower_id=viewer.pk, followee_id=profile.user_id).exists()
    )
    return {
        "handle": profile.handle,
        "bio": profile.bio,
        "display_name": profile.display_name,
        "is_public": profile.is_public,
        "stake_visibility": profile.stake_visibility,
        "live_delay_sec": profile.live_delay_sec,
        "member_since": profile.created_at,
        "followers_count": _followers(profile.user_id).count(),
        "following_count": following_queryset(user_id=profile.user_id).count(),
        "is_following": is_following,
        "is_owner": _is_owner(profile, viewer),
        "record": {
            "bets": stats["count"],
            "settled": stats["won"] + stats["lost"] + stats["pushed"],
            "pending": stats["pending"],
            "won": stats["won"],
            "lost": stats["lost"],
            "pushed": stats["pushed"],
            "void": stats["void"],
            "roi": stats["roi"],
            "win_rate": stats["win_rate"],
            "average_clv": stats["average_clv"],
            "clv_count": stats["clv_count"],
            "beat_close_share": stats["beat_close_share"],
            "by_sport": {
                sport: {
                    "bets": row["count"],
                    "won": row["won"],
                    "lost": row["lost"],
                    "roi": row["roi"],
                    "win_rate": row["win_rate"],
                    "average_clv": row["average_clv"],
                }
                for sport, row in stats["by_sport"].items()
            },
        },
    }


def profile_units_series(*, profile: Profile, viewer: Viewer, now: datetime | None = None) -> list[Decimal]:
    """Cumulative profit in units (each bet's `profit_units`, from its price and result) in
    settlement order: the record's shape, the same at any stakes."""
    settled = (
        _visible_rows(profile, viewer, now or timezone.now())
        .filter(status__in=["settled", "void"], profit_units__isnull=False)
        .order_by("settled_at", "id")
        .values_list("profit_units", flat=True)
    )
    series, running = [], Decimal(0)
    for units in settled:  # never None: filtered above
        running += units or 0
        series.append(running.quantize(UNIT_PLACES))
    return series


def profile_units_chart(*, profile: Profile, viewer: Viewer, now: datetime | None = None) -> Any:
    return units_chart(cumulative_units=profile_units_series(profile=profile, viewer=viewer, now=now))


def _followers(user_id: int) -> QuerySet[Follow]:
    # A soft-deleted or suspended follower is not counted anywhere.
    return Follow.objects.filter(
        followee_id=user_id,
        follower__deleted_at__isnull=True,
        follower__is_active=True,
    ).exclude(follower__status=SUSPENDED)


def following_queryset(*, user_id: int) -> QuerySet[Profile]:
    """The public profiles `user_id` follows (private or hidden ones are left out)."""
    return Profile.objects.filter(listed_q(), user__followers__follower_id=user_id).order_by("handle")


def followers_queryset(*, user_id: int) -> QuerySet[Profile]:
    """The public profiles that follow `user_id` (private followers are only counted)."""
    return Profile.objects.filter(listed_q(), user__following__followee_id=user_id).order_by("handle")


def followers_private_count(*, user_id: int) -> int:
    return _followers(user_id).count() - followers_queryset(user_id=user_id).count()


def leaderboard(*, window: str, metric: str, limit: int = 100) -> list[dict]:
    """A board's rows for bettors still listed (`listed_q`): a profile made private or
    hidden, a suspended or soft-deleted user, leaves at once."""
    if window not in LeaderboardWindow.values:
        raise ApplicationError(
            "window is 7d or 30d.",
            code="validation_error",
            details={"window": [f"One of {LeaderboardWindow.values}."]},
        )
    if metric not in LeaderboardMetric.values:
        raise ApplicationError(
            "metric is roi, win_pct or clv.",
            code="validation_error",
            details={"metric": [f"One of {LeaderboardMetric.values}."]},
        )
    # Ranked again among the bettors still listed, so one who went private, was hidden,
    # suspended or deleted since the last recompute leaves at once and leaves no gap. The
    # rows come in stored-rank order (the board's index), and every listed bettor with a
    # higher value comes before a row, so RANK() over the listed rows is a running count.
    rows = (
        LeaderboardRank.objects.filter(
            listed_q(profile="user__social_profile__"), window=window, metric=metric
        )
        .order_by("rank", "user__social_profile__handle")
        .values("value", "n_bets", "updated_at", "user__social_profile__handle")[:limit]
    )
    board: list[dict] = []
    for position, row in enumerate(rows, start=1):
        tied = board and board[-1]["value"] == row["value"]
        board.append(
            {
                "rank": board[-1]["rank"] if tied else position,
                "handle": row["user__social_profile__handle"],
                "value": row["value"],
                "n_bets": row["n_bets"],
                "updated_at": row["updated_at"],
            }
        )
    return board


RECORD_PAGE_SIZE = 500
RECORD_PAGE_MAX = 1000


@dataclass(frozen=True)
class RecordPage:
    entries: list[RecordEntry]
    count: int  # lines in the served chain (line 1 to the last one shown to others now)
    head: str | None  # the hash of that last line: where a verifier must arrive
    next_after: int | None  # the `after` of the next page, None on the last one


def record_page_for_profile(
    *,
    profile: Profile,
    viewer: Viewer,
    after: int = 0,
    limit: int | None = None,
    now: datetime | None = None,
) -> RecordPage:
    """A page of the record lines others can check: lines `after + 1` onwards, at most
    `limit`, within the longest run from line 1 whose bets are all visible now (a later line
    visible earlier, after a delay was shortened, waits for the lines before it, so what is
    served is always a whole chain from the start). Each line carries its predecessor's
    hash, so pages chain like lines: a page's first `previous_hash` is the hash of the line
    before it (docs/social.md, "The verifiable record")."""
    now = now or timezone.now()
    limit = RECORD_PAGE_SIZE if limit is None else limit
    if not 1 <= limit <= RECORD_PAGE_MAX:
        raise ApplicationError(
            f"The limit is from 1 to {RECORD_PAGE_MAX}.",
            code="validation_error",
            details={"limit": [f"1 to {RECORD_PAGE_MAX}."]},
        )
    if after < 0:
        raise ApplicationError(
            "after is a line number (0 for the start).", code="validation_error", details={"after": [">= 0."]}
        )
    if not profile.is_visible_to_others and not _is_owner(profile, viewer):
        return RecordPage([], 0, None, None)
    lines = RecordEntry.objects.filter(user_id=profile.user_id)
    first_hidden = lines.filter(visible_from__gt=now).aggregate(first=Min("sequence"))["first"]
    count = first_hidden - 1 if first_hidden is not None else lines.count()
    if count == 0:
        return RecordPage([], 0, None, None)
    head = lines.filter(sequence=count).values_list("hash", flat=True).first()
    entries = list(lines.filter(sequence__gt=after, sequence__lte=count).order_by("sequence")[:limit])
    more = bool(entries) and entries[-1].sequence < count
    return RecordPage(entries, count, head, entries[-1].sequence if more else None)


def public_handles(*, user_ids: Sequence[int]) -> dict[int, str]:
    """`{user_id: handle}` for the users whose profile anyone may see (public, not hidden by
    staff, the account active): the names other apps may show for them. A private, hidden,
    suspended or deleted user is simply absent (`betthat.users.selectors.user_public_names`
    gives them an anonymous label), so nothing here tells a private handle apart from none.
    Injected into the users app by `settings.USERS_PUBLIC_HANDLES`."""
    ids = sorted({int(i) for i in user_ids})
    if not ids:
        return {}
    rows = profiles_publicly_visible().filter(user_id__in=ids)
    return dict(rows.values_list("user_id", "handle"))


def profiles_publicly_visible() -> QuerySet[Profile]:
    """The profiles anyone may see or find (`listed_q`: public, not hidden by staff, the
    account active, not suspended and not deleted). Every public listing starts here."""
    return Profile.objects.filter(listed_q())


SEARCH_MIN_LENGTH = 2
SEARCH_MAX_LENGTH = 50


def profile_search_query(raw: object) -> str:
    """The search text as searched: one line, spaces collapsed, a leading "@" dropped;
    400 `validation_error` if shorter than SEARCH_MIN_LENGTH or longer than SEARCH_MAX_LENGTH."""
    text = " ".join(str(raw or "").split()).lstrip("@").strip()
    if not SEARCH_MIN_LENGTH <= len(text) <= SEARCH_MAX_LENGTH:
        raise ApplicationError(
            f"Search for {SEARCH_MIN_LENGTH} to {SEARCH_MAX_LENGTH} characters of a handle or name.",
            code="validation_error",
            details={"q": [f"Between {SEARCH_MIN_LENGTH} and {SEARCH_MAX_LENGTH} characters."]},
        )
    return text


def profile_search(*, query: str) -> QuerySet[Profile]:
    """Publicly visible profiles whose handle or display name is like `query` (pg_trgm word
    similarity, served by the trigram GIN indexes), most similar first, then by handle. A
    handle that starts with the query is found too (a short query has few trigrams)."""
    text = profile_search_query(query)
    prefix = text.lower().replace(" ", "_")
    if not _has_trigrams():
        # A server without pg_trgm (the embedded one has no contrib): a plain match, by
        # handle, and no similarity to tell (null, as the API documents).
        return (
            profiles_publicly_visible()
            .filter(Q(handle__icontains=prefix) | Q(display_name__icontains=text))
            .annotate(similarity=Value(None, output_field=FloatField()))
            .order_by("handle")
        )
    return (
        profiles_publicly_visible()
        .filter(
            Q(handle__trigram_word_similar=text)
            | Q(display_name__trigram_word_similar=text)
            | Q(handle__startswith=prefix)
        )
        .annotate(
            similarity=Greatest(
                TrigramWordSimilarity(text, "handle"), TrigramWordSimilarity(text, "display_name")
            )
        )
        .order_by("-similarity", "handle")
    )


def _has_trigrams() -> bool:
    """True where the pg_trgm extension is installed (migration social/0003 installs it
    wherever the server ships it). Asked once per connection."""
    from django.db import connection

    cached = getattr(connection, "_betthat_has_trigrams", None)
    if cached is None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
            cached = cursor.fetchone() is not None
        connection._betthat_has_trigrams = cached  # type: ignore[attr-defined]
    return cached
