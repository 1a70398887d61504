"""The demo odds feed: books with their own margins and latencies quoting random-walking
markets, so arbitrage, +EV and middles appear and vanish as they do in real markets.

The truth of each event (home win probability, expected margin and total) random-walks.
Each book sees the truth `latency` seconds late, adds its own slowly drifting opinion,
applies its margin and rounds to its price format; a book sometimes freezes for a while
(stale quotes). Pinnacle is the sharp: small margin, short latency, no opinion. A soft
book's shaded line lets its price beat the de-vigged Pinnacle line (+EV); two lagging books
on opposite sides make an arbitrage; books hanging different spread/total numbers make
middles. Everything goes through `edges.ingest.ingest_updates`, like any other feed.
"""

from __future__ import annotations

import logging
import math
import random
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TypedDict

from django.utils import timezone

from edges import pricing, services
from edges.ingest import EventData, IngestReport, QuoteUpdate, ingest_updates
from edges.models import SIMULATED_PREFIX, Edge, Event

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BookProfile:
    key: str
    title: str
    margin: float
    latency: float  # seconds behind the truth
    opinion: float  # size of its own view (logit units)
    stale_chance: float  # per tick, chance to freeze
    is_sharp: bool = False
    american: bool = True
    region: str = "us"


BOOKS = [
    BookProfile("pinnacle", "Pinnacle", 0.025, 0.5, 0.0, 0.0, is_sharp=True, american=False, region="eu"),
    BookProfile("draftkings", "DraftKings", 0.045, 2.0, 0.025, 0.004),
    BookProfile("fanduel", "FanDuel", 0.045, 3.0, 0.025, 0.004),
    BookProfile("betmgm", "BetMGM", 0.05, 5.0, 0.03, 0.006),
    BookProfile("caesars", "Caesars", 0.05, 6.0, 0.03, 0.006),
    BookProfile("pointsbet", "PointsBet", 0.055, 8.0, 0.04, 0.008),
    BookProfile("bovada", "Bovada", 0.06, 10.0, 0.045, 0.01),
    BookProfile("betrivers", "BetRivers", 0.055, 12.0, 0.04, 0.01),
]
LATENCY_TIER = {0.5: "fast", 2.0: "fast", 3.0: "standard", 5.0: "standard", 6.0: "standard"}


class SportSpec(TypedDict):
    """A simulated sport: its teams (with a star player each) and the spread of its scores."""

    title: str
    teams: list[tuple[str, str]]
    spread_sd: float
    total: float
    total_sd: float
    prop: tuple[str, float, float]  # (stat key, mean line, standard deviation)
    points_scale: int


SPORTS: dict[str, SportSpec] = {
    "americanfootball_nfl": {
        "title": "NFL",
        "teams": [
            ("Kansas City Chiefs", "Patrick Mahomes"),
            ("Buffalo Bills", "Josh Allen"),
            ("Philadelphia Eagles", "Jalen Hurts"),
            ("Baltimore Ravens", "Lamar Jackson"),
            ("Cincinnati Bengals", "Joe Burrow"),
            ("Detroit Lions", "Jared Goff"),
            ("San Francisco 49ers", "Brock Purdy"),
            ("Los Angeles Chargers", "Justin Herbert"),
            ("Dallas Cowboys", "Dak Prescott"),
            ("Miami Dolphins", "Tua Tagovailoa"),
        ],
        "spread_sd": pricing.MIDDLE_SIGMA[("americanfootball", "spreads")],
        "total": 46.0,
        "total_sd": pricing.MIDDLE_SIGMA[("americanfootball", "totals")],
        "prop": ("player_pass_yds", 265.0, 265.0 * pricing.PROP_SIGMA_SHARE["americanfootball"]),
        "points_scale": 1,
    },
    "basketball_nba": {
        "title": "NBA",
        "teams": [
            ("Boston Celtics", "Jayson Tatum"),
            ("Denver Nuggets", "Nikola Jokic"),
            ("Milwaukee Bucks", "Giannis Antetokounmpo"),
            ("New York Knicks", "Jalen Brunson"),
            ("Oklahoma City Thunder", "Shai Gilgeous-Alexander"),
            ("Dallas Mavericks", "Luka Doncic"),
            ("Los Angeles Lakers", "LeBron James"),
            ("Golden State Warriors", "Stephen Curry"),
            ("Phoenix Suns", "Kevin Durant"),
            ("Miami Heat", "Jimmy Butler"),
        ],
        "spread_sd": pricing.MIDDLE_SIGMA[("basketball", "spreads")],
        "total": 226.0,
        "total_sd": pricing.MIDDLE_SIGMA[("basketball", "totals")],
        "prop": ("player_points", 26.5, 26.5 * pricing.PROP_SIGMA_SHARE["basketball"]),
        "points_scale": 1,
    },
}


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def _phi(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


@dataclass
class Truth:
    at: float
    margin: float  # expected home margin
    total: float
    prop: float


@dataclass
class SimEvent:
    event_id: int
    provider_id: str
    sport_key: str
    home: str
    away: str
    home_player: str
    commence_time: datetime
    margin: float
    total: float
    prop: float
    history: deque = field(default_factory=lambda: deque(maxlen=64))
    opinions: dict[str, list[float]] = field(default_factory=dict)
    frozen_until: dict[str, float] = field(default_factory=dict)
    sent: dict[tuple, Decimal] = field(default_factory=dict)
    live_since: datetime | None = None

    def truth_at(self, t: float) -> Truth:
        for truth in reversed(self.history):
            if truth.at <= t:
                return truth
        return self.history[0]


def _book_price(profile: BookProfile, probability: float) -> tuple[Decimal, int]:
    """The book's price for a fair probability, margin included, in its own format."""
    implied = min(0.985, probability * (1 + profile.margin))
    d = Decimal(repr(1 / implied))
    if not profile.american:
        d = d.quantize(Decimal("0.001"))
        if d <= Decimal("1.001"):
            d = Decimal("1.001")
        return pricing.quantize_odds(d), pricing.decimal_to_american(d)
    american = pricing.decimal_to_american(d)
    step = 5 if abs(american) >= 100 else 1
    american = int(round(american / step) * step)
    if -100 < american < 100:
        american = 100 if american >= 0 else -105
    return pricing.quantize_odds(pricing.american_to_decimal(american)), american


class Simulator:
    def __init__(
        self,
        *,
        events: int = 10,
        start_within: tuple[float, float] = (120.0, 480.0),
        game_seconds: float = 240.0,
        seed: int | None = None,
        books: list[BookProfile] | None = None,
        volatility: float = 1.0,
    ) -> None:
        self.random = random.Random(seed)
        self.target_events = events
        self.start_within = start_within
        self.game_seconds = game_seconds
        self.books = books or BOOKS
        self.volatility = volatility
        self.events: dict[int, SimEvent] = {}
        self.tick_count = 0

    # --- events ---

    @staticmethod
    def ensure_books() -> None:
        for book in BOOKS:
            services.sportsbook_upsert(
                key=book.key,
                title=book.title,
                region=book.region,
                is_sharp=book.is_sharp,
                latency_tier="fast" if book.latency <= 2 else "standard" if book.latency <= 6 else "slow",
                freshness_seconds=max(30, int(book.latency * 6) + 30),
            )

    def _adopt(self, event: Event) -> SimEvent:
        spec = SPORTS.get(event.sport.key, SPORTS["basketball_nba"])
        players = dict(spec["teams"])
        rng = self.random
        sim = SimEvent(
            event_id=event.pk,
            provider_id=event.provider_id,
            sport_key=event.sport.key,
            home=event.home_team,
            away=event.away_team,
            home_player=players.get(event.home_team, spec["teams"][0][1]),
            commence_time=event.commence_time,
            margin=rng.gauss(2.0, spec["spread_sd"] / 3),
            total=rng.gauss(spec["total"], spec["total_sd"] / 4),
            prop=rng.gauss(spec["prop"][1], spec["prop"][2] / 4),
            live_since=event.started_at if event.status == Event.Status.LIVE else None,
        )
        self.events[event.pk] = sim
        return sim

    def new_event_data(self, *, now: datetime, sport_key: str | None = None) -> EventData:
        rng = self.random
        sport_key = sport_key or rng.choice(list(SPORTS))
        spec = SPORTS[sport_key]
        home, away = rng.sample([team for team, _player in spec["teams"]], 2)
        return EventData(
            provider_id=f"{SIMULATED_PREFIX}{uuid.uuid4().hex[:16]}",
            sport_key=sport_key,
            sport_title=spec["title"],
            home_team=home,
            away_team=away,
            commence_time=now + timedelta(seconds=rng.uniform(*self.start_within)),
        )

    def _refresh_events(self, now: datetime) -> list[EventData]:
        """Adopt the open events the simulator created (its provider ids), never one from a
        real feed, a file or the admin; create new ones to keep the slate full."""
        open_events = Event.objects.select_related("sport").filter(
            status__in=[Event.Status.SCHEDULED, Event.Status.LIVE],
            provider_id__startswith=SIMULATED_PREFIX,
        )
        seen = set()
        for event in open_events:
            seen.add(event.pk)
            sim = self.events.get(event.pk) or self._adopt(event)
            if event.status == Event.Status.LIVE and sim.live_since is None:
                sim.live_since = event.started_at or now
        for gone in set(self.events) - seen:
            del self.events[gone]
        scheduled = sum(1 for e in self.events.values() if e.live_since is None)
        return [self.new_event_data(now=now) for _ in range(max(0, self.target_events - scheduled))]

    def _finish_due(self, now: datetime) -> int:
        finished = 0
        for sim in list(self.events.values()):
            if sim.live_since is None or (now - sim.live_since).total_seconds() < self.game_seconds:
                continue
            spec = SPORTS.get(sim.sport_key, SPORTS["basketball_nba"])
            margin = round(self.random.gauss(sim.margin, spec["spread_sd"]))
            total = max(abs(margin) + 2, round(self.random.gauss(sim.total, spec["total_sd"])))
            if (total + margin) % 2:
                total += 1
            home, away = (total + margin) // 2, (total - margin) // 2
            if home == away:  # no ties in the demo
                home += 1
            stat_key, _line, sd = spec["prop"]
            services.event_record_result(
                event_id=sim.event_id,
                home_score=home,
                away_score=away,
                player_stats={sim.home_player: {stat_key: max(0, round(self.random.gauss(sim.prop, sd)))}},
            )
            del self.events[sim.event_id]
            finished += 1
        return finished

    # --- prices ---

    def _walk(self, sim: SimEvent, t: float) -> None:
        rng = self.random
        v = self.volatility
        spec = SPORTS.get(sim.sport_key, SPORTS["basketball_nba"])
        sim.margin += rng.gauss(0, 0.15 * v)
        sim.total += rng.gauss(0, 0.15 * v * spec["total_sd"] / 10)
        sim.prop += rng.gauss(0, 0.004 * v * spec["prop"][1])
        sim.history.append(Truth(t, sim.margin, sim.total, sim.prop))
        for book in self.books:
            opinion = sim.opinions.setdefault(book.key, [rng.gauss(0, book.opinion) for _ in range(3)])
            for i in range(3):
                # mean-reverting opinion: a shaded line appears, then the book corrects it
                opinion[i] = 0.9 * opinion[i] + rng.gauss(0, book.opinion * 0.45 * v)

    def _book_lines(self, sim: SimEvent, book: BookProfile, t: float):
        truth = sim.truth_at(t - book.latency)
        spec = SPORTS.get(sim.sport_key, SPORTS["basketball_nba"])
        o_win, o_spread, o_total = sim.opinions[book.key]
        sd = spec["spread_sd"]
        p_home = min(0.97, max(0.03, _sigmoid(_logit(_phi(truth.margin / sd)) + o_win)))
        # the number a book hangs: the nearest half point to its view of the margin / total
        view_margin = truth.margin + o_spread * sd
        line = -math.floor(view_margin) - 0.5
        p_home_cover = min(0.97, max(0.03, 1 - _phi((-line - truth.margin) / sd)))
        view_total = truth.total + o_total * spec["total_sd"]
        total_line = math.floor(view_total) + 0.5
        p_over = min(0.97, max(0.03, 1 - _phi((total_line - truth.total) / spec["total_sd"])))
        stat_key, _prop_line, prop_sd = spec["prop"]
        prop_line = math.floor(truth.prop + o_total * prop_sd) + 0.5
        p_prop_over = min(0.97, max(0.03, 1 - _phi((prop_line - truth.prop) / prop_sd)))
        return p_home, line, p_home_cover, total_line, p_over, (stat_key, prop_line, p_prop_over)

    def quotes_for(self, sim: SimEvent, book: BookProfile, t: float, when: datetime) -> list[QuoteUpdate]:
        p_home, line, p_cover, total_line, p_over, (stat_key, prop_line, p_prop) = self._book_lines(
            sim, book, t
        )
        out: list[QuoteUpdate] = []

        def add(market, name, p, line_value=None, point=None, player=""):
            d, american = _book_price(book, p)
            key = (book.key, market, name, player)
            if sim.sent.get(key) == (d, line_value):
                return  # unchanged: a real feed sends only what moved
            sim.sent[key] = (d, line_value)
            out.append(
                QuoteUpdate(
                    event_provider_id=sim.provider_id,
                    book_key=book.key,
                    book_title=book.title,
                    market_key=market,
                    outcome_name=name,
                    price_decimal=d,
                    price_american=american,
                    last_update=when,
                    line=None if line_value is None else Decimal(repr(line_value)).quantize(Decimal("0.01")),
                    outcome_point=None if point is None else Decimal(repr(point)).quantize(Decimal("0.01")),
                    player=player,
                )
            )

        add("h2h", sim.home, p_home)
        add("h2h", sim.away, 1 - p_home)
        add("spreads", sim.home, p_cover, line, line)
        add("spreads", sim.away, 1 - p_cover, line, -line)
        add("totals", "Over", p_over, total_line, total_line)
        add("totals", "Under", 1 - p_over, total_line, total_line)
        add(stat_key, "Over", p_prop, prop_line, prop_line, sim.home_player)
        add(stat_key, "Under", 1 - p_prop, prop_line, prop_line, sim.home_player)
        return out

    def tick(self, *, now: datetime | None = None, rate: int | None = None) -> dict:
        """One step: walk, quote what changed, ingest as one batch, run the lifecycle."""
        now = now or timezone.now()
        t = now.timestamp()
        self.tick_count += 1
        new_events = self._refresh_events(now)
        updates: list[QuoteUpdate] = []
        for sim in self.events.values():
            if sim.live_since is not None or sim.commence_time <= now:
                continue  # pre-match only: books pull the board at kick-off
            self._walk(sim, t)
            for book in self.books:
                if sim.frozen_until.get(book.key, 0) > t:
                    continue
                if self.random.random() < book.stale_chance:
                    sim.frozen_until[book.key] = t + self.random.uniform(20, 120)
                    continue
                updates.extend(self.quotes_for(sim, book, t, now))
        if rate is not None and len(updates) > rate:
            updates = self.random.sample(updates, rate)
        report = IngestReport()
        if updates or new_events:
            ingest_updates(updates=updates, events=new_events, now=now, report=report)
        # starts only its own events; a real one goes live by beat's lifecycle task
        lifecycle = services.edges_lifecycle_tick(now=now, provider_prefix=SIMULATED_PREFIX)
        finished = self._finish_due(now)
        return {"report": report, "lifecycle": lifecycle, "finished": finished, "new_events": len(new_events)}


def board_counts() -> dict[str, int]:
    counts = dict.fromkeys(Edge.Kind.values, 0)
    for kind in Edge.objects.filter(status=Edge.Status.ACTIVE).values_list("kind", flat=True):
        counts[kind] += 1
    return counts
