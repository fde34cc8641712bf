"""The quantitative item formula of PRODUCT.md §3."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoring.score.maths import Direction, quantitative_score

D = Decimal


def test_worked_example_is_capped_at_the_weight() -> None:
    # target 1,000,000, actual 1,200,000, weight 30 → 36 → capped at 30
    result = quantitative_score(weight=D(30), target=D(1_000_000), actual=D(1_200_000))
    assert result.ratio == D("1.2")
    assert result.score == D(30)
    assert result.capped


def test_cap_multiplier_lets_the_score_exceed_the_weight_up_to_cap() -> None:
    result = quantitative_score(weight=D(30), target=D(100), actual=D(120), cap=D("1.5"))
    assert result.score == D(36)
    assert quantitative_score(weight=D(30), target=D(100), actual=D(200), cap=D("1.5")).score == D(
        45
    )


def test_lower_is_better_inverts_the_ratio() -> None:
    # response time target 2 h, actual 4 h → half the weight
    result = quantitative_score(
        weight=D(8), target=D(2), actual=D(4), direction=Direction.lower_is_better
    )
    assert result.ratio == D("0.5")
    assert result.score == D(4)


def test_lower_is_better_with_zero_actual_scores_the_cap() -> None:
    result = quantitative_score(
        weight=D(8), target=D(2), actual=D(0), direction=Direction.lower_is_better
    )
    assert result.ratio == D(1)
    assert result.score == D(8)


def test_floor_zeroes_a_ratio_below_it_and_keeps_one_at_it() -> None:
    assert quantitative_score(weight=D(10), target=D(100), actual=D(59), floor=D("0.6")).score == 0
    assert quantitative_score(weight=D(10), target=D(100), actual=D(60), floor=D("0.6")).score == D(
        6
    )


def test_negative_actual_after_refunds_scores_zero() -> None:
    assert quantitative_score(weight=D(30), target=D(100), actual=D(-50)).score == 0


def test_target_must_be_positive() -> None:
    with pytest.raises(ValueError):
        quantitative_score(weight=D(30), target=D(0), actual=D(10))


amounts = st.decimals(
    min_value=-(10**9), max_value=10**9, allow_nan=False, allow_infinity=False, places=2
)
targets = st.decimals(
    min_value=D("0.01"), max_value=10**9, allow_nan=False, allow_infinity=False, places=2
)
weights = st.decimals(min_value=D(1), max_value=D(100), places=0)
caps = st.decimals(min_value=D("0.5"), max_value=D(3), places=2)


@given(weights, targets, amounts, amounts, caps)
def test_higher_is_better_is_monotone_bounded_and_never_negative(w, t, a1, a2, c) -> None:
    low, high = sorted((a1, a2))
    s_low = quantitative_score(weight=w, target=t, actual=low, cap=c).score
    s_high = quantitative_score(weight=w, target=t, actual=high, cap=c).score
    assert 0 <= s_low <= s_high <= c * w


@given(weights, targets, amounts, caps, st.sampled_from(list(Direction)))
def test_never_above_cap_times_weight_never_negative(w, t, a, c, direction) -> None:
    s = quantitative_score(weight=w, target=t, actual=a, cap=c, direction=direction).score
    assert 0 <= s <= c * w
