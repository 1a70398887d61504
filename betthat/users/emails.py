"""Notification emails: owed in the event's transaction, sent once by a worker after commit.

    email_notification_queue(user_id=, kind=, dedupe_key=, context=)   # inside the event's transaction
    email_notification_send(notification_id=)                          # the Celery task's one call

What the preferences say (`betthat.users.preferences`): nothing is emailed unless
`notify_email` is on; settlement emails also need `notify_settlements`, deposit emails
`notify_deposits`. Withdrawals are emailed whenever `notify_email` is on (money leaving the
account is always worth telling). Edge alerts are emailed when the alert asks for email and
`notify_email` is on.

Exactly one email per event: the row is unique per `(user, dedupe_key)` (e.g.
`bet_settled:12`) and is inserted with ON CONFLICT DO NOTHING, so a retried outbox handler
owes nothing new; the sender claims the row with a conditional update (pending -> sending)
before talking to the mail server, so a task delivered twice sends once. A send that fails
puts the row back to pending and the task retries; after `MAX_ATTEMPTS` it is marked failed
(visible in the admin). A worker killed between the mail server's acceptance and the
"sent" mark leaves the row in `sending`: it is not retried (at most once, never twice).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from betthat.users import preferences
from betthat.users.models import EmailNotification, User

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
UNSUBSCRIBE_SALT = "betthat.users.emails.unsubscribe"
Kind = EmailNotification.Kind


def wants_email(stored_preferences: Any, kind: str) -> bool:
    """Whether a user with these stored preferences gets an email of this kind."""
    prefs = preferences.read(stored_preferences)
    if not prefs.notify_email:
        return False
    if kind == Kind.BET_SETTLED:
        return prefs.notify_settlements
    if kind == Kind.DEPOSIT:
        return prefs.notify_deposits
    return True


def email_notification_queue_many(*, kind: str, items: list[tuple[int, str, dict[str, Any]]]) -> list[int]:
    """Owe one email per `(user_id, dedupe_key, context)` whose user wants this kind, in the
    caller's transaction; the send task is enqueued after commit. Returns the new rows' ids
    (an event already owed an email adds nothing)."""
    if not items:
        return []
    stored = dict(
        User.all_objects.filter(pk__in={user_id for user_id, _key, _context in items}, is_active=True)
        .exclude(email="")
        .values_list("pk", "preferences")
    )
    rows = [
        EmailNotification(user_id=user_id, kind=kind, dedupe_key=key[:120], context=context)
        for user_id, key, context in items
        if user_id in stored and wants_email(stored[user_id], kind)
    ]
    if not rows:
        return []
    keys = [(row.user_id, row.dedupe_key) for row in rows]
    existing = set(
        EmailNotification.objects.filter(
            user_id__in={user_id for user_id, _ in keys}, dedupe_key__in={key for _, key in keys}
        ).values_list("user_id", "dedupe_key")
    )
    EmailNotification.objects.bulk_create(
        [row for row in rows if (row.user_id, row.dedupe_key) not in existing], ignore_conflicts=True
    )
    # ignore_conflicts gives no ids back: read the rows this transaction owes and has not sent
    ids = list(
        EmailNotification.objects.filter(
            user_id__in={user_id for user_id, _ in keys},
            dedupe_key__in={key for _, key in keys},
            status=EmailNotification.Status.PENDING,
            attempts=0,
        ).values_list("pk", flat=True)
    )
    _enqueue_on_commit(ids)
    return ids


def email_notification_queue(
    *, user_id: int, kind: str, dedupe_key: str, context: dict[str, Any]
) -> int | None:
    """`email_notification_queue_many` for one email; its id, or None when none is owed."""
    ids = email_notification_queue_many(kind=kind, items=[(user_id, dedupe_key, context)])
    return ids[0] if ids else None


def _enqueue_on_commit(ids: list[int]) -> None:
    if not ids:
        return

    def send() -> None:
        from betthat.users.tasks import send_notification_email_task

        for notification_id in ids:
            try:
                send_notification_email_task.delay(notification_id)
            except Exception:  # the periodic sweep sends it within a minute
                logger.warning("could not enqueue email %s", notification_id, exc_info=True)

    transaction.on_commit(send)


def unsubscribe_token(user: User) -> str:
    """The user's unsubscribe token: their id signed with SECRET_KEY and this link's own
    salt. No timestamp: one stable link per user that keeps working in old emails (all it
    can do is turn notification emails off)."""
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign_object(user.pk)


def user_from_unsubscribe_token(token: str) -> User | None:
    try:
        user_id = signing.Signer(salt=UNSUBSCRIBE_SALT).unsign_object(token)
    except (signing.BadSignature, ValueError):
        return None
    return User.objects.filter(pk=user_id).first() if isinstance(user_id, int) else None


def _subject(notification: EmailNotification) -> str:
    data = notification.context
    kind = notification.kind
    if kind == Kind.BET_SETTLED:
        return f"Bet #{data.get('bet_id')} settled: {str(data.get('result', '')).replace('_', ' ')}"
    if kind in (Kind.DEPOSIT, Kind.WITHDRAWAL):
        word = "Deposit" if kind == Kind.DEPOSIT else "Withdrawal"
        outcome = "completed" if data.get("succeeded") else "failed"
        return f"{word} of {data.get('amount')} {data.get('currency')} {outcome}"
    count = len(data.get("edges", [])) + int(data.get("more", 0))
    return f"{count} new edge matches your alerts" if count == 1 else f"{count} new edges match your alerts"


def render_notification(notification: EmailNotification) -> EmailMultiAlternatives:
    """The email (text and HTML bodies, a one-click unsubscribe link) for a notification."""
    user = notification.user
    site = settings.SITE_URL.rstrip("/")
    unsubscribe_url = site + reverse("users:email-unsubscribe", args=[unsubscribe_token(user)])
    context = {
        "kind": notification.kind,
        "data": notification.context,
        "site_url": site,
        "preferences_url": site + reverse("users:settings"),
        "unsubscribe_url": unsubscribe_url,
        "subject": _subject(notification),
    }
    message = EmailMultiAlternatives(
        subject=settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + context["subject"],
        body=render_to_string("users/email/notification.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
        headers={
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach_alternative(render_to_string("users/email/notification.html", context), "text/html")
    return message


def email_notification_send(*, notification_id: int) -> bool:
    """Send one owed email, at most once. True when this call sent it; False when it was
    already sent, claimed by another worker, failed for good or is no longer wanted. Raises
    the mail server's error (the row is back to pending) so the task retries."""
    now = timezone.now()
    claimed = EmailNotification.objects.filter(
        pk=notification_id, status=EmailNotification.Status.PENDING, attempts__lt=MAX_ATTEMPTS
    ).update(status=EmailNotification.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return False
    notification = EmailNotification.objects.select_related("user").get(pk=notification_id)
    if not notification.user.is_active or not wants_email(notification.user.preferences, notification.kind):
        # turned off (or unsubscribed) between the event and the send: honour the latest choice
        EmailNotification.objects.filter(pk=notification_id).update(
            status=EmailNotification.Status.FAILED, last_error="no longer wanted"
        )
        return False
    try:
        render_notification(notification).send()
    except Exception as error:
        status = (
            EmailNotification.Status.FAILED
            if notification.attempts >= MAX_ATTEMPTS
            else EmailNotification.Status.PENDING
        )
        EmailNotification.objects.filter(pk=notification_id).update(
            status=status, last_error=repr(error)[:2000]
        )
        raise
    EmailNotification.objects.filter(pk=notification_id).update(
        status=EmailNotification.Status.SENT, sent_at=timezone.now(), last_error=""
    )
    return True


def email_notifications_due(*, older_than: timedelta = timedelta(minutes=1)) -> list[int]:
    """Pending emails whose task never ran (the broker was down at commit, or a retry was
    lost): the periodic sweep enqueues them again."""
    return list(
        EmailNotification.objects.filter(
            status=EmailNotification.Status.PENDING,
            created_at__lte=timezone.now() - older_than,
            attempts__lt=MAX_ATTEMPTS,
        )
        .order_by("id")
        .values_list("pk", flat=True)[:500]
    )


@transaction.atomic
def user_email_unsubscribe(*, user: User) -> User:
    """Turn off every notification email (`notify_email`), keeping the other preferences."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    locked.preferences = preferences.merge(locked.preferences, {"notify_email": False})
    locked.save(update_fields=["preferences", "updated_at"])
    return locked
