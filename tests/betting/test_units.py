"""A bet's result and units per unit staked, from prices and results only (what public
records show; issue 18, item 1)."""

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from betting.grading import Result, settle, settle_per_unit
from betting.selectors import bet_result_per_unit

RESULTS = st.sampled_from(list(Result))
PRICES = st.decimals(min_value=D("1.01"), max_value=D("15"), places=4)
LEGS = st.lists(st.tuples(RESULTS, PRICES), min_size=1, max_size=4)


@given(legs=LEGS, stake=st.integers(1, 10**7))
def test_the_factor_is_settles_and_needs_no_stake(legs, stake):
    result, factor = settle_per_unit(legs)
    assert factor == settle(stake, legs).factor
    # at a stake large enough that the payout is never rounded, settle names the same result
    assert result == settle(10**12, legs).result


def test_a_parlay_whose_payout_rounds_to_the_stake_is_still_a_win_per_unit():
    legs = [(Result.WIN, D("1.01")), (Result.PUSH, D("1.91"))]
    assert settle(50, legs).result == Result.PUSH  # 0.50 x 1.01 pays 0.50: named a push ...
    assert settle(5000, legs).result == Result.WIN  # ... but a win at 50.00
    assert settle_per_unit(legs) == (Result.WIN, D("1.0100"))


@pytest.mark.parametrize(
    ("status", "result", "legs", "expected"),
    [
        ("settled", "win", [("win", D("1.91"))], ("win", D("0.91"))),
        ("settled", "loss", [("loss", D("1.91"))], ("loss", D("-1"))),
        ("settled", "push", [("push", D("1.91"))], ("push", D("0"))),
        ("void", "void", [("void", D("1.91"))], ("void", D("0"))),
        ("settled", "half_win", [("half_win", D("1.87"))], ("half_win", D("0.435"))),
        ("settled", "half_loss", [("half_loss", D("1.87"))], ("half_loss", D("-0.5"))),
        # an engine-settled parlay: from the legs (the push leg drops out)
        ("settled", "win", [("win", D("2.2")), ("push", D("1.91"))], ("win", D("1.2"))),
        # staff settled a parlay by hand, legs ungraded: the whole bet's result at its price
        ("settled", "win", [("", D("2.2")), ("", D("1.91"))], ("win", D("3.2"))),
        ("pending", "", [("", D("1.91"))], ("", None)),
    ],
)
def test_bet_result_per_unit(status, result, legs, expected):
    odds = D("4.2") if len(legs) > 1 else legs[0][1]
    public_result, units = bet_result_per_unit(
        status=status, result=result, odds_decimal=odds, stake_minor=1234, legs=legs
    )
    assert (public_result, units) == expected
