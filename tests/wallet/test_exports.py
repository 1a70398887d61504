"""Exports (issue 9 item 5), deposit-notification opt-out (item 6) and re-authentication before
a web withdrawal (issue 8 item 8)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from betthat.core.audit import audit_read
from tests.factories import PASSWORD, UserFactory
from tests.wallet.factories import fund_user
from wallet.models import Payment, Transaction
from wallet.services import (
    wallet_bonus,
    wallet_deposit_complete,
    wallet_deposit_start,
    wallet_fee,
    wallet_hold,
)

pytestmark = pytest.mark.django_db


def read_csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("text/csv") and response.streaming
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def history(user):
    fund_user(user, 10_000)
    wallet_hold(user=user, amount_minor=2_550, currency="USD", bet_id=7001, sportsbook_id="draftkings")
    wallet_fee(user=user, amount_minor=125, reason="=HYPERLINK(evil)")
    wallet_bonus(user=user, amount_minor=1_000, reason="welcome")
    other = UserFactory()
    fund_user(other, 99_900)
    old = fund_user(user, 500)
    Transaction.objects.filter(payment=old).update(created_at=timezone.now() - timedelta(days=90))
    return user


def api_sum(rows: list[dict]) -> Decimal:
    return sum(
        (Decimal(entry["amount"]) for row in rows for entry in row["entries"] if entry["account"] == "cash"),
        Decimal(0),
    )


def test_the_bettor_csv_matches_the_api_to_the_cent(history, user_client):
    today = timezone.now().date()
    start = (today - timedelta(days=1)).isoformat()
    rows = read_csv(
        user_client.get("/api/v1/wallet/transactions/export/", {"start": start, "end": today.isoformat()})
    )
    api = user_client.get("/api/v1/wallet/transactions/", {"page_size": 100}).json()["results"]
    recent = [row for row in api if row["created_at"][:10] >= start]
    assert [int(r["id"]) for r in rows] == sorted(row["id"] for row in recent)
    by_id = {row["id"]: row for row in recent}
    for row in rows:
        same = by_id[int(row["id"])]
        assert (row["type"], row["status"], row["amount"], row["fee"]) == (
            same["type"],
            same["status"],
            same["amount"],
            same["fee"],
        )
        cash = sum((Decimal(e["amount"]) for e in same["entries"] if e["account"] == "cash"), Decimal(0))
        held = sum((Decimal(e["amount"]) for e in same["entries"] if e["account"] == "holds"), Decimal(0))
        assert (Decimal(row["cash_change"]), Decimal(row["held_change"])) == (cash, held)
    assert {r["type"] for r in rows} == {"DEPOSIT", "BET_PLACED", "FEE", "BONUS"}
    assert sum(Decimal(r["cash_change"]) for r in rows) == Decimal("83.25")  # 100 - 25.50 - 1.25 + 10
    fee = next(r for r in rows if r["type"] == "FEE")
    assert fee["reason"] == "'=HYPERLINK(evil)" and fee["fee"] == "1.25"
    assert next(r for r in rows if r["type"] == "BET_PLACED")["sportsbook"] == "draftkings"


def test_the_page_download_is_the_same_file_and_shows_only_ones_own(history, user):
    browser = Client()
    browser.force_login(user)
    page = browser.get("/wallet/").content.decode()
    assert 'data-testid="export-form"' in page and 'action="/wallet/export/"' in page
    today = timezone.now().date()
    rows = read_csv(
        browser.get(
            "/wallet/export/", {"start": (today - timedelta(days=365)).isoformat(), "end": today.isoformat()}
        )
    )
    assert len(rows) == 5  # includes the 90-day-old deposit, not the other user's
    assert set(
        Transaction.objects.filter(pk__in=[r["id"] for r in rows]).values_list("user_id", flat=True)
    ) == {user.pk}


@pytest.mark.parametrize(
    "params",
    [
        {"start": "2026-13-01"},
        {"start": "yesterday"},
        {"end": "2026-01-01", "start": "2026-02-01"},
        {"start": "\u0662\u0660\u0662\u0666-\u0660\u0661-\u0660\u0661"},
        {"start": "20260101"},
    ],
)
def test_a_bad_range_is_a_400_in_the_error_shape(user_client, params):
    response = user_client.get("/api/v1/wallet/transactions/export/", params)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


def test_the_export_needs_authentication(api_client):
    assert api_client.get("/api/v1/wallet/transactions/export/").status_code in (401, 403)


def test_staff_export_every_transaction_of_a_range_and_it_is_audited(
    history, django_capture_on_commit_callbacks
):
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="export_transactions"))
    client = Client()
    client.force_login(staff)
    assert "Download CSV" in client.get("/admin/wallet/transaction/export/").content.decode()
    today = timezone.now().date()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(
            "/admin/wallet/transaction/export/", {"start": today.isoformat(), "end": today.isoformat()}
        )
    rows = read_csv(response)
    assert len(rows) == 5 and len({r["user_id"] for r in rows}) == 2
    assert sum(Decimal(r["cash_change"]) for r in rows) == Decimal("83.25") + Decimal("999.00")
    assert audit_read("wallet-staff")[-1]["action"] == "transactions.exported"


# --- deposit messages respect the user's preference -------------------------------------------


@pytest.mark.parametrize(
    ("preference", "notified"), [(None, True), (True, True), (False, False), ("no", True)]
)
def test_deposit_messages_follow_the_notification_preference(monkeypatch, preference, notified):
    sent: list[tuple[int, dict]] = []
    monkeypatch.setattr(
        "wallet.services.payments.notify", lambda user_id, payload: sent.append((user_id, payload))
    )
    user = UserFactory()
    if preference is not None:
        user.preferences["notify_deposits"] = preference
        user.save(update_fields=["preferences"])
    payment = wallet_deposit_start(user=user, amount_minor=1_000, provider="sandbox")
    wallet_deposit_complete(payment=payment)
    assert [payload["event"] for _user, payload in sent] == (["payments.succeeded"] if notified else [])
    assert Payment.objects.get(pk=payment.pk).status == "succeeded"  # the money arrives either way


# --- re-authentication before a web withdrawal -------------------------------------------------


def test_a_web_withdrawal_needs_a_recent_password_confirmation(user):
    fund_user(user, 10_000)
    browser = Client()
    browser.force_login(user)
    response = browser.post(
        "/wallet/withdraw/", {"amount": "20.00", "currency": "USD", "idempotency_key": "w-r"}
    )
    assert response.status_code == 302 and "/accounts/reauthenticate/" in response["Location"]
    assert not Payment.objects.filter(direction="WITHDRAWAL").exists()
    confirmed = browser.post(response["Location"], {"password": PASSWORD})
    assert confirmed.status_code == 302
    payment = Payment.objects.get(direction="WITHDRAWAL")
    assert payment.amount_minor == 2_000
    again = browser.post(
        "/wallet/withdraw/", {"amount": "1.00", "currency": "USD", "idempotency_key": "w-r2"}
    )
    assert again.status_code == 302 and "reauthenticate" not in again["Location"]
    assert Payment.objects.filter(direction="WITHDRAWAL").count() == 2


def test_a_wrong_password_withdraws_nothing(user):
    fund_user(user, 10_000)
    browser = Client()
    browser.force_login(user)
    response = browser.post("/wallet/withdraw/", {"amount": "20.00", "currency": "USD"})
    browser.post(response["Location"], {"password": "not-the-password"})
    assert not Payment.objects.filter(direction="WITHDRAWAL").exists()


def test_a_session_api_withdrawal_needs_a_recent_confirmation_too(user):
    from rest_framework.test import APIClient

    fund_user(user, 10_000)
    client = APIClient()
    client.force_login(user)
    response = client.post(
        "/api/v1/wallet/withdrawals/", {"amount": "5.00"}, format="json", HTTP_IDEMPOTENCY_KEY="s1"
    )
    assert response.status_code == 403 and response.json()["error"]["code"] == "reauthentication_required"
    assert not Payment.objects.filter(direction="WITHDRAWAL").exists()
