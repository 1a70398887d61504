"""The demo shows every issue-20 feature on the very first `make run`: a fresh database
seeded by `seed_demo` (what scripts/run.py runs after `migrate`) has an account frozen by
staff and one closed by its bettor, a refund and a dispute won, KYC decided three ways, an
edge alert with hits, a time zone, and a bet that keeps its edge; each seen in Chromium on
its page. A second `seed_demo` adds none of it again."""

from __future__ import annotations

import io
import re
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db.models import Sum
from rest_framework.test import APIClient

from betthat.core import formatting
from betthat.core.audit import audit_read
from betthat.core.models import OutboxEvent
from betthat.users.demo import FREEZE_REASON, KYC_OVERRIDE_REASON, TIME_ZONE
from betthat.users.models import EmailNotification, KYCStatus, User
from betthat.users.services import user_token_get_or_create
from betting.models import Bet
from chat.models import Message, Room
from edges.models import SIMULATED_PREFIX, EdgeAlert, EdgeAlertHit
from social.models import Follow, PublicBet
from tests.conftest import browser_log_in
from tests.social.test_browser import off_the_loop
from wallet.models import Account, LedgerEntry, Payment, Transaction

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def audit_dir(tmp_path, settings):
    """The audit store in this test's own directory, to read what the demo's staff did."""
    from django.core.files.storage import storages

    settings.STORAGES = {
        **settings.STORAGES,
        "audit": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "audit")},
        },
    }
    storages._storages.pop("audit", None)
    yield tmp_path / "audit"
    storages._storages.pop("audit", None)


def seed(settings, tmp_path) -> str:
    """What scripts/run.py does after `migrate` (the test database is migrated and empty)."""
    settings.BASE_DIR = tmp_path  # the demo logins go to a temporary .data/
    settings.OUTBOX_NUDGE = False
    out = io.StringIO()
    off_the_loop(call_command, "seed_demo", stdout=out)
    return out.getvalue()


def api_for(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def demo(name: str) -> User:
    return User.all_objects.get(email=f"{name}@bet-that.local")


@pytest.mark.browser
def test_a_fresh_seed_shows_every_issue_20_feature(browser_page, asgi_server, settings, tmp_path, audit_dir):
    assert not User.all_objects.exists()
    output = seed(settings, tmp_path)
    page = browser_page

    # --- freeze: by staff, through the service, audited, with a reason -------------------
    staff, erin = demo("staff"), demo("erin")
    assert erin.frozen_at is not None and erin.frozen_reason == FREEZE_REASON
    assert "demo: frozen account erin@bet-that.local (by staff@bet-that.local" in output
    # refused before anything moves: here the closure of her account (a token, as an app would)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {user_token_get_or_create(user=erin)}")
    refused = client.post("/api/v1/account/close/", HTTP_IDEMPOTENCY_KEY="demo-test-1")
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "account_frozen")
    assert api_for(erin).get("/api/v1/me/").json()["frozen_at"] is not None
    browser_log_in(page, staff, asgi_server)
    page.goto(asgi_server + "/admin/users/user/?frozen=yes")
    listed = page.locator("#result_list tbody tr").all_inner_texts()
    assert len(listed) == 1 and "erin@bet-that.local" in listed[0]
    page.goto(asgi_server + f"/admin/users/user/{erin.pk}/change/")
    assert FREEZE_REASON in page.locator("#content").inner_text()
    audited = [
        (r.get("action"), r.get("actor_id"), r.get("user_id"), r.get("reason")) for r in audit_read("staff")
    ]
    assert ("user_freeze", staff.pk, erin.pk, FREEZE_REASON) in audited
    assert ("kyc_level", staff.pk, demo("omar").pk, KYC_OVERRIDE_REASON) in audited
    browser_log_in(page, erin, asgi_server)
    page.goto(asgi_server + "/wallet/")
    assert "Your account is frozen" in page.get_by_test_id("account-frozen").inner_text()

    # --- closure: by its bettor, the balance paid out first -------------------------------
    cole = demo("cole")
    assert cole.closed_at is not None and not cole.is_active and cole.deleted_at is not None
    payout = Payment.objects.get(user=cole, direction=Payment.Direction.WITHDRAWAL)
    assert (payout.status, payout.amount_minor) == ("succeeded", 100_000)
    balances = dict(Account.objects.filter(user=cole).values_list("kind", "balance_minor"))
    assert balances == {"cash": 0, "holds": 0}  # all paid out, nothing held
    assert "demo: closed account cole@bet-that.local (by its bettor, after a 1,000.00 USD payout)" in output
    browser_log_in(page, staff, asgi_server)
    page.goto(asgi_server + "/admin/users/user/?deleted=yes")
    assert "cole@bet-that.local" in page.locator("#result_list").inner_text()

    # --- refund and dispute won, through the sandbox path; the receivable was used --------
    dave = demo("dave")
    types = list(
        Transaction.objects.filter(user=dave, type__in=["REFUND", "CHARGEBACK", "CHARGEBACK_WON"])
        .order_by("pk")
        .values_list("type", "amount_minor")
    )
    assert types == [("REFUND", 5_000), ("CHARGEBACK", 100_000), ("CHARGEBACK_WON", 100_000)]
    receivable = LedgerEntry.objects.filter(transaction__user=dave, account__kind="receivable")
    assert sorted(receivable.values_list("amount_minor", flat=True)) == [-30_000, 30_000]
    assert demo("dave").frozen_at is None  # the dispute's freeze lifted when it was won
    cash = Account.objects.get(user=dave, kind="cash", currency="USD").balance_minor
    stake = Bet.objects.filter(user=dave).aggregate(s=Sum("stake_minor"))["s"] or 0
    assert cash == 100_000 - 30_000 + 5_000 - 5_000 - stake
    rows = api_for(dave).get("/api/v1/wallet/transactions/").json()["results"]
    assert {"REFUND", "CHARGEBACK", "CHARGEBACK_WON"} <= {row["type"] for row in rows}
    browser_log_in(page, dave, asgi_server)
    page.goto(asgi_server + "/wallet/history/")
    history = page.get_by_test_id("history-row")
    shown = set(history.evaluate_all("rows => rows.map(r => r.dataset.type)"))
    assert {"REFUND", "CHARGEBACK", "CHARGEBACK_WON", "WITHDRAWAL"} <= shown
    assert "Deposit refunded" in page.get_by_test_id("history-table").inner_text()

    # --- KYC: the sandbox approves and declines its test documents; staff override --------
    kim, pat, omar = demo("kim"), demo("pat"), demo("omar")
    assert (kim.kyc_status.status, kim.kyc_status.provider, kim.verification_level) == (
        "approved",
        "sandbox",
        2,
    )
    assert (pat.kyc_status.status, pat.kyc_status.reason, pat.verification_level) == (
        "rejected",
        "document_unreadable",
        1,
    )
    assert omar.kyc_status.overridden_by_id == staff.pk and omar.verification_level == 3
    assert omar.kyc_status.reason == f"staff: {KYC_OVERRIDE_REASON}"
    assert KYCStatus.objects.count() == 3
    assert api_for(kim).get("/api/v1/kyc/").json()["status"] == "approved"
    for user, text in ((kim, "Approved"), (pat, "Rejected (document_unreadable)"), (omar, "Approved")):
        browser_log_in(page, user, asgi_server)
        page.goto(asgi_server + "/account/verification/")
        assert text in page.get_by_test_id("kyc-status").inner_text()
    browser_log_in(page, staff, asgi_server)
    page.goto(asgi_server + f"/admin/users/kycstatus/{omar.kyc_status.pk}/change/")
    assert KYC_OVERRIDE_REASON in page.locator("#content").inner_text()

    # --- an edge alert that matched; notifications by the outbox handlers -----------------
    alice = demo("alice")
    hits = EdgeAlertHit.objects.filter(user=alice)
    assert hits.exists() and all(h.edge.event.provider_id.startswith(SIMULATED_PREFIX) for h in hits)
    assert EdgeAlert.objects.get(user=alice, name="Any +EV edge").send_email
    notifications = EmailNotification.objects.filter(user__email__endswith="@bet-that.local")
    kinds = set(notifications.values_list("kind", flat=True))
    assert {"bet_settled", "deposit", "withdrawal", "edge_alert"} <= kinds
    # one email per event, keyed by the event the outbox handler saw (never written by hand)
    settled = notifications.filter(kind="bet_settled")
    assert (
        settled.count()
        == Bet.objects.filter(status="settled", user__email__endswith="@bet-that.local").count()
    )
    assert not OutboxEvent.objects.filter(delivered_at__isnull=True, event_type="bet.settled").exists()
    browser_log_in(page, alice, asgi_server)
    page.goto(asgi_server + "/edges/alerts/")
    assert page.get_by_test_id("alert-hit").count() == hits.count()
    assert "Any +EV edge" in page.get_by_test_id("alert-hits").inner_text()

    # --- a time zone: alice's times in New York, the API still in UTC ---------------------
    assert alice.timezone == TIME_ZONE
    bet = Bet.objects.filter(user=alice).order_by("pk").first()
    page.goto(asgi_server + f"/bets/{bet.pk}/")
    expected = formatting.format_datetime(bet.placed_at, TIME_ZONE)
    assert page.get_by_test_id("bet-placed").inner_text() == expected
    assert expected != formatting.format_datetime(bet.placed_at, "UTC")
    assert expected.endswith(bet.placed_at.astimezone(ZoneInfo(TIME_ZONE)).tzname())
    assert api_for(alice).get(f"/api/v1/bets/{bet.pk}/").json()["placed_at"].endswith("Z")

    # --- a bet that keeps the edge it was taken from --------------------------------------
    named = re.search(r"demo: bet #(\d+) of (\S+) keeps the edge it was taken from", output)
    assert named is not None
    edged = Bet.objects.get(pk=int(named[1]), user__email=named[2])
    assert edged.edge_id and edged.edge_snapshot["edge_id"] == edged.edge_id
    assert api_for(edged.user).get(f"/api/v1/bets/{edged.pk}/").json()["edge"]["edge_id"] == edged.edge_id
    browser_log_in(page, edged.user, asgi_server)
    page.goto(asgi_server + f"/bets/{edged.pk}/")
    assert page.get_by_test_id("edge-kind").inner_text() == "+EV"
    assert edged.edge_id in page.get_by_test_id("bet-edge").inner_text()

    # the feature accounts stay out of the community's chat
    feature = ["dave", "erin", "cole", "kim", "pat", "omar"]
    assert not Message.objects.filter(user__email__in=[f"{n}@bet-that.local" for n in feature]).exists()


def demo_counts() -> dict[str, int]:
    """What the demo itself writes (market data, which the feed moves on every tick, apart:
    quotes, edges and their alert hits, same-game quotes, leaderboard runs)."""
    return {
        "users": User.all_objects.count(),
        "payments": Payment.objects.count(),
        "transactions": Transaction.objects.count(),
        "ledger entries": LedgerEntry.objects.count(),
        "bets": Bet.objects.count(),
        "kyc": KYCStatus.objects.count(),
        "alerts": EdgeAlert.objects.count(),
        "emails (not alerts)": EmailNotification.objects.exclude(kind="edge_alert").count(),
        "public bets": PublicBet.objects.count(),
        "follows": Follow.objects.count(),
        "rooms": Room.objects.count(),
        "messages": Message.objects.count(),
        "frozen": User.all_objects.filter(frozen_at__isnull=False).count(),
        "closed": User.all_objects.filter(closed_at__isnull=False).count(),
    }


def test_a_second_seed_adds_nothing(settings, tmp_path):
    seed(settings, tmp_path)
    first = demo_counts()
    assert first["frozen"] == 1 and first["closed"] == 1 and first["kyc"] == 3
    again = seed(settings, tmp_path)
    assert demo_counts() == first
    assert "demo: frozen account erin@bet-that.local" in again and "Traceback" not in again
