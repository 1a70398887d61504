"""Create the demo data once: the demo accounts (`betthat/users/demo.py`), then each app's own demo data.

Each app may offer `<app>/demo.py` with `seed(*, users, stdout)`; it must be idempotent.
Logins are generated on first run, kept in .data/demo-logins.json and printed every time.
"""

from __future__ import annotations

import importlib
import json
import secrets
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from betthat.users.demo import DEMO_USERS
from betthat.users.models import User

# The users app's demo (a staff freeze, KYC decisions, a time zone) runs last: it freezes an
# account the earlier apps have funded and given a bet.
DEMO_APPS = ["edges", "wallet", "betting", "social", "chat", "betthat.users"]


class Command(BaseCommand):
    help = "Create demo users and data (idempotent) and print the demo logins."

    def handle(self, *args, **options):
        logins_file = Path(settings.BASE_DIR) / ".data" / "demo-logins.json"
        logins_file.parent.mkdir(parents=True, exist_ok=True)
        logins = json.loads(logins_file.read_text()) if logins_file.exists() else {}
        users = []
        with transaction.atomic():
            for demo in DEMO_USERS:
                email = demo.email
                user = User.all_objects.filter(email=email).first()
                if user is None:
                    password = logins.get(email) or secrets.token_urlsafe(9)
                    user = User.objects.create_user(
                        email=email,
                        password=password,
                        name=demo.name,
                        is_staff=demo.is_staff,
                        is_superuser=demo.is_staff,
                        status=User.Status.ACTIVE,
                        verification_level=demo.level,
                    )
                    from allauth.account.models import EmailAddress

                    EmailAddress.objects.get_or_create(
                        user=user, email=email, defaults={"verified": True, "primary": True}
                    )
                    logins[email] = password
                users.append(user)
        logins_file.write_text(json.dumps(logins, indent=2))
        for app in DEMO_APPS:
            try:
                module = importlib.import_module(f"{app}.demo")
            except ModuleNotFoundError as error:
                if error.name != f"{app}.demo":
                    raise
                continue
            module.seed(users=users, stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo logins (also in .data/demo-logins.json):"))
        for demo in DEMO_USERS:
            password = logins.get(demo.email, "(set before)")
            self.stdout.write(f"  {demo.email:<24} password: {password:<14} {demo.shows}")
