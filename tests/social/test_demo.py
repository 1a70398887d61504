"""The demo: seed_demo (which calls social.demo) leaves the feed, the profiles and the
leaderboards non-empty, and running it again adds nothing."""

import io

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from betthat.users.models import User
from edges.simulator import Simulator
from social.models import Follow, LeaderboardRank, Profile, PublicBet

pytestmark = pytest.mark.django_db


def test_seed_demo_gives_social_something_to_show(settings, tmp_path):
    settings.BASE_DIR = tmp_path  # demo logins go to a temporary .data/
    out = io.StringIO()
    simulator = Simulator(events=8, seed=7)  # what `simulate_odds --once` does: prices to bet on
    simulator.tick()
    simulator.tick()
    call_command("seed_demo", stdout=out)
    assert "social: 3 public profiles" in out.getvalue()
    public = Profile.objects.filter(is_public=True)
    assert sorted(public.values_list("handle", "stake_visibility", "live_delay_sec")) == [
        ("alice_sharp", "exact", 60),
        ("bob_value", "rounded", 300),
        ("carol_arb", "hidden", 120),
    ]
    assert Follow.objects.count() == 5
    assert PublicBet.objects.filter(status="settled").count() >= 60
    assert LeaderboardRank.objects.filter(window="7d", metric="roi").count() == 3
    carol = User.objects.get(email="carol@bet-that.local")
    client = APIClient()
    client.force_authenticate(carol)
    assert len(client.get("/api/v1/feed/").json()["results"]) == 20
    before = (PublicBet.objects.count(), Follow.objects.count())
    call_command("seed_social_demo", stdout=io.StringIO())
    assert (PublicBet.objects.count(), Follow.objects.count()) == before
