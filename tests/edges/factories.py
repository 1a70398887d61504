"""Factories and helpers for the edges tests."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import factory

from edges.models import Event, Sport, Sportsbook

DATA = Path(__file__).parent / "data"
FILE_TIME = datetime(2030, 1, 1, 12, 0, 30, tzinfo=UTC)  # 30 s after the fixture files' prices


def load(name: str):
    return json.loads((DATA / name).read_text())


class SportsbookFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Sportsbook
        django_get_or_create = ("key",)

    key = factory.Sequence(lambda n: f"book{n}")
    title = factory.LazyAttribute(lambda o: o.key.title())
    freshness_seconds = 60


class SportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Sport
        django_get_or_create = ("key",)

    key = "americanfootball_nfl"
    title = "NFL"


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    provider_id = factory.Sequence(lambda n: f"evt-{n}")
    sport = factory.SubFactory(SportFactory)
    home_team = "Kansas City Chiefs"
    away_team = "Los Angeles Chargers"
    commence_time = factory.LazyFunction(lambda: datetime.now(UTC) + timedelta(hours=2))


def books(freshness: int = 60) -> dict[str, Sportsbook]:
    return {
        "pinnacle": SportsbookFactory(
            key="pinnacle", title="Pinnacle", is_sharp=True, freshness_seconds=freshness
        ),
        "draftkings": SportsbookFactory(key="draftkings", title="DraftKings", freshness_seconds=freshness),
        "fanduel": SportsbookFactory(key="fanduel", title="FanDuel", freshness_seconds=freshness),
    }
