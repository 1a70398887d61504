"""KYC and geo checks: pluggable hooks. Settings name the callables (KYC_CHECK,
GEO_CHECK); the defaults allow, GEO_DENY_LIST blocks regions for tests and staff. The
KYC_CHECK hook may also be an identity provider taking submissions and webhooks
(betthat/users/kyc.py; the default sandbox one does). Frozen accounts: `check_not_frozen`
and the ledger trigger's SQLSTATE (docs/wallet.md "Frozen accounts").

The geo check decides from the client's address (betthat.core.client_ip: the socket's, or
the one our trusted proxy vouches for), never from a region the client sends: a header such
as `X-Geo-Region` is the client's to write. `GEO_CHECK(user, *, client_ip) -> bool` is the
provider hook (a GeoIP database or a vendor's API). The default, `allow_geo`, maps addresses
to regions with `GEO_IP_REGIONS` ({network: region}) and refuses a region, network, user
email or user id listed in `GEO_DENY_LIST`.

What each verification level may do (`CAPABILITY_LEVELS`, enforced by `check_capability` in
the services, so pages, API, admin and tasks are held to it alike; 403
`verification_required` otherwise):

| action   | needs                    | level | enforced in |
|----------|--------------------------|-------|-------------|
| deposit  | email verified           | 1     | `wallet.services.deposits.wallet_deposit_start` |
| bet      | email verified           | 1     | `betting.services` (placement) |
| withdraw | identity verified (KYC)  | 2     | `wallet.services.withdrawals.wallet_withdraw` |
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils.module_loading import import_string

from betthat.core.errors import ApplicationError

if TYPE_CHECKING:
    from betthat.users.models import User


def allow_kyc(user: User, *, amount_minor: int = 0) -> bool:
    return True


def region_for_ip(client_ip: str) -> str:
    """The region of `GEO_IP_REGIONS` whose network holds `client_ip` ("" if none, or if the
    address is not an address)."""
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return ""
    for network, region in settings.GEO_IP_REGIONS.items():
        try:
            if address in ipaddress.ip_network(network, strict=False):
                return str(region)
        except ValueError:
            continue
    return ""


def allow_geo(user: User, *, client_ip: str = "") -> bool:
    denied = set(settings.GEO_DENY_LIST)
    if not denied:
        return True
    if user.email in denied or str(user.pk) in denied:
        return False
    region = region_for_ip(client_ip)
    if region and region in denied:
        return False
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return True
    for entry in denied:
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return False
        except ValueError:
            continue
    return True


# The SQLSTATE of the ledger trigger that refuses a debit of a frozen user's cash
# (wallet migration 0007); services turn it into `account_frozen`.
FROZEN_SQLSTATE = "BTFRZ"


def account_frozen(*, user_id: int | None = None) -> ApplicationError:
    """403 `account_frozen`: staff (or a payment dispute) froze this account's money."""
    return ApplicationError(
        "This account is frozen: its money cannot be moved until staff lift the freeze.",
        code="account_frozen",
        status=403,
        details={"user_id": user_id} if user_id is not None else {},
    )


def is_frozen_refusal(error: BaseException) -> bool:
    """True for a database error raised by the frozen-account ledger trigger."""
    cause = error.__cause__ or error
    return getattr(cause, "sqlstate", None) == FROZEN_SQLSTATE


def check_not_frozen(user: User) -> None:
    """Refuse early (a clear 403) what the ledger trigger would refuse anyway."""
    if user.frozen_at is not None:
        raise account_frozen(user_id=user.pk)


def check_kyc(user: User, *, amount_minor: int = 0) -> None:
    if not import_string(settings.KYC_CHECK)(user, amount_minor=amount_minor):
        raise ApplicationError("Identity verification is required first.", code="kyc_required", status=403)


def check_geo(user: User, *, client_ip: str) -> None:
    """Refuse (403 `geo_blocked`) where GEO_CHECK says no for the client's address."""
    if not import_string(settings.GEO_CHECK)(user, client_ip=client_ip):
        raise ApplicationError("Betting is not available in your location.", code="geo_blocked", status=403)


# What each verification level may do. The services call `check_capability` before the
# action, so every way in (pages, API, admin, tasks) is held to the same table; docs/security.md
# shows it to people.
CAPABILITY_LEVELS: dict[str, int] = {
    "deposit": 1,  # User.VerificationLevel.EMAIL
    "bet": 1,  # EMAIL
    "withdraw": 2,  # User.VerificationLevel.IDENTITY
}


def check_capability(user: User, action: str) -> None:
    """Refuse `action` (a key of CAPABILITY_LEVELS) to a user below its verification level."""
    from betthat.users.models import User

    required = CAPABILITY_LEVELS[action]  # a KeyError here is a programming error, not input
    if user.verification_level < required:
        label = User.VerificationLevel(required).label
        raise ApplicationError(
            f"Your account needs '{label}' before you can {action}.",
            code="verification_required",
            status=403,
            details={"action": action, "required_level": required, "level": user.verification_level},
        )
