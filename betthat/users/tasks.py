"""Celery tasks of the users app (queue "email", its own worker: a burst of owed emails never
holds up payments on "default"): thin, take ids, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from betthat.users import emails


@shared_task(
    name="betthat.users.tasks.send_notification_email_task",
    bind=True,
    acks_late=True,
    max_retries=emails.MAX_ATTEMPTS,
    ignore_result=True,
)
def send_notification_email_task(self, notification_id: int) -> bool:
    """Send one owed notification email (at most once: the service claims it first)."""
    try:
        return emails.email_notification_send(notification_id=notification_id)
    except Exception as error:  # the mail server refused or was unreachable: back off and retry
        raise self.retry(exc=error, countdown=min(600, 30 * 2**self.request.retries)) from error


@shared_task(name="betthat.users.tasks.send_due_notification_emails_task", ignore_result=True)
def send_due_notification_emails_task() -> int:
    """Every minute: enqueue the owed emails whose task never ran (broker down at commit)."""
    due = emails.email_notifications_due()
    for notification_id in due:
        send_notification_email_task.delay(notification_id)
    return len(due)
