"""KYC through the configured provider (`settings.KYC_CHECK`).

The hook named by `KYC_CHECK` is called as a gate, `hook(user, amount_minor=) -> bool`, by
`compliance.check_kyc` (placement). A provider that also checks identities offers `name`,
`submit(user_id=, details=) -> KycSubmission` and `parse_webhook(body=, headers=) -> KycEvent`.
The built-in sandbox (`sandbox_kyc`, the default) does both:

| document number | decision |
|---|---|
| 000000000 | approved: identity verified (level 2) |
| 000000001 | approved: identity and address verified (level 3) |
| 999999999 | rejected (`document_unreadable`) |
| anything else | rejected (`not_a_test_document`) |

Its decision arrives as a webhook signed like the payment sandbox's
(`KYC-Signature: t=<unix>,v1=<HMAC-SHA256("t.body")>` with `KYC_WEBHOOK_SECRET`, 300 s
tolerance), delivered in-process after the submission commits, through the same receiving
function as `POST /api/v1/kyc/webhooks/<provider>/`.

Without `DEBUG` the sandbox takes no submission (503 `kyc_unavailable`) unless
`SANDBOX_ALLOWED_WITHOUT_DEBUG` is set (`KYC_SANDBOX_ENABLED`, decided when the settings load), and without `KYC_WEBHOOK_SECRET` (no default outside
`DEBUG`) no KYC webhook verifies: a production site that forgot to set `KYC_CHECK` verifies
nobody with test documents.

Personal data: the identity details go to the provider and nowhere else. We keep the
provider's reference, the decision, the level and the document's country; never the name,
date of birth or document number, and nothing here logs them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from betthat.core.errors import ApplicationError, NotFound
from betthat.users.models import KYCStatus, User
from betthat.users.services import _audit_staff_action

WEBHOOK_TOLERANCE_SECONDS = 300
SIGNATURE_HEADER = "KYC-Signature"
MAX_WEBHOOK_BYTES = 16 * 1024
COUNTRY = re.compile(r"[A-Z]{2}")
DOCUMENT = re.compile(r"[A-Z0-9]{4,32}")


@dataclass(frozen=True)
class IdentityDetails:
    """What a bettor submits. Sent to the provider; never stored or logged."""

    full_name: str
    date_of_birth: date
    country: str
    document_number: str

    def __repr__(self) -> str:  # never print identity data by accident
        return f"IdentityDetails(country={self.country!r})"


@dataclass(frozen=True)
class KycSubmission:
    reference: str
    # What a sandbox provider will send back (delivered after commit); a real provider: [].
    events: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class KycEvent:
    event_id: str
    reference: str
    outcome: str  # "approved" or "rejected"
    level: int = 0
    reason: str = ""


class KycProvider(Protocol):
    name: str

    def __call__(self, user: User, *, amount_minor: int = 0) -> bool: ...

    def submit(self, *, user_id: int, details: IdentityDetails) -> KycSubmission: ...

    def parse_webhook(self, *, body: bytes, headers: Mapping[str, str]) -> KycEvent: ...


def _invalid_signature(message: str) -> ApplicationError:
    return ApplicationError(message, code="invalid_signature", status=401)


def _parse_error(message: str) -> ApplicationError:
    return ApplicationError(message, code="parse_error", status=400)


class SandboxKyc:
    """The built-in identity provider: decides from the documented test document numbers."""

    name = "sandbox"
    TEST_DOCUMENTS: dict[str, tuple[str, int, str]] = {
        "000000000": ("approved", User.VerificationLevel.IDENTITY, ""),
        "000000001": ("approved", User.VerificationLevel.FULL, ""),
        "999999999": ("rejected", 0, "document_unreadable"),
    }

    def __call__(self, user: User, *, amount_minor: int = 0) -> bool:
        # The per-action gate is the verification level (compliance.check_capability).
        return True

    def submit(self, *, user_id: int, details: IdentityDetails) -> KycSubmission:
        # Fail closed: a production site (DEBUG off) never verifies anyone with test documents
        # unless the sandbox is explicitly allowed there (as for payments, wallet.E001).
        if not settings.KYC_SANDBOX_ENABLED:
            raise ApplicationError(
                "Identity checks are not available at the moment.", code="kyc_unavailable", status=503
            )
        reference = f"sbx_kyc_{uuid.uuid4().hex[:24]}"
        outcome, level, reason = self.TEST_DOCUMENTS.get(
            details.document_number, ("rejected", 0, "not_a_test_document")
        )
        event = {
            "id": f"evt_kyc_{uuid.uuid4().hex}",
            "type": f"identity.verification.{outcome}",
            "created": int(time.time()),
            "data": {"reference": reference, "level": level, "reason": reason},
        }
        return KycSubmission(reference=reference, events=[event])

    @staticmethod
    def sign(body: bytes, *, timestamp: int | None = None, secret: str | None = None) -> str:
        timestamp = int(time.time()) if timestamp is None else timestamp
        key = (settings.KYC_WEBHOOK_SECRET if secret is None else secret).encode()
        digest = hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        return f"t={timestamp},v1={digest}"

    def verify(self, body: bytes, header: str) -> None:
        if not settings.KYC_WEBHOOK_SECRET:
            raise _invalid_signature("KYC webhooks are not configured (no KYC_WEBHOOK_SECRET).")
        parts: dict[str, list[str]] = {}
        for item in (header or "").split(","):
            name, _, value = item.strip().partition("=")
            parts.setdefault(name, []).append(value)
        try:
            timestamp = int(parts["t"][0])
        except (KeyError, ValueError, IndexError):
            raise _invalid_signature("The webhook signature header is missing or malformed.") from None
        if abs(time.time() - timestamp) > WEBHOOK_TOLERANCE_SECONDS:
            raise _invalid_signature("The webhook timestamp is outside the 300-second tolerance.")
        expected = self.sign(body, timestamp=timestamp).split("v1=", 1)[1]
        if not any(hmac.compare_digest(expected, candidate) for candidate in parts.get("v1", [])):
            raise _invalid_signature("The webhook signature does not match.")

    def parse_webhook(self, *, body: bytes, headers: Mapping[str, str]) -> KycEvent:
        self.verify(body, headers.get(SIGNATURE_HEADER, ""))
        try:
            event = json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise _parse_error("The webhook body is not valid JSON.") from None
        data = event.get("data") if isinstance(event, dict) else None
        if not isinstance(data, dict):
            raise _parse_error("The webhook body is not a KYC event.")
        event_id, kind, reference = event.get("id"), event.get("type"), data.get("reference")
        level, reason = data.get("level", 0), data.get("reason", "")
        if not all(isinstance(v, str) and 0 < len(v) <= 128 for v in (event_id, kind, reference)):
            raise _parse_error("The event's id, type or reference is missing or too long.")
        if not isinstance(level, int) or isinstance(level, bool) or level not in (0, 2, 3):
            raise _parse_error("The event's level is not a verification level.")
        if not isinstance(reason, str) or len(reason) > 200:
            raise _parse_error("The event's reason is not a short string.")
        outcome = {
            "identity.verification.approved": "approved",
            "identity.verification.rejected": "rejected",
        }.get(str(kind), "ignored")
        if outcome == "approved" and level < User.VerificationLevel.IDENTITY:
            raise _parse_error("An approval must grant identity verification or more.")
        return KycEvent(
            event_id=str(event_id), reference=str(reference), outcome=outcome, level=level, reason=reason
        )

    def deliver(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Send `events` to our receiving function, signed now, as the provider would."""
        results = []
        for event in events:
            body = json.dumps(event, sort_keys=True).encode()
            results.append(
                kyc_webhook_receive(
                    provider=self.name, body=body, headers={SIGNATURE_HEADER: self.sign(body)}
                )
            )
        return results


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


sandbox_kyc = SandboxKyc()


def kyc_provider() -> KycProvider:
    """The configured provider; 503 `kyc_unavailable` when the hook only gates."""
    hook = import_string(settings.KYC_CHECK)
    if not all(hasattr(hook, name) for name in ("name", "submit", "parse_webhook")):
        raise ApplicationError(
            "Identity checks are not available at the moment.", code="kyc_unavailable", status=503
        )
    provider: KycProvider = hook
    return provider


def validate_identity(
    *, full_name: str, date_of_birth: date, country: str, document_number: str
) -> IdentityDetails:
    """The submitted details, checked; 400 `validation_error` naming the fields (never echoing
    their values)."""
    errors: dict[str, list[str]] = {}
    full_name = " ".join(str(full_name).split())
    country = str(country).strip().upper()
    document_number = re.sub(r"[\s-]", "", str(document_number)).upper()
    if not 2 <= len(full_name) <= 150:
        errors["full_name"] = ["Enter your full name as on the document (2 to 150 characters)."]
    today = timezone.now().date()
    age = (
        today.year
        - date_of_birth.year
        - ((today.month, today.day) < (date_of_birth.month, date_of_birth.day))
    )
    if not 18 <= age <= 120:
        errors["date_of_birth"] = ["You must be 18 or older."]
    if not COUNTRY.fullmatch(country):
        errors["country"] = ["Use the two-letter country code of the document (e.g. GB)."]
    if not DOCUMENT.fullmatch(document_number):
        errors["document_number"] = ["Enter the document number: 4 to 32 letters and digits."]
    if errors:
        raise ApplicationError("Check the identity details.", code="validation_error", details=errors)
    return IdentityDetails(full_name, date_of_birth, country, document_number)


def kyc_status_for_user(*, user: User) -> KYCStatus | None:
    return KYCStatus.objects.filter(user=user).first()


def kyc_submit(*, user: User, details: IdentityDetails) -> KYCStatus:
    """Send the bettor's identity details to the provider and record its reference (pending).
    409 `already_verified` at identity level or above, 409 `kyc_pending` while a check runs.
    The provider call runs outside any transaction; its decision comes by webhook."""
    if user.verification_level >= User.VerificationLevel.IDENTITY:
        raise ApplicationError("Your identity is already verified.", code="already_verified", status=409)
    current = kyc_status_for_user(user=user)
    if current is not None and current.status == KYCStatus.Status.PENDING:
        raise ApplicationError("Your identity check is still running.", code="kyc_pending", status=409)
    provider = kyc_provider()
    submission = provider.submit(user_id=user.pk, details=details)
    with transaction.atomic():
        status, _ = KYCStatus.objects.update_or_create(
            user=user,
            defaults={
                "provider": provider.name,
                "provider_reference": submission.reference,
                "status": KYCStatus.Status.PENDING,
                "level": 0,
                "reason": "",
                "country": details.country,
                "submitted_at": timezone.now(),
                "decided_at": None,
                "overridden_by": None,
            },
        )
        if submission.events and hasattr(provider, "deliver"):
            deliver = provider.deliver
            transaction.on_commit(lambda: deliver(submission.events))
    return status


def _record_event(*, provider: str, event: KycEvent) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO users_kycwebhookevent (provider, event_id, reference, outcome, received_at)
            VALUES (%s, %s, %s, '', now())
            ON CONFLICT (provider, event_id) DO NOTHING
            RETURNING id
            """,
            [provider, event.event_id, event.reference],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def kyc_webhook_receive(*, provider: str, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
    """Verify and apply one provider event, once per event id; returns {event_id, outcome,
    duplicate}. 404 for a provider that is not the configured one, 401 `invalid_signature`,
    400 `parse_error`, 413 `payload_too_large` (nothing recorded)."""
    if len(body) > MAX_WEBHOOK_BYTES:
        raise ApplicationError("The webhook body is too large.", code="payload_too_large", status=413)
    gateway = kyc_provider() if provider else None
    if gateway is None or gateway.name != provider:
        raise NotFound(f"Unknown KYC provider {provider!r}.")
    event = gateway.parse_webhook(body=body, headers=headers)
    from betthat.users.models import KYCWebhookEvent

    with transaction.atomic():
        row = _record_event(provider=provider, event=event)
        if row is None:
            return {"event_id": event.event_id, "outcome": "duplicate", "duplicate": True}
        status = (
            KYCStatus.objects.select_for_update()
            .filter(provider=provider, provider_reference=event.reference)
            .first()
        )
        if status is None:
            outcome = "ignored: unknown reference"
        elif status.status != KYCStatus.Status.PENDING:
            outcome = f"already {status.status}"
        elif event.outcome == "ignored":
            outcome = "ignored"
        else:
            outcome = _decide(status=status, outcome=event.outcome, level=event.level, reason=event.reason)
        KYCWebhookEvent.objects.filter(pk=row).update(outcome=outcome[:64])
    return {"event_id": event.event_id, "outcome": outcome, "duplicate": False}


def _set_level(*, user_id: int, level: int, actor: User | None, reason: str, source: str) -> None:
    fresh = User.all_objects.select_for_update().get(pk=user_id)
    before = fresh.verification_level
    fresh.verification_level = level
    fields = ["verification_level", "updated_at"]
    if level >= User.VerificationLevel.EMAIL and fresh.status == User.Status.PENDING_VERIFICATION:
        fresh.status = User.Status.ACTIVE
        fields.append("status")
    fresh.save(update_fields=fields)
    _audit_staff_action(
        "kyc_level", user=fresh, actor=actor, reason=reason, source=source, level_from=before, level_to=level
    )


def _decide(*, status: KYCStatus, outcome: str, level: int, reason: str) -> str:
    status.status = outcome
    status.level = level if outcome == "approved" else 0
    status.reason = reason[:200]
    status.decided_at = timezone.now()
    status.save(update_fields=["status", "level", "reason", "decided_at"])
    user = User.all_objects.get(pk=status.user_id)
    if outcome == "approved" and level > user.verification_level:
        _set_level(
            user_id=user.pk,
            level=level,
            actor=None,
            reason="KYC approved",
            source=f"{status.provider} KYC webhook",
        )
    return outcome


def kyc_override(*, user: User, actor: User, status: str, level: int, reason: str) -> KYCStatus:
    """Staff set the KYC decision by hand (`users.override_kyc`, a reason, audited): approve
    at identity (2) or full (3) level, or reject (the user's level falls back to at most
    email-verified, so withdrawals need a new check)."""
    if not actor.has_perm("users.override_kyc"):
        raise ApplicationError("You may not override KYC.", code="permission_denied", status=403)
    if not reason.strip():
        raise ApplicationError("A reason is required.", code="reason_required")
    if status == KYCStatus.Status.APPROVED and level not in (
        User.VerificationLevel.IDENTITY,
        User.VerificationLevel.FULL,
    ):
        raise ApplicationError("Approve at identity (2) or full (3) level.", code="validation_error")
    if status not in (KYCStatus.Status.APPROVED, KYCStatus.Status.REJECTED):
        raise ApplicationError("Approve or reject.", code="validation_error")
    with transaction.atomic():
        record, _ = KYCStatus.objects.select_for_update().get_or_create(
            user=user,
            defaults={"provider": "staff", "provider_reference": f"staff_{uuid.uuid4().hex[:24]}"},
        )
        record.status = status
        record.level = level if status == KYCStatus.Status.APPROVED else 0
        record.reason = f"staff: {reason.strip()}"[:200]
        record.decided_at = timezone.now()
        record.overridden_by = actor
        record.save()
        new_level = (
            level
            if status == KYCStatus.Status.APPROVED
            else min(User.all_objects.get(pk=user.pk).verification_level, User.VerificationLevel.EMAIL)
        )
        _set_level(
            user_id=user.pk, level=new_level, actor=actor, reason=reason.strip(), source="admin override"
        )
        user.verification_level = new_level
    return record
