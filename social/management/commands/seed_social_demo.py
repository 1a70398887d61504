"""Seed the social demo on top of `seed_demo`'s users (idempotent)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from betthat.users.models import User
from social import demo

DEMO_EMAILS = [
    "staff@bet-that.local",
    "reviewer@bet-that.local",
    "alice@bet-that.local",
    "bob@bet-that.local",
    "carol@bet-that.local",
]


class Command(BaseCommand):
    help = "Public profiles, follows, settled public bets and leaderboards for the demo bettors."

    def handle(self, *args, **options):
        users = list(User.objects.filter(email__in=DEMO_EMAILS).order_by("-is_staff", "email"))
        if not users:
            self.stderr.write("No demo users: run `manage.py seed_demo` first.")
            return
        demo.seed(users=users, stdout=self.stdout)
