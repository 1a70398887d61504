"""Refunds and chargebacks: the payment provider takes a deposit back.

A reversal never edits the deposit's entries; it books a new journal transaction against the
deposit's payment:

| event | entries |
|---|---|
| refund (`charge.refunded`) or dispute opened (`charge.dispute.created`) of `a` | `psp_clearing` +a; `cash` -c; `receivable` -(a-c), where c = min(a, the user's cash) |
| dispute won (`charge.dispute.closed`, won) | the dispute's entries reversed: `psp_clearing` -a, `cash` +c, `receivable` +(a-c) |
| dispute lost | nothing moves (the money left when the dispute opened) |

A user's cash never goes negative: what the user has already spent (bet, withdrawn) is booked
on the system `receivable` account (its balance is minus what users owe us), and the account
is frozen until staff settle it. A dispute freezes the account at once, whatever the balance.
A dispute won lifts that freeze if the dispute was its reason.

Once only: the provider's event id is recorded by the webhook (unique), and each reversal is
unique per `(payment, type, external_reference)` in the database (a refund's reference
carries the provider's cumulative refunded amount, so a repeated or reordered refund event
books nothing more than what the provider says was refunded in all).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum

from betthat.core.errors import ApplicationError
from betthat.core.outbox import publish
from betthat.core.serializers import minor_to_decimal
from betthat.users.models import User
from betthat.users.services import user_freeze, user_unfreeze
from wallet.ledger import Leg, book
from wallet.locks import lock_user_accounts
from wallet.models import Account, LedgerEntry, Payment, Transaction
from wallet.services.common import CASH, CLEARING, Entry, _completed
from wallet.services.payments import _notify_payment

RECEIVABLE = Account.Kind.RECEIVABLE.value
REVERSAL_TYPES = (Transaction.Type.REFUND, Transaction.Type.CHARGEBACK, Transaction.Type.CHARGEBACK_WON)


@dataclass(frozen=True)
class Reversal:
    """What a provider said: `kind` "refund" (amount is the cumulative refunded amount),
    "dispute_opened", "dispute_won" or "dispute_lost"; `reference` is the provider's id of the
    charge (refunds) or the dispute."""

    kind: str
    reference: str
    amount_minor: int
    reason: str = ""


def dispute_freeze_reason(reference: str) -> str:
    return f"payment dispute {reference} opened"


def reversed_minor(payment: Payment) -> int:
    """How much of the deposit has been taken back so far (refunds plus open or lost disputes)."""
    totals = Transaction.objects.filter(payment_id=payment.pk, type__in=REVERSAL_TYPES).aggregate(
        taken=Sum("amount_minor", filter=Q(type__in=[Transaction.Type.REFUND, Transaction.Type.CHARGEBACK])),
        returned=Sum("amount_minor", filter=Q(type=Transaction.Type.CHARGEBACK_WON)),
    )
    return (totals["taken"] or 0) - (totals["returned"] or 0)


def _take_back(*, payment: Payment, type: str, amount_minor: int, reference: str, reason: str) -> Transaction:
    """Book `amount_minor` back to the provider: from the user's cash as far as it goes, the
    rest on the receivable account (caller holds the payment lock)."""
    accounts = lock_user_accounts(user_id=payment.user_id, currency=payment.currency)
    from_cash = min(amount_minor, accounts.cash.balance_minor)
    owed = amount_minor - from_cash
    tx = book(
        user_id=payment.user_id,
        currency=payment.currency,
        legs=[
            Leg(CLEARING, amount_minor, Entry.CREDIT),
            Leg(CASH, -from_cash, Entry.DEBIT),
            Leg(RECEIVABLE, -owed, Entry.DEBIT),
        ],
        type=type,
        amount_minor=amount_minor,
        payment=payment,
        external_reference=reference,
        reason=reason[:2000],
        ref_type="payment",
        ref_id=str(payment.pk),
    )
    _completed(tx)
    publish(
        "payments.reversed",
        {
            "payment_id": payment.pk,
            "user_id": payment.user_id,
            "type": type,
            "amount": minor_to_decimal(amount_minor),
            "from_cash": minor_to_decimal(from_cash),
            "owed": minor_to_decimal(owed),
            "currency": payment.currency,
            "transaction_id": tx.pk,
        },
    )
    return tx


def _owed_by(tx: Transaction) -> tuple[int, int]:
    """(from cash, on the receivable) of a reversal transaction, from its entries."""
    lines = dict(
        LedgerEntry.objects.filter(transaction_id=tx.pk)
        .values_list("account__kind")
        .annotate(total=Sum("amount_minor"))
        .values_list("account__kind", "total")
    )
    return -lines.get(CASH, 0), -lines.get(RECEIVABLE, 0)


def _freeze(payment: Payment, reason: str) -> None:
    user = User.all_objects.get(pk=payment.user_id)
    user_freeze(user=user, actor=None, source=f"{payment.provider} webhook", reason=reason)


def payment_reversal_apply_locked(*, payment: Payment, reversal: Reversal) -> str:
    """Apply a provider's refund or dispute to a deposit once; return the outcome recorded
    on the webhook event. The caller holds the payment's row lock, inside its transaction."""
    if payment.direction != Payment.Direction.DEPOSIT or payment.status != Payment.Status.SUCCEEDED:
        return "ignored: not a completed deposit"
    try:
        with transaction.atomic():
            return _apply(payment=payment, reversal=reversal)
    except IntegrityError as error:
        if "wallet_transaction_reversal_once" in str(error):
            return "already booked"
        raise


def _apply(*, payment: Payment, reversal: Reversal) -> str:
    amount = minor_to_decimal(reversal.amount_minor)
    if reversal.kind == "refund":
        # The provider sends the cumulative refunded amount: book only what is new.
        refunded = (
            Transaction.objects.filter(payment_id=payment.pk, type=Transaction.Type.REFUND).aggregate(
                total=Sum("amount_minor")
            )["total"]
            or 0
        )
        increment = reversal.amount_minor - refunded
        if increment <= 0:
            return "no change: already refunded"
        if reversed_minor(payment) + increment > payment.amount_minor:
            return "ignored: more than the deposit"
        tx = _take_back(
            payment=payment,
            type=Transaction.Type.REFUND,
            amount_minor=increment,
            reference=f"{reversal.reference}:{reversal.amount_minor}",
            reason=reversal.reason or "refunded by the payment provider",
        )
        _from_cash, owed = _owed_by(tx)
        if owed:
            _freeze(
                payment, f"refund {reversal.reference} of money already spent ({minor_to_decimal(owed)} owed)"
            )
        _notify_payment(
            payment,
            event="payments.refunded",
            message=f"Your deposit of {minor_to_decimal(payment.amount_minor)} {payment.currency} was refunded"
            f" ({minor_to_decimal(increment)} {payment.currency}).",
        )
        return "refunded"
    if reversal.kind == "dispute_opened":
        if reversed_minor(payment) + reversal.amount_minor > payment.amount_minor:
            return "ignored: more than the deposit"
        _take_back(
            payment=payment,
            type=Transaction.Type.CHARGEBACK,
            amount_minor=reversal.amount_minor,
            reference=reversal.reference,
            reason=reversal.reason or "disputed with the card issuer",
        )
        _freeze(payment, dispute_freeze_reason(reversal.reference))
        _notify_payment(
            payment,
            event="payments.disputed",
            message=f"A payment dispute was opened on your deposit of {amount} {payment.currency};"
            " your account is frozen while it is reviewed.",
        )
        return "dispute opened"
    chargeback = Transaction.objects.filter(
        payment_id=payment.pk, type=Transaction.Type.CHARGEBACK, external_reference=reversal.reference
    ).first()
    if chargeback is None:
        return "ignored: unknown dispute"
    if reversal.kind == "dispute_lost":
        return "dispute lost"
    if reversal.kind != "dispute_won":
        return "ignored"
    from_cash, owed = _owed_by(chargeback)
    tx = book(
        user_id=payment.user_id,
        currency=payment.currency,
        legs=[
            Leg(CLEARING, -chargeback.amount_minor, Entry.DEBIT),
            Leg(CASH, from_cash, Entry.CREDIT),
            Leg(RECEIVABLE, owed, Entry.CREDIT),
        ],
        type=Transaction.Type.CHARGEBACK_WON,
        amount_minor=chargeback.amount_minor,
        payment=payment,
        external_reference=reversal.reference,
        reason=reversal.reason or "dispute closed in our favour",
        ref_type="payment",
        ref_id=str(payment.pk),
    )
    _completed(tx)
    user = User.all_objects.get(pk=payment.user_id)
    if user.frozen_reason == dispute_freeze_reason(reversal.reference):
        user_unfreeze(
            user=user,
            actor=None,
            source=f"{payment.provider} webhook",
            reason=f"dispute {reversal.reference} won",
        )
    return "dispute won"


SANDBOX_ACTIONS = ("refund", "dispute_open", "dispute_won", "dispute_lost")


def sandbox_reversal_trigger(*, payment: Payment, action: str, staff: User) -> int:
    """Staff make the sandbox refund or dispute a paid sandbox deposit (`action` one of
    SANDBOX_ACTIONS; closing acts on the deposit's disputes not yet won), exactly as its
    webhooks would arrive from a real provider (delivered after the commit, through the same
    receiving function). Needs `wallet.adjust_account`; audited. Returns the events sent."""
    from wallet.providers import sandbox, sandbox_is_enabled
    from wallet.services.common import staff_audit

    if not staff.has_perm("wallet.adjust_account"):
        raise ApplicationError("You may not do this.", code="permission_denied", status=403)
    if action not in SANDBOX_ACTIONS:
        raise ApplicationError("Unknown sandbox action.", code="validation_error", details={"action": action})
    if not sandbox_is_enabled() or payment.provider != "sandbox":
        raise ApplicationError("Only sandbox payments can be reversed here.", code="validation_error")
    if payment.direction != Payment.Direction.DEPOSIT or payment.status != Payment.Status.SUCCEEDED:
        raise ApplicationError(
            "Only a paid deposit can be refunded or disputed.", code="conflict", status=409
        )
    if action == "refund":
        events = sandbox.refund(payment)
    elif action == "dispute_open":
        events = sandbox.dispute_open(payment)
    else:
        won_refs = set(
            Transaction.objects.filter(
                payment_id=payment.pk, type=Transaction.Type.CHARGEBACK_WON
            ).values_list("external_reference", flat=True)
        )
        open_refs = [
            ref
            for ref in Transaction.objects.filter(
                payment_id=payment.pk, type=Transaction.Type.CHARGEBACK
            ).values_list("external_reference", flat=True)
            if ref not in won_refs
        ]
        events = []
        for reference in open_refs:
            events += sandbox.dispute_close(payment, reference=reference, won=action == "dispute_won")
    staff_audit(
        {
            "action": f"sandbox_{action}",
            "actor_id": staff.pk,
            "actor_email": staff.email,
            "user_id": payment.user_id,
            "payment_id": payment.pk,
            "events": len(events),
        }
    )
    return len(events)
