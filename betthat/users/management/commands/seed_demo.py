"""Create the demo data once: a staff user, a few bettors, then each app's own demo data.

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

from betthat.users.models import User

DEMO_USERS = [
    ("staff@bet-that.local", "Sam Staff", True),
    # A second staff member: what one staff member grants above the threshold waits for another.
    ("reviewer@bet-that.local", "Rita Reviewer", True),
    ("alice@bet-that.local", "Alice Sharp", False),
    ("bob@bet-that.local", "Bob Value", False),
    ("carol@bet-that.local", "Carol Arb", False),
]
DEMO_APPS = ["edges", "wallet", "betting", "social", "chat"]


class Command(BaseCommand):
    help = "Create demo users and data (idempotent) and print the demo logins."

    def handle(self, *args, **options):
        logins_file = Path(settings.BASE_DIR) / ".data" / "demo-logins.json"
        logins_file.parent.mkdir(parents=True, exist_ok=True)
        logins = json.loads(logins_file.read_text()) if logins_file.exists() else {}
        users = []
        with transaction.atomic():
            for email, name, is_staff in DEMO_USERS:
                user = User.all_objects.filter(email=email).first()
                if user is None:
                    password = logins.get(email) or secrets.token_urlsafe(9)
                    user = User.objects.create_user(
                        email=email,
                        password=password,
                        name=name,
                        is_staff=is_staff,
                        is_superuser=is_staff,
                        status=User.Status.ACTIVE,
                        verification_level=User.VerificationLevel.IDENTITY,
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
        for email, _name, is_staff in DEMO_USERS:
            role = "staff, admin at /admin/" if is_staff else "bettor"
            self.stdout.write(f"  {email:<24} password: {logins.get(email, '(set before)')}   ({role})")
