"""PRODUCT.md §4 worked examples to the cent, tier boundaries, and properties of the tier maths."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incentives.plan.maths import (
    DEFAULT_TIERS,
    PlanError,
    Tier,
    competition_ranks,
    grade_adjusted,
    marginal_commission,
    nps,
    over_achievement_bonus,
    retroactive_commission,
    tier_reached,
    to_cents,
    top_n,
    validate_tiers,
)

D = Decimal
QUOTA = D(1_000_000)


def total(lines) -> Decimal:  # type: ignore[no-untyped-def]
    return sum((line.commission for line in lines), D(0))


def test_marginal_worked_example_is_43000() -> None:
    lines = marginal_commission(D(1_300_000), QUOTA)
    assert [(line.base, line.rate) for line in lines] == [
        (D(1_000_000), D("0.03")),
        (D(200_000), D("0.04")),
        (D(100_000), D("0.05")),
    ]
    assert to_cents(total(lines)) == D("43000.00")


def test_retroactive_worked_example_is_65000() -> None:
    assert to_cents(retroactive_commission(D(1_300_000), QUOTA)) == D("65000.00")


def test_over_achievement_worked_example_and_the_jump_at_120_percent() -> None:
    assert over_achievement_bonus(D(1_300_000), QUOTA) == D(3000)
    assert over_achievement_bonus(D(1_200_000), QUOTA) == 0  # strictly above 120%
    assert to_cents(over_achievement_bonus(D("1200000.01"), QUOTA)) == D("2000.00")


@pytest.mark.parametrize(
    ("base", "rate"),
    [
        (D("999999.99"), D("0.03")),
        (D(1_000_000), D("0.04")),
        (D("1199999.99"), D("0.04")),
        (D(1_200_000), D("0.05")),
        (D("1200000.01"), D("0.05")),
    ],
)
def test_bands_include_their_lower_bound(base: Decimal, rate: Decimal) -> None:
    assert tier_reached(base / QUOTA).rate == rate
    assert retroactive_commission(base, QUOTA) == base * rate


def test_marginal_at_exact_boundaries() -> None:
    assert total(marginal_commission(D(1_000_000), QUOTA)) == D(30_000)
    assert total(marginal_commission(D(1_200_000), QUOTA)) == D(38_000)


def test_refunds_beyond_payments_reverse_at_the_first_rate() -> None:
    assert total(marginal_commission(D(-10_000), QUOTA)) == D(-300)
    assert marginal_commission(D(0), QUOTA) == []


def test_invalid_tiers_are_refused_with_the_reason() -> None:
    with pytest.raises(PlanError, match="start at 0%"):
        validate_tiers([Tier(D("0.5"), D("0.03"))])
    with pytest.raises(PlanError, match="must rise"):
        validate_tiers([Tier(D(0), D("0.03")), Tier(D(1), D("0.04")), Tier(D(1), D("0.05"))])
    with pytest.raises(PlanError, match=r"outside 0\.\.1"):
        validate_tiers([Tier(D(0), D("1.5"))])


def test_top_n_with_ties_pays_everyone_ranked_within_n() -> None:
    counts = {"a": D(9), "b": D(7), "c": D(7), "d": D(5), "e": D(7)}
    assert competition_ranks(counts) == {"a": 1, "b": 2, "c": 2, "d": 5, "e": 2}
    assert top_n(counts, 3) == {"a", "b", "c", "e"}
    assert top_n({"a": D(3), "b": D(3), "c": D(1), "d": D(0)}, 3) == {"a", "b", "c"}


def test_nps_needs_enough_responses() -> None:
    assert nps([10] * 9) is None
    assert nps([10] * 9 + [9]) == D(100)
    assert nps([10] * 6 + [8] * 2 + [3] * 2) == D(40)


def test_grade_coefficients() -> None:
    assert [grade_adjusted(D(1000), g) for g in "SABCD"] == [
        D(1500),
        D(1200),
        D(1000),
        D(800),
        D(0),
    ]


money = st.decimals(
    min_value=0, max_value=D(5_000_000), places=2, allow_nan=False, allow_infinity=False
)


@given(money, money)
def test_marginal_is_non_decreasing_and_continuous(a: Decimal, b: Decimal) -> None:
    low, high = sorted((a, b))
    c_low, c_high = total(marginal_commission(low, QUOTA)), total(marginal_commission(high, QUOTA))
    assert c_low <= c_high
    # continuous: the increase never exceeds the highest rate times the increase in base
    assert c_high - c_low <= (high - low) * max(t.rate for t in DEFAULT_TIERS)


@given(money, money)
def test_retroactive_jumps_only_at_tier_boundaries(a: Decimal, b: Decimal) -> None:
    low, high = sorted((a, b))
    if tier_reached(low / QUOTA) == tier_reached(high / QUOTA):
        rate = tier_reached(low / QUOTA).rate
        assert (
            retroactive_commission(high, QUOTA) - retroactive_commission(low, QUOTA)
            == (high - low) * rate
        )


@given(money, st.decimals(min_value=D("0.01"), max_value=D(100_000), places=2))
def test_a_refund_then_the_same_payment_leaves_pay_unchanged(
    base: Decimal, payment: Decimal
) -> None:
    before = total(marginal_commission(base, QUOTA))
    after = total(marginal_commission(base - payment + payment, QUOTA))
    assert before == after
