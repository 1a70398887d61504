"""The demo accounts (`seed_demo` creates them) and the users app's own demo data.

Each account beyond the three community bettors shows one issue-20 feature, set up through
the same services a person would go through, by the app that owns the feature:

| account | shows | set up by |
|---|---|---|
| alice | a matched edge alert, times in America/New_York | `edges/demo.py`, `seed` here |
| dave | a refund and a dispute won (receivable used) | `wallet/demo.py` |
| erin | frozen by staff, with a reason (audited) | `seed` here (`user_freeze`) |
| cole | closed his own account, balance paid out first | `betting/demo.py` (`account_close`) |
| kim | KYC approved by the sandbox provider | `seed` here (`kyc_submit`) |
| pat | KYC declined by the sandbox provider | `seed` here (`kyc_submit`) |
| omar | KYC approved by a staff override | `seed` here (`kyc_override`) |

Idempotent: each step looks for what it would leave (a freeze, a KYC record, a zone) first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from betthat.users.models import User

LEVEL_EMAIL = User.VerificationLevel.EMAIL
LEVEL_IDENTITY = User.VerificationLevel.IDENTITY


@dataclass(frozen=True)
class DemoUser:
    email: str
    name: str
    is_staff: bool = False
    # KYC's demo accounts start at email-verified: the provider (or staff) raises them.
    level: int = LEVEL_IDENTITY
    shows: str = ""


TIME_ZONE_EMAIL = "alice@bet-that.local"
TIME_ZONE = "America/New_York"
ALERTS_EMAIL = "alice@bet-that.local"
REVERSALS_EMAIL = "dave@bet-that.local"
FROZEN_EMAIL = "erin@bet-that.local"
CLOSED_EMAIL = "cole@bet-that.local"
KYC_APPROVED_EMAIL = "kim@bet-that.local"
KYC_DECLINED_EMAIL = "pat@bet-that.local"
KYC_OVERRIDE_EMAIL = "omar@bet-that.local"

DEMO_USERS = [
    DemoUser("staff@bet-that.local", "Sam Staff", is_staff=True, shows="staff, admin at /admin/"),
    # A second staff member: what one staff member grants above the threshold waits for another.
    DemoUser("reviewer@bet-that.local", "Rita Reviewer", is_staff=True, shows="staff, admin at /admin/"),
    # The first three bettors are the community: public profiles, history, follows, chat.
    DemoUser(
        "alice@bet-that.local",
        "Alice Sharp",
        shows="bettor; an edge alert with hits (/edges/alerts/), times in New York",
    ),
    DemoUser("bob@bet-that.local", "Bob Value", shows="bettor"),
    DemoUser("carol@bet-that.local", "Carol Arb", shows="bettor"),
    DemoUser(REVERSALS_EMAIL, "Dave Disputed", shows="bettor; a refund and a dispute won (/wallet/history/)"),
    DemoUser(
        FROZEN_EMAIL, "Erin Frozen", shows="bettor frozen by staff (banner, bets and withdrawals refused)"
    ),
    DemoUser(CLOSED_EMAIL, "Cole Closed", shows="closed his own account after a payout (cannot log in)"),
    DemoUser(
        KYC_APPROVED_EMAIL, "Kim Verified", level=LEVEL_EMAIL, shows="bettor; KYC approved by the sandbox"
    ),
    DemoUser(
        KYC_DECLINED_EMAIL, "Pat Declined", level=LEVEL_EMAIL, shows="bettor; KYC declined by the sandbox"
    ),
    DemoUser(
        KYC_OVERRIDE_EMAIL, "Omar Override", level=LEVEL_EMAIL, shows="bettor; KYC approved by staff override"
    ),
]

# The accounts that show one feature each: no public handle, and they stay out of the chat.
FEATURE_EMAILS = (
    REVERSALS_EMAIL,
    FROZEN_EMAIL,
    CLOSED_EMAIL,
    KYC_APPROVED_EMAIL,
    KYC_DECLINED_EMAIL,
    KYC_OVERRIDE_EMAIL,
)

FREEZE_REASON = "Demo: source of funds under review"
KYC_OVERRIDE_REASON = "Demo: passport checked by hand after the provider timed out"
# The sandbox provider's documented test documents (betthat/users/kyc.py).
KYC_APPROVED_DOCUMENT = "000000000"
KYC_DECLINED_DOCUMENT = "999999999"


def _by_email(users: list[User], email: str) -> User | None:
    found = next((u for u in users if u.email == email), None)
    return None if found is None else User.all_objects.get(pk=found.pk)  # fresh: earlier apps acted


def _freeze(users: list[User], staff: User) -> str:
    from betthat.users.services import user_freeze

    user = _by_email(users, FROZEN_EMAIL)
    if user is None:
        return "no frozen demo account"
    if user.frozen_at is None:
        user_freeze(user=user, actor=staff, reason=FREEZE_REASON)
    return f"frozen account {user.email} (by {staff.email}: {user.frozen_reason or FREEZE_REASON})"


def _kyc(users: list[User], staff: User) -> list[str]:
    from betthat.users import kyc

    lines = []
    for email, document in (
        (KYC_APPROVED_EMAIL, KYC_APPROVED_DOCUMENT),
        (KYC_DECLINED_EMAIL, KYC_DECLINED_DOCUMENT),
    ):
        user = _by_email(users, email)
        if user is None:
            continue
        if kyc.kyc_status_for_user(user=user) is None:
            details = kyc.validate_identity(
                full_name=user.name, date_of_birth=date(1990, 1, 15), country="GB", document_number=document
            )
            # The sandbox's decision comes by its signed webhook, delivered after the commit.
            kyc.kyc_submit(user=user, details=details)
        status = kyc.kyc_status_for_user(user=user)
        if status is not None:
            lines.append(f"{email} {status.status} by the {status.provider} provider")
    user = _by_email(users, KYC_OVERRIDE_EMAIL)
    if user is not None:
        if kyc.kyc_status_for_user(user=user) is None:
            kyc.kyc_override(
                user=user,
                actor=staff,
                status="approved",
                level=User.VerificationLevel.FULL,
                reason=KYC_OVERRIDE_REASON,
            )
        lines.append(f"{user.email} approved by staff override (level {user.verification_level})")
    return lines


def _time_zone(users: list[User]) -> str:
    from betthat.users.services import user_update_settings

    user = _by_email(users, TIME_ZONE_EMAIL)
    if user is None:
        return ""
    if not user.timezone:
        user_update_settings(user=user, fields={"timezone": TIME_ZONE})
    return f"{user.email} sees times in {user.timezone}"


def seed(*, users: list[User], stdout: Any) -> None:
    staff = next((u for u in users if u.is_staff), None)
    if staff is None:
        return
    stdout.write(f"demo: {_freeze(users, staff)}")
    for line in _kyc(users, staff):
        stdout.write(f"demo: KYC {line}")
    zone = _time_zone(users)
    if zone:
        stdout.write(f"demo: time zone: {zone}")
