"""Every write of the betting app (`bet_place`, `bet_cancel`, `settle_due_bets`, ...)."""

from betting.services.cancellation import bet_cancel
from betting.services.closing import bet_closing_lines_capture, closing_lines_capture_due
from betting.services.closure import (
    ClosureResult,
    account_close,
    account_close_finish,
    closure_money,
    closure_open_bets,
)
from betting.services.limits import (
    limit_changes_apply_due,
    limit_headroom,
    user_limits_update,
    user_self_exclude,
)
from betting.services.placement import bet_place
from betting.services.recovery import bet_placing_resolve, placing_bets_resolve
from betting.services.settlement import (
    bet_legs_grade_event,
    bet_legs_grade_finished,
    settle_batch,
    settle_due_bets,
)
from betting.services.slip import LegRequest
from betting.services.staff import (
    bet_settle,
    bet_void,
    exposure_rebuild_by_staff,
    manual_settlement_approve,
    manual_settlement_reject,
)

__all__ = [
    "ClosureResult",
    "LegRequest",
    "account_close",
    "account_close_finish",
    "bet_cancel",
    "bet_closing_lines_capture",
    "bet_legs_grade_event",
    "bet_legs_grade_finished",
    "bet_place",
    "bet_placing_resolve",
    "bet_settle",
    "bet_void",
    "closing_lines_capture_due",
    "closure_money",
    "closure_open_bets",
    "exposure_rebuild_by_staff",
    "limit_changes_apply_due",
    "limit_headroom",
    "manual_settlement_approve",
    "manual_settlement_reject",
    "placing_bets_resolve",
    "settle_batch",
    "settle_due_bets",
    "user_limits_update",
    "user_self_exclude",
]
