"""Grades, ranks and forced-distribution calibration of PRODUCT.md §3."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.grades.maths import (
    DEFAULT_BANDS,
    DEFAULT_QUOTAS,
    Band,
    Proposal,
    Quota,
    apply_proposals,
    competition_ranks,
    grade_of,
    propose_moves,
    quota_counts,
    round_total,
    validate_bands,
    violations,
)

D = Decimal
ORDER = {band.grade: index for index, band in enumerate(DEFAULT_BANDS)}

# Bands and grades


@pytest.mark.parametrize(
    ("total", "grade"),
    [
        ("100", "S"),
        ("90.00", "S"),
        ("89.99", "A"),
        ("80", "A"),
        ("79.99", "B"),
        ("70", "B"),
        ("69.99", "C"),
        ("60", "C"),
        ("59.99", "D"),
        ("0", "D"),
    ],
)
def test_both_sides_of_each_band_bound(total: str, grade: str) -> None:
    assert grade_of(D(total)) == grade


def test_the_grade_is_taken_on_the_total_rounded_half_up() -> None:
    assert round_total(D("89.995")) == D("90.00")
    assert grade_of(D("89.995")) == "S"
    assert round_total(D("89.994")) == D("89.99")
    assert grade_of(D("89.994")) == "A"
    assert round_total(D("59.995")) == D("60.00")
    assert grade_of(D("59.995")) == "C"
    assert str(round_total(D(81))) == "81.00"


def test_custom_bands() -> None:
    bands = (Band("Excellent", D(85)), Band("Good", D("65.5")), Band("Needs work", D(0)))
    assert validate_bands(bands) == bands
    assert grade_of(D(85), bands) == "Excellent"
    assert grade_of(D("84.99"), bands) == "Good"
    assert grade_of(D("65.5"), bands) == "Good"
    assert grade_of(D("65.49"), bands) == "Needs work"
    # the last band catches the rest, whatever its own lower bound
    assert grade_of(D(-3), bands) == "Needs work"


@pytest.mark.parametrize(
    ("bands", "message"),
    [
        ((), "at least one"),
        ((Band("S", D(90)), Band("A", D(90)), Band("D", D(0))), "decrease"),
        ((Band("S", D(80)), Band("A", D(90)), Band("D", D(0))), "decrease"),
        ((Band("S", D(90)), Band("S", D(80)), Band("D", D(0))), "twice"),
        ((Band("S", D("-Infinity")), Band("D", D("-Infinity"))), "finite"),
    ],
)
def test_invalid_bands_are_refused(bands: tuple[Band, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_bands(bands)
    with pytest.raises(ValueError):
        grade_of(D(50), bands)


def test_a_band_refuses_a_float_or_nan_bound() -> None:
    with pytest.raises(TypeError):
        Band("S", 90.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Band("S", D("NaN"))


def test_competition_ranks_share_and_skip() -> None:
    ranks = competition_ranks({"a": D(95), "b": D(88), "c": D("88.004"), "d": D(70)})
    assert ranks == {"a": 1, "b": 2, "c": 2, "d": 4}


def test_ranks_are_on_rounded_totals() -> None:
    ranks = competition_ranks({"a": D("89.995"), "b": D(90), "c": D("89.994")})
    assert ranks == {"a": 1, "b": 1, "c": 3}


def test_ranks_of_an_empty_team() -> None:
    assert competition_ranks({}) == {}


# Quotas


def test_quota_counts_for_20_people() -> None:
    s, a, b, cd = DEFAULT_QUOTAS
    assert quota_counts(s, 20) == (None, 3)
    assert quota_counts(a, 20) == (4, 6)
    assert quota_counts(b, 20) == (8, 12)
    assert quota_counts(cd, 20) == (1, None)


def test_quota_counts_round_minima_up_and_maxima_down() -> None:
    s, a, b, cd = DEFAULT_QUOTAS
    assert quota_counts(s, 13) == (None, 1)  # 1.95 → 1
    assert quota_counts(a, 13) == (3, 3)  # 2.6 → 3, 3.9 → 3
    assert quota_counts(b, 13) == (6, 7)  # 5.2 → 6, 7.8 → 7
    assert quota_counts(cd, 13) == (1, None)  # 0.65 → 1


def test_invalid_quotas_are_refused() -> None:
    with pytest.raises(ValueError):
        Quota(("A",), D("0.4"), D("0.3"))
    with pytest.raises(ValueError):
        Quota(("A",), None, D("1.5"))
    with pytest.raises(ValueError):
        Quota((), None, None)
    with pytest.raises(TypeError):
        Quota(("A",), None, 0.3)  # type: ignore[arg-type]
    totals = {f"p{i}": D(50) for i in range(10)}
    grades = dict.fromkeys(totals, "D")
    with pytest.raises(ValueError, match="adjacent"):
        propose_moves(totals, grades, quotas=(Quota(("S", "C"), None, D("0.5")),))
    with pytest.raises(ValueError, match="more than one"):
        propose_moves(
            totals, grades, quotas=(Quota(("S",), None, None), Quota(("S", "A"), None, None))
        )


# Calibration

SKEWED_COUNTS = {"S": 8, "A": 6, "B": 5, "C": 1}


def skewed_team() -> tuple[dict[str, Decimal], dict[str, str]]:
    """20 people with distinct totals: 8 S, 6 A, 5 B, 1 C; p01 is the best."""
    totals: dict[str, Decimal] = {}
    start = {"S": D(99), "A": D(89), "B": D(79), "C": D(65)}
    number = 1
    for grade, count in SKEWED_COUNTS.items():
        for k in range(count):
            totals[f"p{number:02d}"] = start[grade] - k
            number += 1
    grades = {person: grade_of(total) for person, total in totals.items()}
    return totals, grades


def assert_order_preserved(totals: dict[str, Decimal], grades: dict[str, str]) -> None:
    rounded = {person: round_total(total) for person, total in totals.items()}
    for a in totals:
        for b in totals:
            if rounded[a] > rounded[b]:
                assert ORDER[grades[a]] <= ORDER[grades[b]], (a, b, grades[a], grades[b])


def test_a_skewed_team_of_20_reports_violations() -> None:
    _, grades = skewed_team()
    assert list(grades.values()).count("S") == 8
    found = violations(grades)
    assert [(v.grades, v.actual, v.min_people, v.max_people) for v in found] == [
        (("S",), 8, None, 3),
        (("B",), 5, 8, 12),
    ]
    assert "at most 3" in found[0].message
    assert "at least 8" in found[1].message


def test_a_skewed_team_of_20_gets_moves_by_rank() -> None:
    totals, grades = skewed_team()
    report = propose_moves(totals, grades)
    assert not report.report_only
    assert report.team_size == 20
    assert len(report.violations) == 2
    moves = [(p.person_id, p.from_grade, p.to_grade, p.rank) for p in report.proposals]
    # the 5 lowest-ranked S move to A; A then holds too many, so its 5 lowest move to B
    assert moves == [
        ("p04", "S", "A", 4),
        ("p05", "S", "A", 5),
        ("p06", "S", "A", 6),
        ("p07", "S", "A", 7),
        ("p08", "S", "A", 8),
        ("p10", "A", "B", 10),
        ("p11", "A", "B", 11),
        ("p12", "A", "B", 12),
        ("p13", "A", "B", 13),
        ("p14", "A", "B", 14),
    ]
    assert report.proposals[0].total == D("96.00")
    final = apply_proposals(grades, report.proposals)
    assert violations(final) == []
    counts = {grade: list(final.values()).count(grade) for grade in "SABCD"}
    assert counts == {"S": 3, "A": 6, "B": 10, "C": 1, "D": 0}
    assert_order_preserved(totals, final)
    assert report.notes == []


def test_too_few_c_and_d_moves_the_lowest_ranked_b_to_c() -> None:
    # 20 people: 3 S, 5 A, 12 B, no C/D → C+D needs 1: the lowest-ranked B becomes C
    totals = {f"p{i:02d}": D(95) - i for i in range(3)}
    totals |= {f"p{i:02d}": D(88) - i for i in range(3, 8)}
    totals |= {f"p{i:02d}": D(79) - D(i - 8) / 2 for i in range(8, 20)}
    grades = {person: grade_of(total) for person, total in totals.items()}
    assert list(grades.values()).count("B") == 12
    report = propose_moves(totals, grades)
    assert [(p.person_id, p.from_grade, p.to_grade) for p in report.proposals] == [
        ("p19", "B", "C")
    ]
    assert violations(apply_proposals(grades, report.proposals)) == []


def test_too_few_a_moves_the_highest_ranked_b_up() -> None:
    # 20 people: 2 S, 1 A, 16 B, 1 D → A needs 4 and B allows 12
    totals = {"p00": D(95), "p01": D(92), "p02": D(85)}
    totals |= {f"p{i:02d}": D(79) - D(i) / 4 for i in range(3, 19)}
    totals["p19"] = D(40)
    grades = {person: grade_of(total) for person, total in totals.items()}
    report = propose_moves(totals, grades)
    moves = [(p.person_id, p.from_grade, p.to_grade) for p in report.proposals]
    assert moves[:3] == [("p03", "B", "A"), ("p04", "B", "A"), ("p05", "B", "A")]
    final = apply_proposals(grades, report.proposals)
    assert violations(final) == []
    assert_order_preserved(totals, final)


def test_a_team_under_10_gets_a_report_only() -> None:
    totals = {f"p{i}": D(95) - i for i in range(9)}
    grades = {person: grade_of(total) for person, total in totals.items()}
    report = propose_moves(totals, grades)
    assert report.report_only
    assert report.violations  # 9 S, at most 1 allowed, ...
    assert report.proposals == []
    assert "report only" in report.notes[0]


def test_a_team_within_the_quotas_gets_no_proposal() -> None:
    totals, grades = skewed_team()
    final = apply_proposals(grades, propose_moves(totals, grades).proposals)
    report = propose_moves(totals, final)
    assert report.violations == [] and report.proposals == []


def test_ties_move_together_when_the_quota_allows() -> None:
    # 20 people, 4 S where the 3rd and 4th are tied: S ≤ 3 would split the tie, so both go
    totals = {"p00": D(99), "p01": D(98), "p02": D(95), "p03": D(95)}
    totals |= {f"p{i:02d}": D(89) - i for i in range(4, 9)}
    totals |= {f"p{i:02d}": D(79) - D(i) / 4 for i in range(9, 19)}
    totals["p19"] = D(40)
    grades = {person: grade_of(total) for person, total in totals.items()}
    report = propose_moves(totals, grades)
    moved = {p.person_id: p.to_grade for p in report.proposals}
    assert moved.get("p02") == moved.get("p03") == "A"
    assert report.proposals[0].rank == 3
    final = apply_proposals(grades, report.proposals)
    assert violations(final) == []
    assert report.notes == []


def test_an_unavoidable_split_of_a_tie_is_noted() -> None:
    totals = {f"p{i:02d}": D(95) for i in range(20)}
    grades = dict.fromkeys(totals, "S")
    report = propose_moves(totals, grades)
    final = apply_proposals(grades, report.proposals)
    assert violations(final) == []
    assert report.notes and "tied at 95.00" in report.notes[0]


def test_quotas_no_grading_can_satisfy_are_reported_only() -> None:
    quotas = (Quota(("S",), D("0.6"), None), Quota(("A",), D("0.6"), None))
    totals = {f"p{i:02d}": D(50) for i in range(10)}
    grades = dict.fromkeys(totals, "D")
    report = propose_moves(totals, grades, quotas=quotas)
    assert report.report_only and report.proposals == [] and report.violations


def test_inputs_must_match() -> None:
    with pytest.raises(ValueError, match="same people"):
        propose_moves({"a": D(1)}, {"b": "D"})
    with pytest.raises(ValueError, match="unknown grade"):
        propose_moves({"a": D(1)}, {"a": "Z"})


def test_apply_proposals_refuses_a_stale_move() -> None:
    with pytest.raises(ValueError, match="holds A"):
        apply_proposals({"a": "A"}, [Proposal("a", "S", "B", 1, D(90))])
    assert apply_proposals({"a": "S", "b": "A"}, [Proposal("a", "S", "A", 1, D(91))]) == {
        "a": "A",
        "b": "A",
    }


totals_strategy = st.integers(min_value=10, max_value=40).flatmap(
    lambda n: st.lists(
        st.decimals(min_value=0, max_value=100, places=3, allow_nan=False, allow_infinity=False),
        min_size=n,
        max_size=n,
    )
)


@settings(max_examples=200, deadline=None)
@given(totals_strategy)
def test_calibration_never_inverts_the_total_order(values: list[Decimal]) -> None:
    totals = {f"p{i:02d}": value for i, value in enumerate(values)}
    grades = {person: grade_of(total) for person, total in totals.items()}
    report = propose_moves(totals, grades)
    assert not report.report_only
    final = apply_proposals(grades, report.proposals)
    assert_order_preserved(totals, final)
    assert violations(final) == []
    ranks = competition_ranks(totals)
    for proposal in report.proposals:
        assert proposal.rank == ranks[proposal.person_id]
        assert proposal.total == round_total(totals[proposal.person_id])
        assert proposal.from_grade == grades[proposal.person_id]
    assert [p.rank for p in report.proposals] == sorted(p.rank for p in report.proposals)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from([D(95), D(85), D(75), D(65), D(55)]), min_size=10, max_size=40))
def test_calibration_with_many_ties_still_satisfies_the_quotas(values: list[Decimal]) -> None:
    totals = {f"p{i:02d}": value for i, value in enumerate(values)}
    grades = {person: grade_of(total) for person, total in totals.items()}
    final = apply_proposals(grades, propose_moves(totals, grades).proposals)
    assert violations(final) == []
    assert_order_preserved(totals, final)
