import re

import pytest
from django.core import mail

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_up_verify_email_log_in_and_out(browser_page, live_server, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    page = browser_page
    page.goto("/accounts/signup/")
    page.fill("input[name=email]", "newbettor@example.com")
    page.fill("input[name=password1]", "a-Strong-passw0rd!")
    page.fill("input[name=password2]", "a-Strong-passw0rd!")
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/confirm-email/"))
    assert "verify" in page.content().lower() or "confirm" in page.content().lower()

    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^\s]+/accounts/confirm-email/[^\s]+/", mail.outbox[0].body).group(0)
    page.goto(link.replace("http://testserver", live_server.url))
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/login/$|/$"))

    if "/accounts/login/" in page.url:
        page.fill("input[name=login]", "newbettor@example.com")
        page.fill("input[name=password]", "a-Strong-passw0rd!")
        page.click("form button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
    assert page.locator("[data-testid=account-menu]").inner_text().strip() == "newbettor"

    page.click("[data-testid=account-menu]")
    page.click("[data-testid=logout]")
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("header a.btn", has_text="Sign in").is_visible()

    page.goto("/accounts/login/")
    page.fill("input[name=login]", "newbettor@example.com")
    page.fill("input[name=password]", "a-Strong-passw0rd!")
    page.click("form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("[data-testid=account-menu]").inner_text().strip() == "newbettor"

    from betthat.users.models import User

    user = User.objects.get(email="newbettor@example.com")
    assert user.status == User.Status.ACTIVE
    assert user.verification_level == User.VerificationLevel.EMAIL
