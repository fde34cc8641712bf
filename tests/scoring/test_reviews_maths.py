"""The qualitative (360°) item and the template weight check of PRODUCT.md §3."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoring.reviews.maths import (
    DEFAULT_GROUP_WEIGHTS,
    Rating,
    qualitative_score,
    validate_template_weights,
)

D = Decimal


def ratings(group: str, *scores: int) -> list[Rating]:
    return [Rating(group, f"{group}-{i}", D(score)) for i, score in enumerate(scores)]


def test_default_group_weights() -> None:
    assert dict(DEFAULT_GROUP_WEIGHTS) == {
        "manager": D(60),
        "customer": D(20),
        "peer": D(20),
        "self": D(0),
    }
    assert all(isinstance(w, Decimal) for w in DEFAULT_GROUP_WEIGHTS.values())


def test_groups_are_averaged_first_then_weighted() -> None:
    result = qualitative_score(
        D(7),
        ratings("manager", 80, 90) + ratings("customer", 70) + ratings("peer", 60, 80, 100),
    )
    assert result.group_means == {"manager": D(85), "customer": D(70), "peer": D(80)}
    assert result.weighted_mean == D(81)
    assert result.score == D("5.67")
    assert str(result.score) == "5.67"
    assert result.used_weights == {"manager": D(60), "customer": D(20), "peer": D(20)}
    assert sum(result.used_weights.values()) == 100
    assert not result.renormalised
    assert result.missing_groups == []
    assert not result.incomplete
    assert result.self_mean is None


def test_a_missing_group_renormalises_the_others_and_says_so() -> None:
    result = qualitative_score(D(7), ratings("manager", 80, 90) + ratings("peer", 60, 80, 100))
    assert result.used_weights == {"manager": D(75), "peer": D(25)}
    assert result.renormalised
    assert result.missing_groups == ["customer"]
    # 0.75 × 85 + 0.25 × 80 = 83.75 → 7 × 83.75 / 100
    assert result.weighted_mean == D("83.75")
    assert result.score == D("5.8625")


def test_self_assessment_is_shown_but_not_weighted() -> None:
    base = ratings("manager", 80) + ratings("customer", 70) + ratings("peer", 60)
    without = qualitative_score(D(5), base)
    with_self = qualitative_score(D(5), [*base, Rating("self", "me", D(100))])
    assert with_self.score == without.score
    assert with_self.self_mean == D(100)
    assert with_self.group_means["self"] == D(100)
    assert "self" not in with_self.used_weights
    assert not with_self.renormalised


def test_only_self_ratings_leave_the_item_incomplete() -> None:
    result = qualitative_score(D(7), [Rating("self", "me", D(90)), Rating("self", "me2", D(70))])
    assert result.incomplete
    assert result.score is None
    assert result.weighted_mean is None
    assert result.self_mean == D(80)
    assert result.used_weights == {}
    assert result.missing_groups == ["manager", "customer", "peer"]
    assert not result.renormalised


def test_no_ratings_at_all_are_incomplete() -> None:
    result = qualitative_score(D(7), [])
    assert result.incomplete and result.score is None and result.self_mean is None


def test_a_rater_who_rated_twice_in_a_group_counts_once_with_the_latest_rating() -> None:
    result = qualitative_score(
        D(10),
        [
            Rating("manager", "m1", D(50)),
            Rating("manager", "m2", D(90)),
            Rating("manager", "m1", D(70)),  # m1 corrects their rating
        ],
    )
    assert result.group_means["manager"] == D(80)
    assert result.score == D(8)


def test_the_same_rater_in_two_groups_counts_in_both() -> None:
    result = qualitative_score(D(10), [Rating("manager", "x", D(80)), Rating("peer", "x", D(40))])
    assert result.group_means == {"manager": D(80), "peer": D(40)}
    assert result.weighted_mean == D(70)  # (60 × 80 + 20 × 40) / 80


@pytest.mark.parametrize("score", [D(101), D("-0.01"), D("100.001")])
def test_a_rating_outside_0_100_is_refused_naming_the_rater(score: Decimal) -> None:
    with pytest.raises(ValueError, match="alice"):
        Rating("peer", "alice", score)


def test_the_bounds_0_and_100_are_accepted() -> None:
    assert Rating("peer", "a", D(0)).score == 0
    assert Rating("peer", "a", D(100)).score == 100


def test_a_float_rating_is_refused() -> None:
    with pytest.raises(TypeError):
        Rating("peer", "a", 80.5)  # type: ignore[arg-type]


def test_an_unknown_group_is_refused() -> None:
    with pytest.raises(ValueError, match="board"):
        qualitative_score(D(5), [Rating("board", "b1", D(80))])


def test_custom_group_weights_with_thirds_sum_to_exactly_100() -> None:
    weights = {"manager": D(1), "customer": D(1), "peer": D(1)}
    result = qualitative_score(
        D(9),
        ratings("manager", 90) + ratings("customer", 60) + ratings("peer", 30),
        weights,
    )
    assert sum(result.used_weights.values()) == D(100)
    assert result.weighted_mean == D(60)
    assert result.score == D("5.4")


def test_a_negative_group_weight_is_refused() -> None:
    with pytest.raises(ValueError, match="peer"):
        qualitative_score(D(5), [], {"manager": D(60), "peer": D(-1)})


rating_scores = st.decimals(min_value=0, max_value=100, places=2, allow_nan=False)


@given(
    st.lists(
        st.tuples(st.sampled_from(["manager", "customer", "peer", "self"]), rating_scores),
        max_size=15,
    )
)
def test_the_score_stays_within_0_and_the_weight(entries: list[tuple[str, Decimal]]) -> None:
    result = qualitative_score(
        D(7), [Rating(group, f"r{i}", score) for i, (group, score) in enumerate(entries)]
    )
    weighted_present = {g for g, _ in entries if g != "self"}
    assert result.incomplete == (not weighted_present)
    if result.incomplete:
        assert result.score is None
    else:
        assert result.score is not None
        assert 0 <= result.score <= 7
        assert sum(result.used_weights.values()) == 100
        assert set(result.used_weights) == weighted_present
        assert result.renormalised == (len(weighted_present) < 3)


# Template weights


NEW_BUSINESS_REP = [
    ("new-customer revenue", D(30), "quantitative"),
    ("new-customer count", D(25), "quantitative"),
    ("new-customer conversion", D(15), "quantitative"),
    ("effective visits", D(10), "quantitative"),
    ("response time", D(8), "quantitative"),
    ("collaboration", D(7), "qualitative"),
    ("compliance", D(5), "qualitative"),
]


def test_the_new_business_rep_template_is_88_percent_quantitative() -> None:
    assert validate_template_weights(NEW_BUSINESS_REP) == D(88)


def test_weights_adding_up_to_105_are_refused_with_the_sum() -> None:
    items = [*NEW_BUSINESS_REP, ("extra", D(5), "qualitative")]
    with pytest.raises(ValueError, match="the weights add up to 105, not 100"):
        validate_template_weights(items)


def test_weights_under_100_are_refused_with_the_sum() -> None:
    with pytest.raises(ValueError, match=r"add up to 99\.5, not 100"):
        validate_template_weights([("a", D("49.5"), "quantitative"), ("b", D(50), "qualitative")])


def test_an_unknown_item_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="bonus"):
        validate_template_weights([("a", D(100), "bonus")])


def test_decimal_weights_summing_to_100_are_accepted() -> None:
    share = validate_template_weights(
        [("a", D("70.5"), "quantitative"), ("b", D("29.50"), "qualitative")]
    )
    assert share == D("70.5")
