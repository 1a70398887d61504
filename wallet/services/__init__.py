"""Every write of the wallet, split by concept. Each service is one database transaction (a
savepoint when the caller already has one), keyword-only and typed, and refuses with an
ApplicationError code. Money moves only through `wallet.ledger.book`: balanced entries plus
the cached balances, under row locks taken in one global order (see wallet.locks).

`from wallet.services import X` is the public way in; the modules are:
holds (bet stakes), batches (settlement), house (bonuses, fees, adjustments booked),
adjustments (staff, four eyes), staff_grants (rolling totals of what staff grant alone), deposits, withdrawals,
payments (provider outcomes), limits (deposit limits), keys (idempotency housekeeping).
"""

from wallet.services.adjustments import adjustment_approve, adjustment_reject, wallet_adjust
from wallet.services.batches import CaptureSpec, ReleaseSpec, wallet_capture_many, wallet_release_many
from wallet.services.deposits import wallet_deposit_start
from wallet.services.holds import wallet_capture, wallet_hold, wallet_hold_event, wallet_release
from wallet.services.house import house_transfer, wallet_bonus, wallet_fee
from wallet.services.keys import idempotency_keys_prune
from wallet.services.limits import deposit_limit_set
from wallet.services.payments import payment_apply_outcome, wallet_deposit_complete
from wallet.services.staff_grants import (
    ApprovalReason,
    staff_grant_approval_reason,
    staff_grant_record,
    staff_grant_request_decide,
    staff_grant_request_lock,
)
from wallet.services.withdrawals import wallet_withdraw, withdrawals_resubmit_due

__all__ = [
    "ApprovalReason",
    "CaptureSpec",
    "ReleaseSpec",
    "adjustment_approve",
    "adjustment_reject",
    "deposit_limit_set",
    "house_transfer",
    "idempotency_keys_prune",
    "payment_apply_outcome",
    "staff_grant_approval_reason",
    "staff_grant_record",
    "staff_grant_request_decide",
    "staff_grant_request_lock",
    "wallet_adjust",
    "wallet_bonus",
    "wallet_capture",
    "wallet_capture_many",
    "wallet_deposit_complete",
    "wallet_deposit_start",
    "wallet_fee",
    "wallet_hold",
    "wallet_hold_event",
    "wallet_release",
    "wallet_release_many",
    "wallet_withdraw",
    "withdrawals_resubmit_due",
]
