from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from goals.funnel.maths import (
    STAGES,
    StageEvent,
    cohort_of,
    days_between,
    deal_paths,
    funnel,
    in_period,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def ev(deal: str, stage: str, days: float = 0) -> StageEvent:
    return StageEvent(deal_id=deal, stage=stage, occurred_at=T0 + timedelta(days=days))


def chain(deal: str, upto: int, gaps: tuple[float, ...] = (1, 1, 1)) -> list[StageEvent]:
    """Events for the first ``upto`` stages, each ``gaps[k]`` days after the previous one."""
    events, at = [], 0.0
    for k in range(upto):
        events.append(ev(deal, STAGES[k], at))
        if k < len(gaps):
            at += gaps[k]
    return events


def ten_six_three_one() -> list[StageEvent]:
    reach = [4] + [3] * 2 + [2] * 3 + [1] * 4  # 1 won, 3 quoted, 6 contacted, 10 leads
    return [e for i, upto in enumerate(reach) for e in chain(f"d{i}", upto)]


def test_conversion_per_stage_weakest_and_overall() -> None:
    f = funnel(ten_six_three_one())
    assert [s.deals for s in f.stages] == [10, 6, 3, 1]
    assert [s.name for s in f.stages] == ["lead", "first contact", "quote", "won"]
    assert [(t.entered, t.converted) for t in f.transitions] == [(10, 6), (6, 3), (3, 1)]
    assert [t.conversion for t in f.transitions] == [
        Decimal("0.6"),
        Decimal("0.5"),
        Decimal(1) / Decimal(3),
    ]
    assert f.weakest is not None
    assert (f.weakest.from_stage, f.weakest.to_stage) == ("quote_sent", "deal_won")
    assert f.weakest.name == "quote → won"
    assert f.overall == Decimal("0.1")
    assert [t.median_days for t in f.transitions] == [Decimal("1.00")] * 3
    assert [t.sample for t in f.transitions] == [6, 3, 1]


def test_median_days_odd_and_even_samples() -> None:
    odd = [e for d, gap in (("a", 1), ("b", 2), ("c", 4)) for e in chain(d, 2, (gap,))]
    first = funnel(odd).transitions[0]
    assert (first.median_days, first.sample) == (Decimal(2), 3)
    even = [e for d, gap in (("a", 1), ("b", 2)) for e in chain(d, 2, (gap,))]
    first = funnel(even).transitions[0]
    assert (first.median_days, first.sample) == (Decimal("1.5"), 2)


def test_fractional_days_rounded_to_two_decimals() -> None:
    assert days_between(T0, T0 + timedelta(hours=8)) == Decimal("0.33")
    assert days_between(T0, T0 + timedelta(hours=36)) == Decimal("1.50")
    # different offsets, same instant arithmetic
    later = (T0 + timedelta(days=1)).astimezone(timezone(timedelta(hours=8)))
    assert days_between(T0, later) == Decimal("1.00")


def test_only_won_reaches_every_stage_but_has_no_durations() -> None:
    assert deal_paths([ev("w", "deal_won", 3)]) == {
        "w": {
            "lead_created": None,
            "first_contact": None,
            "quote_sent": None,
            "deal_won": T0 + timedelta(days=3),
        }
    }
    f = funnel([ev("w", "deal_won", 3)])
    assert [s.deals for s in f.stages] == [1, 1, 1, 1]
    assert [t.conversion for t in f.transitions] == [Decimal(1)] * 3
    assert [(t.median_days, t.sample) for t in f.transitions] == [(None, 0)] * 3
    assert f.overall == Decimal(1)


def test_duplicate_stage_events_keep_the_earliest() -> None:
    events = [ev("a", "lead_created", 2), ev("a", "lead_created", 0), ev("a", "first_contact", 3)]
    assert deal_paths(events)["a"]["lead_created"] == T0
    first = funnel(events).transitions[0]
    assert (first.median_days, first.sample) == (Decimal(3), 1)


def test_out_of_order_times_count_for_conversion_not_for_median() -> None:
    f = funnel([ev("a", "lead_created", 5), ev("a", "first_contact", 1)])
    first = f.transitions[0]
    assert (first.conversion, first.median_days, first.sample) == (Decimal(1), None, 0)


def test_deal_lost_is_ignored() -> None:
    events = [*chain("a", 2), ev("a", "deal_lost", 5), ev("b", "deal_lost", 1)]
    assert set(deal_paths(events)) == {"a"}
    assert [s.deals for s in funnel(events).stages] == [1, 1, 0, 0]


def test_empty_input() -> None:
    f = funnel([])
    assert [s.deals for s in f.stages] == [0, 0, 0, 0]
    assert all(
        (t.entered, t.converted, t.conversion, t.median_days, t.sample) == (0, 0, None, None, 0)
        for t in f.transitions
    )
    assert f.weakest is None
    assert f.overall is None
    assert asdict(f)["overall"] is None


def test_weakest_tie_picks_the_earlier_transition() -> None:
    # 4 leads, 2 contacted, 1 quoted, 1 won: 0.5, 0.5, 1
    events = [*chain("a", 4), *chain("b", 2), *chain("c", 1), *chain("d", 1)]
    f = funnel(events)
    assert [t.conversion for t in f.transitions] == [Decimal("0.5"), Decimal("0.5"), Decimal(1)]
    assert f.weakest is not None
    assert f.weakest.from_stage == "lead_created"


def test_cohort_is_the_earliest_known_time() -> None:
    events = [
        *chain("march", 4, (10, 10, 10)),  # starts 2 March, won in April
        ev("april", "lead_created", 31),
        ev("implied", "quote_sent", 3),  # earliest known time is its quote
    ]
    paths = deal_paths(events)
    assert cohort_of(paths["march"]) == T0
    assert cohort_of(paths["implied"]) == T0 + timedelta(days=3)
    assert cohort_of({}) is None
    march = in_period(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
    f = funnel(events, cohort=march)
    assert [s.deals for s in f.stages] == [2, 2, 2, 1]
    assert funnel(events, cohort=lambda deal_id, _path: deal_id == "april").stages[0].deals == 1


def test_naive_times_are_rejected() -> None:
    with pytest.raises(ValueError):
        StageEvent(deal_id="a", stage="lead_created", occurred_at=datetime(2026, 3, 1))


events_strategy = st.lists(
    st.builds(
        StageEvent,
        deal_id=st.sampled_from(["a", "b", "c", "d", "e"]),
        stage=st.sampled_from([*STAGES, "deal_lost"]),
        occurred_at=st.datetimes(
            min_value=datetime(2025, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(UTC)
        ),
    ),
    max_size=40,
)


@given(events_strategy)
def test_counts_never_increase_and_conversions_are_ratios(events: list[StageEvent]) -> None:
    f = funnel(events)
    counts = [s.deals for s in f.stages]
    assert counts == sorted(counts, reverse=True)
    for t in f.transitions:
        assert t.converted <= t.entered
        assert t.sample <= t.converted
        if t.conversion is not None:
            assert Decimal(0) <= t.conversion <= Decimal(1)
        if t.median_days is not None:
            assert t.median_days >= 0
    if f.weakest is not None:
        assert f.weakest.conversion == min(
            t.conversion for t in f.transitions if t.conversion is not None
        )
    if f.overall is not None:
        assert Decimal(0) <= f.overall <= Decimal(1)
