"""The pricing engine: pure functions, no Django.

Conventions: `d` is a decimal price (2.50 pays 1.50 profit per 1 staked), `q = 1/d` the
implied probability, `p` a fair probability. Conversions between American and decimal
odds are exact (`Decimal`, one implementation in `betthat.core.odds`); the probability math
uses floats.

    edge_percentage(p, d)            = p - 1/d
    expected_value_per_dollar(p, d)  = p*d - 1
    kelly_fraction(p, d)             = max(0, (p*d - 1) / (d - 1))
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal, localcontext

# The one conversion (its rounding rule is documented there), re-exported for edges' callers.
from betthat.core.odds import ODDS_PLACES as ODDS_PLACES
from betthat.core.odds import OddsError
from betthat.core.odds import american_to_decimal as american_to_decimal
from betthat.core.odds import decimal_to_american as decimal_to_american
from betthat.core.odds import quantize_odds as quantize_odds

DEVIG_METHODS = ("multiplicative", "additive", "power", "shin", "worst_case")
REFERENCES = ("sharp", "consensus")
# Fractional Kelly by risk tolerance: quarter, half and full Kelly.
RISK_MULTIPLIERS: dict[str, float] = {"low": 0.25, "medium": 0.5, "high": 1.0}
# A +EV edge must beat the fair price by at least this much expected value per dollar.
MIN_EV = 0.005
# Standard deviation of the final margin / total, in points, for the middle hit model, by
# sport group; player props scale with their line.
MIDDLE_SIGMA = {
    ("americanfootball", "spreads"): 13.5,
    ("americanfootball", "totals"): 10.0,
    ("basketball", "spreads"): 12.0,
    ("basketball", "totals"): 18.0,
}
PROP_SIGMA_SHARE = {"americanfootball": 0.17, "basketball": 0.25}
MIDDLE_SIGMA_DEFAULT = 12.0


def middle_sigma(sport_key: str, market_key: str, line: float) -> float:
    group = sport_key.split("_", 1)[0]
    if market_key in ("spreads", "totals"):
        return MIDDLE_SIGMA.get((group, market_key), MIDDLE_SIGMA_DEFAULT)
    return max(1.0, PROP_SIGMA_SHARE.get(group, 0.25) * abs(line))


# A price or probability outside its domain. The same class as the odds conversion's error,
# so `except PricingError` also catches a conversion refusing a price.
PricingError = OddsError


# --- conversions: the one implementation is betthat.core.odds (re-exported here) -------------


def parse_price(raw: object) -> tuple[Decimal, int]:
    """A feed price, American (|x| >= 100, integral) or decimal (1 < x < 100), as
    (decimal odds with 6 places, American). Raises PricingError when it is neither."""
    if isinstance(raw, bool) or raw is None:
        raise PricingError(f"not a price: {raw!r}")
    try:
        value = Decimal(str(raw))
    except ArithmeticError as error:
        raise PricingError(f"not a price: {raw!r}") from error
    if not value.is_finite():
        raise PricingError(f"not a price: {raw!r}")
    if abs(value) >= 100 and value == value.to_integral_value():
        american = int(value)
        return quantize_odds(american_to_decimal(american)), american
    if 1 < value < 100:
        d = quantize_odds(value)
        if d <= 1:
            raise PricingError(f"decimal price too close to 1: {raw!r}")
        return d, decimal_to_american(d)
    raise PricingError(f"price {raw!r} is neither American (|x| >= 100) nor decimal (1 < x < 100)")


def implied_probability(decimal_odds: float | Decimal) -> float:
    d = float(decimal_odds)
    if d <= 1:
        raise PricingError(f"Decimal odds must be above 1, not {decimal_odds}")
    return 1.0 / d


def fair_odds(probability: float) -> float:
    if not 0 < probability <= 1:
        raise PricingError(f"probability must be in (0, 1], not {probability}")
    return 1.0 / probability


def overround(decimal_prices: Sequence[float | Decimal]) -> float:
    return sum(1.0 / float(d) for d in decimal_prices) - 1.0


# --- margin removal ----------------------------------------------------------------


def _implied(prices: Sequence[float | Decimal]) -> list[float]:
    if len(prices) < 2:
        raise PricingError("margin removal needs at least two outcomes")
    return [implied_probability(d) for d in prices]


def devig_multiplicative(prices: Sequence[float | Decimal]) -> list[float]:
    q = _implied(prices)
    total = sum(q)
    return [x / total for x in q]


def devig_additive(prices: Sequence[float | Decimal]) -> list[float]:
    """Subtract the overround equally. A longshot can go below zero: clip and renormalise."""
    q = _implied(prices)
    share = (sum(q) - 1.0) / len(q)
    p = [x - share for x in q]
    if min(p) <= 0:
        p = [max(x, 1e-9) for x in p]
        total = sum(p)
        p = [x / total for x in p]
    return p


def power_exponent(prices: Sequence[float | Decimal]) -> float:
    """k with sum(q_i ** k) = 1 (k > 1 for a book with a margin, k < 1 for an underround)."""
    q = _implied(prices)
    if max(q) >= 1:
        raise PricingError("a price of 1 or less cannot be de-vigged by the power method")

    def f(k: float) -> float:
        return sum(math.pow(x, k) for x in q) - 1.0

    low, high = 1e-6, 1.0
    while f(high) > 0:  # sum decreases in k
        low, high = high, high * 2
        if high > 1e6:
            raise PricingError("power method did not bracket a solution")
    return _root_of_decreasing(f, low, high)


def _root_of_decreasing(f: Callable[[float], float], low: float, high: float) -> float:
    """Bisection: the x in [low, high] where a decreasing `f` crosses zero (f(low) > 0 >= f(high))."""
    for _ in range(200):
        mid = (low + high) / 2
        if f(mid) > 0:
            low = mid
        else:
            high = mid
        if high - low < 1e-15:
            break
    return (low + high) / 2


def devig_power(prices: Sequence[float | Decimal]) -> list[float]:
    q = _implied(prices)
    k = power_exponent(prices)
    p = [math.pow(x, k) for x in q]
    total = sum(p)
    return [x / total for x in p]


def _shin_probabilities(q: Sequence[float], z: float) -> list[float]:
    total = sum(q)
    return [(math.sqrt(z * z + 4 * (1 - z) * x * x / total) - z) / (2 * (1 - z)) for x in q]


def shin_z(prices: Sequence[float | Decimal]) -> float:
    """Shin's insider share z in [0, 1): the z whose probabilities sum to one (0 if none needed)."""
    q = _implied(prices)
    if sum(q) <= 1:
        return 0.0
    return _root_of_decreasing(lambda z: sum(_shin_probabilities(q, z)) - 1.0, 0.0, 1.0 - 1e-12)


def devig_shin(prices: Sequence[float | Decimal]) -> list[float]:
    q = _implied(prices)
    if sum(q) <= 1:  # no margin to explain: Shin reduces to proportional
        return devig_multiplicative(prices)
    p = _shin_probabilities(q, shin_z(prices))
    total = sum(p)
    return [x / total for x in p]


_METHODS = {
    "multiplicative": devig_multiplicative,
    "additive": devig_additive,
    "power": devig_power,
    "shin": devig_shin,
}


def devig(prices: Sequence[float | Decimal], method: str = "multiplicative") -> list[float]:
    """Fair probabilities of the outcomes of one book's market, margin removed.

    `worst_case` takes, per outcome, the lowest fair probability of the four methods: the
    least favourable view for a bettor backing that outcome (so it does not sum to one).
    """
    if method == "worst_case":
        rows = [func(prices) for func in _METHODS.values()]
        return [min(column) for column in zip(*rows, strict=True)]
    try:
        func = _METHODS[method]
    except KeyError as error:
        raise PricingError(f"unknown de-vig method {method!r}") from error
    return func(prices)


# --- edge metrics ------------------------------------------------------------------


def edge_percentage(probability: float, decimal_odds: float | Decimal) -> float:
    return probability - 1.0 / float(decimal_odds)


def expected_value_per_dollar(probability: float, decimal_odds: float | Decimal) -> float:
    return probability * float(decimal_odds) - 1.0


def kelly_fraction(probability: float, decimal_odds: float | Decimal) -> float:
    d = float(decimal_odds)
    if d <= 1:
        return 0.0
    return max(0.0, (probability * d - 1.0) / (d - 1.0))


def recommended_stake_minor(
    *,
    available_minor: int,
    kelly_fraction: float,
    risk_tolerance: str,
    max_kelly_fraction: float | Decimal,
    cap_minor: int | None = None,
) -> int:
    """available x min(Kelly x risk multiplier, max_kelly_fraction), capped, rounded down."""
    if available_minor <= 0 or kelly_fraction <= 0:
        return 0
    multiplier = RISK_MULTIPLIERS.get(risk_tolerance, RISK_MULTIPLIERS["medium"])
    fraction = min(
        Decimal(repr(kelly_fraction)) * Decimal(repr(multiplier)), Decimal(str(max_kelly_fraction))
    )
    stake = int((Decimal(available_minor) * fraction).to_integral_value(rounding=ROUND_FLOOR))
    if cap_minor is not None:
        stake = min(stake, cap_minor)
    return max(0, stake)


# --- arbitrage ---------------------------------------------------------------------


def arbitrage_margin(best_prices: Sequence[float | Decimal]) -> float:
    """1 - sum(1/best): above zero, backing every outcome at its best price is a sure profit."""
    return 1.0 - sum(1.0 / float(d) for d in best_prices)


@dataclass(frozen=True)
class StakeSplit:
    stakes_minor: list[int]
    payouts_minor: list[int]
    total_minor: int

    @property
    def guaranteed_payout_minor(self) -> int:
        return min(self.payouts_minor)

    @property
    def guaranteed_profit_minor(self) -> int:
        return self.guaranteed_payout_minor - self.total_minor


def _payouts(stakes: Sequence[int], prices: Sequence[Decimal]) -> list[int]:
    return [
        int((Decimal(s) * d).to_integral_value(rounding=ROUND_FLOOR))
        for s, d in zip(stakes, prices, strict=True)
    ]


def arbitrage_stakes(total_minor: int, prices: Sequence[Decimal | str | float]) -> StakeSplit:
    """Split `total_minor` across the outcomes so every result pays (nearly) the same.

    The ideal split is total x (1/d_i) / sum(1/d); it is rounded to whole cents by the
    largest remainder (the cents always add back to the total), then cents are moved to
    the leg paying least while that raises the guaranteed payout.
    """
    if total_minor < 0:
        raise PricingError("the total stake cannot be negative")
    ds = [Decimal(str(p)) if isinstance(p, float) else Decimal(p) for p in prices]
    if any(d <= 1 for d in ds):
        raise PricingError("decimal prices must be above 1")
    with localcontext() as ctx:
        ctx.prec = 40
        inverse = [1 / d for d in ds]
        weight = sum(inverse)
        ideal = [Decimal(total_minor) * x / weight for x in inverse]
    stakes = [int(x.to_integral_value(rounding=ROUND_FLOOR)) for x in ideal]
    leftover = total_minor - sum(stakes)
    order = sorted(range(len(ds)), key=lambda i: (ideal[i] - stakes[i], -i), reverse=True)
    for i in order[:leftover]:
        stakes[i] += 1
    payouts = _payouts(stakes, ds)
    for _ in range(len(ds) * 4):
        low = min(range(len(ds)), key=lambda i: payouts[i])
        high = max(
            range(len(ds)), key=lambda i: payouts[i] - int(ds[i].to_integral_value(rounding=ROUND_FLOOR))
        )
        if low == high or stakes[high] == 0:
            break
        trial = list(stakes)
        trial[high] -= 1
        trial[low] += 1
        trial_payouts = _payouts(trial, ds)
        if min(trial_payouts) <= min(payouts):
            break
        stakes, payouts = trial, trial_payouts
    return StakeSplit(stakes_minor=stakes, payouts_minor=payouts, total_minor=total_minor)


# --- middles -----------------------------------------------------------------------


def middle_window(market_key: str, first_point: float, second_point: float) -> tuple[float, float] | None:
    """The results for which both legs win, or None.

    totals: first = Over at o, second = Under at u; both win when o < total < u.
    spreads: first = home at h, second = away at a (each its own handicap); with
    M = home - away, home wins when M > -h, away when M < a; both when -h < M < a.
    """
    if market_key == "spreads":
        low, high = -first_point, second_point
    else:
        low, high = first_point, second_point
    if high > low:
        return (low, high)
    return None


def _normal_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def middle_hit_probability(window: tuple[float, float], *, centre: float, sigma: float) -> float:
    """P(low < X < high) for X ~ Normal(centre, sigma): a continuous approximation of the
    final margin or total (a push on a whole-number boundary is not modelled)."""
    low, high = window
    return max(0.0, _normal_cdf((high - centre) / sigma) - _normal_cdf((low - centre) / sigma))


@dataclass(frozen=True)
class MiddleMetrics:
    window: tuple[float, float]
    hit_probability: float
    payout_per_dollar: float
    expected_value_per_dollar: float
    edge_percentage: float
    kelly_fraction: float


def middle_metrics(
    market_key: str, first: tuple[float, float], second: tuple[float, float], *, centre: float, sigma: float
) -> MiddleMetrics | None:
    """`first`/`second` are (point, decimal price). Stakes split for an equal payout P per
    dollar in total: one leg wins -> P - 1; both -> 2P - 1. EV = P(1 + h) - 1 where h is the
    chance of landing in the window; edge = h - (sum(1/d) - 1), the hit rate above break-even."""
    window = middle_window(market_key, first[0], second[0])
    if window is None:
        return None
    inverse = 1.0 / first[1] + 1.0 / second[1]
    payout = 1.0 / inverse
    hit = middle_hit_probability(window, centre=centre, sigma=sigma)
    ev = payout * (1.0 + hit) - 1.0
    edge = hit - (inverse - 1.0)
    gain, loss = 2 * payout - 1.0, 1.0 - payout
    kelly = 1.0  # loss <= 0: also an arbitrage, no losing result
    if loss > 0:
        kelly = max(0.0, min(1.0, hit / loss - (1.0 - hit) / gain)) if gain > 0 else 0.0
    return MiddleMetrics(window, hit, payout, ev, edge, kelly)


# --- one market, priced ------------------------------------------------------------


@dataclass
class FairLine:
    probabilities: list[float]
    books: int
    reference: str


@dataclass
class MarketPricing:
    fair: FairLine | None
    best: list[tuple[str, float] | None]  # (book, price) per outcome
    arbitrage: float | None  # margin when > 0
    value_bets: list[tuple[int, str, float, float]] = field(default_factory=list)  # (outcome, book, d, p)


def fair_line(
    quotes: Mapping[str, Sequence[float | None]],
    *,
    sharp_books: Sequence[str] = ("pinnacle",),
    method: str = "multiplicative",
    reference: str = "sharp",
) -> FairLine | None:
    """Fair probabilities of a market from books' complete quotes: the sharp books' de-vigged
    line (averaged if several), or with `consensus` (or no sharp book quoting) the average of
    every complete book's de-vigged line."""
    complete = {
        book: prices for book, prices in quotes.items() if prices and all(p is not None for p in prices)
    }
    if not complete:
        return None
    used = reference
    chosen = [book for book in complete if book in sharp_books] if reference == "sharp" else []
    if not chosen:
        if reference == "sharp" and len(complete) < 3:
            return None
        chosen = list(complete)
        used = "consensus"
    rows = [devig(complete[book], method) for book in chosen]  # type: ignore[arg-type]
    n = len(rows)
    probabilities = [sum(column) / n for column in zip(*rows, strict=True)]
    return FairLine(probabilities=probabilities, books=n, reference=used)


def price_market(
    quotes: Mapping[str, Sequence[float | None]],
    *,
    sharp_books: Sequence[str] = ("pinnacle",),
    method: str = "multiplicative",
    reference: str = "sharp",
    min_ev: float = MIN_EV,
) -> MarketPricing:
    """Everything the edge finder needs for one market: fair line, best price per outcome,
    the arbitrage margin if there is one, and the +EV (outcome, book, price, fair p) bets."""
    n = len(next(iter(quotes.values()))) if quotes else 0
    best: list[tuple[str, float] | None] = [None] * n
    for book, prices in quotes.items():
        for i, price in enumerate(prices):
            if price is not None and (best[i] is None or price > best[i][1]):  # type: ignore[index]
                best[i] = (book, price)
    arbitrage = None
    if n >= 2 and all(b is not None for b in best):
        margin = arbitrage_margin([b[1] for b in best])  # type: ignore[index]
        if margin > 0:
            arbitrage = margin
    fair = fair_line(quotes, sharp_books=sharp_books, method=method, reference=reference)
    value_bets = []
    if fair is not None:
        for book, prices in quotes.items():
            if fair.reference == "sharp" and book in sharp_books:
                continue  # a sharp book is the yardstick, not an edge against itself
            for i, price in enumerate(prices):
                if price is None:
                    continue
                p = fair.probabilities[i]
                if p * price - 1.0 >= min_ev:
                    value_bets.append((i, book, price, p))
    return MarketPricing(fair=fair, best=best, arbitrage=arbitrage, value_bets=value_bets)
