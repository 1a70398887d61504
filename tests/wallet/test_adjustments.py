"""Staff adjustments: a permission of their own, never one's own account, four eyes above a
cap, and every step in the admin log and the audit store (issue 8 item 2, issue 9 item 7)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from betthat.core.audit import audit_read
from betthat.core.errors import ApplicationError
from tests.factories import UserFactory
from tests.wallet.factories import fund_user
from wallet import models, services
from wallet.models import Account, Transaction
from wallet.selectors import wallet_balances_for_user

pytestmark = pytest.mark.django_db


def staff_member(*perms: str):
    member = UserFactory(is_staff=True)
    for codename in perms:
        member.user_permissions.add(
            Permission.objects.get(content_type__app_label="wallet", codename=codename)
        )
    return type(member).objects.get(pk=member.pk)  # a fresh permission cache


@pytest.fixture
def adjuster():
    return staff_member("adjust_account")


@pytest.fixture
def second_adjuster():
    return staff_member("adjust_account")


@pytest.fixture
def bettor():
    user = UserFactory()
    fund_user(user, 10_000)
    return user


def available(user) -> int:
    return wallet_balances_for_user(user=user).available_minor


def snapshot():
    return (Transaction.objects.count(), models.Adjustment.objects.count(), LogEntry.objects.count())


def staff_lines():
    return audit_read("wallet-staff")


def test_staff_without_the_permission_cannot_adjust(bettor):
    plain_staff = UserFactory(is_staff=True)
    before = snapshot()
    with pytest.raises(ApplicationError) as refused:
        services.wallet_adjust(user=bettor, amount_minor=500, reason="goodwill", staff=plain_staff)
    assert refused.value.code == "permission_denied" and refused.value.status == 403
    assert snapshot() == before and available(bettor) == 10_000


def test_nobody_adjusts_their_own_account(adjuster):
    fund_user(adjuster, 1_000)
    before = snapshot()
    with pytest.raises(ApplicationError) as refused:
        services.wallet_adjust(user=adjuster, amount_minor=500, reason="my bonus", staff=adjuster)
    assert refused.value.code == "own_account"
    assert snapshot() == before and available(adjuster) == 1_000


def test_a_small_adjustment_is_booked_logged_and_audited(
    bettor, adjuster, settings, django_capture_on_commit_callbacks
):
    settings.WALLET_ADJUSTMENT_APPROVAL_ABOVE_MINOR = 50_000
    with django_capture_on_commit_callbacks(execute=True):
        adjustment = services.wallet_adjust(
            user=bettor, amount_minor=-350, reason="duplicate bonus", staff=adjuster
        )
    assert adjustment.status == "booked" and adjustment.transaction is not None
    assert adjustment.transaction.type == "ADJUSTMENT" and adjustment.transaction.created_by == adjuster
    assert available(bettor) == 9_650
    entry = LogEntry.objects.get(object_id=str(adjustment.pk))
    assert (
        entry.user_id == adjuster.pk
        and "-3.50 USD" in entry.change_message
        and "duplicate bonus" in entry.change_message
    )
    line = staff_lines()[-1]
    assert line["action"] == "adjustment.booked" and line["staff_id"] == adjuster.pk
    assert (line["user_id"], line["amount"], line["currency"], line["reason"]) == (
        bettor.pk,
        "-3.50",
        "USD",
        "duplicate bonus",
    )


def test_above_the_cap_it_waits_for_a_second_different_staff_member(
    bettor, adjuster, second_adjuster, settings, django_capture_on_commit_callbacks
):
    settings.WALLET_ADJUSTMENT_APPROVAL_ABOVE_MINOR = 1_000
    with django_capture_on_commit_callbacks(execute=True):
        pending = services.wallet_adjust(
            user=bettor, amount_minor=5_000, reason="lost payout", staff=adjuster
        )
    assert pending.status == "pending" and pending.transaction is None
    assert available(bettor) == 10_000
    with pytest.raises(ApplicationError) as refused:
        services.adjustment_approve(adjustment_id=pending.pk, staff=adjuster)
    assert refused.value.code == "second_approver_required"
    with pytest.raises(ApplicationError) as refused:
        services.adjustment_approve(adjustment_id=pending.pk, staff=UserFactory(is_staff=True))
    assert refused.value.code == "permission_denied"
    assert available(bettor) == 10_000
    with django_capture_on_commit_callbacks(execute=True):
        booked = services.adjustment_approve(adjustment_id=pending.pk, staff=second_adjuster)
    assert booked.status == "booked" and booked.decided_by == second_adjuster
    assert available(bettor) == 15_000
    with pytest.raises(ApplicationError) as twice:
        services.adjustment_approve(adjustment_id=pending.pk, staff=second_adjuster)
    assert twice.value.code == "conflict" and available(bettor) == 15_000
    assert [line["action"] for line in staff_lines()[-2:]] == ["adjustment.requested", "adjustment.approved"]
    assert LogEntry.objects.filter(object_id=str(pending.pk)).count() == 2


def test_the_owner_cannot_approve_an_adjustment_of_their_own_account(adjuster, settings):
    settings.WALLET_ADJUSTMENT_APPROVAL_ABOVE_MINOR = 0
    owner = staff_member("adjust_account")
    pending = services.wallet_adjust(user=owner, amount_minor=100, reason="refund", staff=adjuster)
    with pytest.raises(ApplicationError) as refused:
        services.adjustment_approve(adjustment_id=pending.pk, staff=owner)
    assert refused.value.code == "own_account"


def test_a_rejected_adjustment_moves_nothing(bettor, adjuster, second_adjuster, settings):
    settings.WALLET_ADJUSTMENT_APPROVAL_ABOVE_MINOR = 0
    pending = services.wallet_adjust(user=bettor, amount_minor=-2_000, reason="chargeback", staff=adjuster)
    rejected = services.adjustment_reject(adjustment_id=pending.pk, staff=second_adjuster)
    assert rejected.status == "rejected" and rejected.transaction is None
    assert available(bettor) == 10_000
    with pytest.raises(ApplicationError):
        services.adjustment_approve(adjustment_id=pending.pk, staff=second_adjuster)


@pytest.mark.parametrize("decide", [services.adjustment_approve, services.adjustment_reject])
def test_deciding_on_no_such_adjustment_is_a_404(second_adjuster, decide):
    with pytest.raises(ApplicationError) as absent:
        decide(adjustment_id=987_654, staff=second_adjuster)
    assert (absent.value.code, absent.value.status, absent.value.details) == (
        "not_found",
        404,
        {"adjustment_id": 987_654},
    )


def test_the_database_refuses_an_own_account_or_one_person_approval(bettor, adjuster):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        models.Adjustment.objects.create(user=adjuster, amount_minor=5, reason="x", requested_by=adjuster)
    with pytest.raises(IntegrityError), transaction.atomic():
        models.Adjustment.objects.create(
            user=bettor, amount_minor=5, reason="x", requested_by=adjuster, decided_by=adjuster
        )


# --- the admin ---------------------------------------------------------------------------------


def admin_client(member) -> Client:
    client = Client()
    client.force_login(member)
    return client


def cash_account(user) -> Account:
    return Account.objects.get(user=user, kind="cash", currency="USD")


def test_the_admin_adjust_page_needs_the_permission(bettor):
    plain_staff = UserFactory(is_staff=True)
    url = f"/admin/wallet/account/{cash_account(bettor).pk}/adjust/"
    assert admin_client(plain_staff).get(url).status_code == 403
    response = admin_client(plain_staff).post(url, {"amount": "5.00", "reason": "because"})
    assert response.status_code == 403 and available(bettor) == 10_000


def test_the_admin_adjust_page_books_or_queues(bettor, adjuster, settings):
    settings.WALLET_ADJUSTMENT_APPROVAL_ABOVE_MINOR = 1_000
    client = admin_client(adjuster)
    url = f"/admin/wallet/account/{cash_account(bettor).pk}/adjust/"
    assert "waits until a second" in client.get(url).content.decode()
    small = client.post(url, {"amount": "-2.50", "reason": "typo"})
    assert small.status_code == 302 and available(bettor) == 9_750
    large = client.post(url, {"amount": "50.00", "reason": "big fix"})
    assert large.status_code == 302 and "/admin/wallet/adjustment/" in large["Location"]
    assert available(bettor) == 9_750
    bad = client.post(url, {"amount": "1e3", "reason": "exponent"})
    assert bad.status_code == 200 and available(bettor) == 9_750


def test_the_admin_approve_action_books_for_a_second_staff_member(
    bettor, adjuster, second_adjuster, settings
):
    settings.WALLET_ADJUSTMENT_APPROVAL_ABOVE_MINOR = 1_000
    pending = services.wallet_adjust(user=bettor, amount_minor=4_000, reason="refund", staff=adjuster)
    changelist = "/admin/wallet/adjustment/"
    own = admin_client(adjuster).post(
        changelist, {"action": "approve", "_selected_action": [pending.pk]}, follow=True
    )
    assert models.Adjustment.objects.get(pk=pending.pk).status == "pending"
    assert [(m.level_tag, m.message) for m in own.context["messages"]] == [
        (
            "error",
            f"Adjustment #{pending.pk}: A second, different staff member must decide on this adjustment.",
        )
    ]
    second = admin_client(second_adjuster).post(
        changelist, {"action": "approve", "_selected_action": [pending.pk]}, follow=True
    )
    assert models.Adjustment.objects.get(pk=pending.pk).status == "booked" and available(bettor) == 14_000
    assert [(m.level_tag, m.message) for m in second.context["messages"]] == [
        ("success", "1 adjustment(s) approved and booked.")
    ]


def test_ledger_health_and_exports_need_their_own_permissions(bettor):
    plain_staff = admin_client(UserFactory(is_staff=True))
    assert plain_staff.get("/admin/wallet/account/ledger-health/").status_code == 403
    assert (
        plain_staff.get("/admin/wallet/transaction/export/?start=2020-01-01&end=2030-01-01").status_code
        == 403
    )
    health = admin_client(staff_member("view_ledger_health", "view_account"))
    assert "All invariants hold" in health.get("/admin/wallet/account/ledger-health/").content.decode()


# --- rolling totals: splitting an adjustment no longer avoids the second approver (issue 18 item 8)


def test_split_adjustments_reach_the_second_approver(
    adjuster, second_adjuster, settings, django_capture_on_commit_callbacks
):
    settings.WALLET_ADJUSTMENT_APPROVAL_ABOVE_MINOR = 1_000
    first, second, third = UserFactory(), UserFactory(), UserFactory()
    booked = services.wallet_adjust(user=first, amount_minor=600, reason="goodwill", staff=adjuster)
    assert (booked.status, booked.approval_reason) == ("booked", "")
    # The same staff member, another account: their own rolling total passes the threshold.
    with django_capture_on_commit_callbacks(execute=True):
        split = services.wallet_adjust(user=second, amount_minor=500, reason="split", staff=adjuster)
    assert (split.status, split.approval_reason, split.transaction_id) == ("pending", "staff_total", None)
    assert staff_lines()[-1]["approval_reason"] == "staff_total"
    # Another staff member, the same account: the account's rolling total passes it.
    accomplice = services.wallet_adjust(user=first, amount_minor=500, reason="again", staff=second_adjuster)
    assert (accomplice.status, accomplice.approval_reason) == ("pending", "account_total")
    assert available(first) == 600 and available(second) == 0
    # Under both totals it is still booked at once; an approved one does not count.
    small = services.wallet_adjust(user=third, amount_minor=400, reason="small", staff=second_adjuster)
    assert small.status == "booked"
    services.adjustment_approve(adjustment_id=split.pk, staff=second_adjuster)
    assert models.StaffGrant.objects.filter(staff=second_adjuster).count() == 1


def test_rolling_totals_count_every_currency_and_only_the_window(adjuster, settings):
    settings.WALLET_ADJUSTMENT_APPROVAL_ABOVE_MINOR = 1_000
    settings.BETTING_FX_RATES = {"USD": "1.00", "EUR": "1.08", "GBP": "1.27"}
    user = UserFactory()
    services.wallet_adjust(user=user, amount_minor=900, currency="EUR", reason="eur", staff=adjuster)
    # 900 EUR = 972 USD: another 29 USD passes 1,000.
    over = services.wallet_adjust(user=UserFactory(), amount_minor=29, reason="usd", staff=adjuster)
    assert (over.status, over.approval_reason) == ("pending", "staff_total")
    models.StaffGrant.objects.update(created_at=timezone.now() - timedelta(hours=25))
    later = services.wallet_adjust(user=UserFactory(), amount_minor=900, reason="next day", staff=adjuster)
    assert later.status == "booked"
