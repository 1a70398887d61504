"""In the browser: a bettor turns notification emails off and on in the settings, and the
unsubscribe link of a real notification email asks, then turns them off, without a login."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail

from betthat.core.outbox import relay_outbox
from betthat.users import emails
from betthat.users.models import EmailNotification, User
from tests.conftest import browser_log_in
from tests.factories import UserFactory
from tests.wallet.factories import fund_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _notify_email(user) -> bool:
    return User.objects.get(pk=user.pk).preferences["notify_email"]


def _send_owed() -> int:
    ids = EmailNotification.objects.filter(status="pending").values_list("pk", flat=True)
    return sum(emails.email_notification_send(notification_id=pk) for pk in list(ids))


def test_the_settings_checkbox_and_the_emails_unsubscribe_link(browser_page, live_server, settings):
    settings.OUTBOX_NUDGE = False
    user = UserFactory()
    page = browser_page
    browser_log_in(page, user, live_server.url)

    page.goto("/account/settings/")
    box = page.locator("input[name=notify_email]")
    assert box.is_checked()
    box.uncheck()
    with page.expect_navigation():
        page.click("[data-testid=settings-form] button[type=submit]")
    assert _notify_email(user) is False
    page.goto("/account/settings/")
    assert not page.locator("input[name=notify_email]").is_checked()
    page.check("input[name=notify_email]")
    with page.expect_navigation():
        page.click("[data-testid=settings-form] button[type=submit]")
    assert _notify_email(user) is True

    # a real deposit email, and the link it carries
    mail.outbox.clear()
    fund_user(user, 2_500)
    relay_outbox()
    assert _send_owed() == 1
    (message,) = mail.outbox
    assert message.to == [user.email]
    link = re.search(r"Stop all notification emails: (\S+)", message.body).group(1)
    path = urlsplit(link).path
    assert path == f"/account/email/unsubscribe/{emails.unsubscribe_token(user)}/"

    page.context.clear_cookies()  # the link works signed out, as from a mail client
    page.goto(path)
    section = page.locator("[data-testid=email-unsubscribe]")
    assert user.email in section.inner_text()
    assert _notify_email(user) is True  # opening the page changes nothing
    page.click("[data-testid=email-unsubscribe] button[type=submit]")
    page.wait_for_selector("[data-testid=email-unsubscribe] [role=status]")
    assert "we will not email you notifications any more" in section.inner_text()
    assert _notify_email(user) is False
    assert User.objects.get(pk=user.pk).preferences["notify_deposits"] is True

    browser_log_in(page, user, live_server.url)
    page.goto("/account/settings/")
    assert not page.locator("input[name=notify_email]").is_checked()
