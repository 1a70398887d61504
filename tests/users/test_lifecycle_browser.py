"""In the browser: identity verification, and staff freezing an account (by hand, and by a
sandbox dispute) which the bettor's wallet page then shows."""

from __future__ import annotations

import re

import pytest

from betthat.users.models import KYCStatus, User
from tests.conftest import browser_log_in
from tests.factories import UserFactory
from tests.wallet.factories import fund_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_bettor_verifies_their_identity(browser_page, live_server):
    user = UserFactory(verification_level=User.VerificationLevel.EMAIL)
    page = browser_page
    browser_log_in(page, user, live_server.url)
    page.goto("/account/verification/")
    assert "Email verified" in page.inner_text("[data-testid=verification-level]")
    page.fill("input[name=full_name]", "Grace Brewster Hopper")
    page.fill("input[name=date_of_birth]", "1986-12-09")
    page.fill("input[name=country]", "US")
    page.fill("input[name=document_number]", "000000000")
    page.click("[data-testid=kyc-submit]")
    page.wait_for_url(re.compile(r"/account/verification/$"))
    # The sandbox's signed webhook arrived after the submission committed.
    assert "Approved" in page.inner_text("[data-testid=kyc-status]")
    assert "Identity verified" in page.inner_text("[data-testid=verification-level]")
    assert "Hopper" not in page.content()
    assert User.objects.get(pk=user.pk).verification_level == User.VerificationLevel.IDENTITY
    assert KYCStatus.objects.get(user=user).status == "approved"


def test_a_rejected_document_is_shown_and_can_be_tried_again(browser_page, live_server):
    user = UserFactory(verification_level=User.VerificationLevel.EMAIL)
    page = browser_page
    browser_log_in(page, user, live_server.url)
    page.goto("/account/verification/")
    page.fill("input[name=full_name]", "Grace Hopper")
    page.fill("input[name=date_of_birth]", "1986-12-09")
    page.fill("input[name=country]", "US")
    page.fill("input[name=document_number]", "999999999")
    page.click("[data-testid=kyc-submit]")
    page.wait_for_url(re.compile(r"/account/verification/$"))
    assert "Rejected (document_unreadable)" in page.inner_text("[data-testid=kyc-status]")
    assert page.locator("[data-testid=kyc-form]").is_visible()


def test_staff_freeze_an_account_and_the_bettor_sees_it(browser_page, live_server):
    bettor = UserFactory()
    staff = UserFactory(is_staff=True, is_superuser=True)
    page = browser_page
    browser_log_in(page, staff, live_server.url)
    page.goto(f"/admin/users/user/{bettor.pk}/change/")
    page.click(f"a[href='/admin/users/user/{bettor.pk}/freeze/']")
    page.fill("textarea[name=reason]", "Card reported stolen")
    page.click("input[type=submit][value=Freeze]")
    page.wait_for_url(re.compile(rf"/admin/users/user/{bettor.pk}/change/"))
    assert "Froze" in page.inner_text(".messagelist")
    assert User.objects.get(pk=bettor.pk).frozen_reason == "Card reported stolen"

    browser_log_in(page, bettor, live_server.url)
    page.goto("/wallet/")
    assert "frozen" in page.inner_text("[data-testid=account-frozen]")


def test_staff_open_a_sandbox_dispute_and_the_account_freezes(browser_page, live_server, settings):
    settings.PAYMENTS_PROVIDER = "sandbox"
    bettor = UserFactory()
    deposit = fund_user(bettor, 2_500)
    staff = UserFactory(is_staff=True, is_superuser=True)
    page = browser_page
    browser_log_in(page, staff, live_server.url)
    page.goto("/admin/wallet/payment/")
    page.check(f"input[name=_selected_action][value='{deposit.pk}']")
    page.select_option("select[name=action]", "sandbox_dispute_open")
    page.click("button[name=index]")
    page.wait_for_url(re.compile(r"/admin/wallet/payment/"))
    assert "sent 1 event" in page.inner_text(".messagelist")
    assert User.objects.get(pk=bettor.pk).frozen_at is not None

    browser_log_in(page, bettor, live_server.url)
    page.goto("/wallet/")
    assert page.locator("[data-testid=account-frozen]").is_visible()
    assert page.inner_text("[data-testid=balance-available]") == "0.00"
