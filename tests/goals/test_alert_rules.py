"""Early-warning alert rules (goals.alerts.rules): each rule's exact boundary, custom
thresholds, the figures carried, and the dedupe subjects."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Context, Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from goals.alerts.rules import (
    BEHIND_PACE,
    BURST,
    LATE_ENTRY,
    REPEATED_FOLLOW_UP,
    SPIKE_DROP,
    STALLED,
    Finding,
    Thresholds,
    behind_pace,
    burst,
    burst_threshold,
    late_entry,
    outlived,
    pace_recovered,
    projected_attainment,
    repeated_follow_up,
    spike_drop,
    stalled,
)

D = Decimal
TH = Thresholds()
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = date(2026, 3, 2)
SECOND = timedelta(seconds=1)


def pace(actual: str, target: str, elapsed: str, th: Thresholds = TH) -> Finding | None:
    return behind_pace(
        D(actual), D(target), D(elapsed), th, person="p1", metric="revenue", period="2026-Q1"
    )


def late(delay: timedelta, backfill: bool = False, th: Thresholds = TH) -> Finding | None:
    return late_entry(T0, T0 + delay, backfill, th, activity_id="a1")


def stall(gap: timedelta, th: Thresholds = TH) -> Finding | None:
    return stalled(T0, T0 + gap, th, deal_id="d1")


def bursts(count: int, trailing: list[int], th: Thresholds = TH) -> Finding | None:
    return burst(count, trailing, th, person="p1", day=DAY)


def follow_ups(count: int, th: Thresholds = TH) -> Finding | None:
    return repeated_follow_up(count, th, person="p1", customer="c1", day=DAY)


def spike(current: str, previous: str, th: Thresholds = TH) -> Finding | None:
    return spike_drop(D(current), D(previous), th, owner="p1", metric="revenue", period="2026-03")


# --- thresholds ----------------------------------------------------------------------------


def test_threshold_defaults_match_the_product_spec() -> None:
    assert TH.pace_threshold == D("0.9")
    assert TH.pace_critical == D("0.7")
    assert TH.pace_min_elapsed == D("0.2")
    assert TH.late_hours == 24
    assert TH.stalled_days == 14
    assert TH.burst_floor == 50
    assert TH.burst_sigmas == 3
    assert TH.burst_window_days == 28
    assert TH.follow_up_max == 5
    assert TH.spike_change == D("0.5")


def test_thresholds_accept_tenant_settings_as_json_values() -> None:
    th = Thresholds.model_validate(
        {"pace_threshold": "0.85", "late_hours": 12, "spike_change": 0.3}
    )
    assert th.pace_threshold == D("0.85")
    assert th.late_hours == 12
    assert th.spike_change == D("0.3")
    assert th.burst_floor == 50  # untouched settings keep their defaults


@pytest.mark.parametrize(
    "settings",
    [
        {"pace_threshold": 0},
        {"pace_critical": -0.1},
        {"pace_threshold": "0.6"},  # below the default critical band 0.7
        {"pace_threshold": "0.8", "pace_critical": "0.85"},
        {"pace_min_elapsed": 0},
        {"pace_min_elapsed": "1.5"},
        {"late_hours": -1},
        {"stalled_days": 0},
        {"burst_floor": -1},
        {"burst_sigmas": -1},
        {"burst_window_days": 0},
        {"follow_up_max": -1},
        {"spike_change": 0},
        {"spike_change": "NaN"},
        {"late_hours": "Infinity"},
        {"pace_treshold": "0.8"},  # misspelt keys are rejected, not ignored
    ],
)
def test_invalid_thresholds_are_rejected(settings: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Thresholds.model_validate(settings)


def test_thresholds_are_immutable() -> None:
    with pytest.raises(ValidationError):
        TH.late_hours = D(1)  # type: ignore[misc]


# --- behind pace ---------------------------------------------------------------------------


def test_pace_is_not_judged_before_the_minimum_elapsed_fraction() -> None:
    assert pace("0", "1000", "0.1999") is None
    assert not pace_recovered(D(0), D(1000), D("0.1999"), TH)  # no verdict either way
    found = pace("0", "1000", "0.2")
    assert found is not None
    assert found.rule == BEHIND_PACE
    assert found.severity == "critical"


def test_pace_fires_just_below_the_threshold_not_at_it() -> None:
    # 450 / 1000 at half-time projects exactly 90 %
    assert pace("450", "1000", "0.5") is None
    found = pace("449.9999999", "1000", "0.5")
    assert found is not None
    assert found == Finding(
        rule=BEHIND_PACE,
        subject="p1|revenue|2026-Q1",
        severity="warning",
        figures={
            "actual": "449.9999999",
            "target": "1000",
            "attainment": "0.4499999999",
            "elapsed": "0.5",
            "projected": "0.8999999998",
            "threshold": "0.9",
        },
    )
    assert found.evidence_requested is False


def test_pace_boundary_is_exact_for_a_non_terminating_elapsed_fraction() -> None:
    third = D(1) / D(3)  # 0.333…3 (28 digits)
    with localcontext(Context(prec=100)):
        on_pace = D("0.9") * D(300) * third  # 89.99…9 (30 digits): projects exactly 90 %
    assert behind_pace(on_pace, D(300), third, TH, person="p", metric="m", period="q") is None
    assert pace_recovered(on_pace, D(300), third, TH)
    with localcontext(Context(prec=100)):
        below = on_pace - D("1E-30")
    assert behind_pace(below, D(300), third, TH, person="p", metric="m", period="q") is not None


def test_pace_severity_is_critical_below_the_critical_band() -> None:
    warning = pace("350", "1000", "0.5")  # projected 0.70
    assert warning is not None and warning.severity == "warning"
    critical = pace("349.99", "1000", "0.5")  # projected 0.69998
    assert critical is not None and critical.severity == "critical"


def test_pace_needs_a_positive_target_and_a_fraction_in_range() -> None:
    assert pace("0", "0", "0.5") is None
    assert pace("0", "-10", "0.5") is None
    assert not pace_recovered(D(0), D(0), D("0.5"), TH)
    assert pace("1000", "1000", "1") is None  # full period, on target
    with pytest.raises(ValueError):
        pace("0", "1000", "1.01")
    with pytest.raises(ValueError):
        pace_recovered(D(0), D(1000), D("-0.1"), TH)


def test_pace_with_custom_thresholds() -> None:
    th = Thresholds(pace_threshold=D("0.8"), pace_critical=D("0.5"), pace_min_elapsed=D("0.1"))
    assert pace("0", "1000", "0.1", th) is not None
    assert pace("400", "1000", "0.5", th) is None  # projected 0.8
    found = pace("399", "1000", "0.5", th)
    assert found is not None and found.severity == "warning"
    found = pace("249", "1000", "0.5", th)
    assert found is not None and found.severity == "critical"


def test_pace_recovered_is_the_negation_once_pace_can_be_judged() -> None:
    assert not pace_recovered(D("449.99"), D(1000), D("0.5"), TH)
    assert pace_recovered(D(450), D(1000), D("0.5"), TH)
    assert pace_recovered(D(2000), D(1000), D("0.5"), TH)
    # the same alert flips from firing to recovered as actuals arrive
    for actual in ("100", "449.99", "450", "451"):
        fired = pace(actual, "1000", "0.5") is not None
        assert fired is not pace_recovered(D(actual), D(1000), D("0.5"), TH)


def test_a_period_that_is_over_has_no_pace_verdict() -> None:
    # 10 % of the target when the period ended: an outcome, not a pace to warn about
    assert pace("100", "1000", "1") is None
    assert not pace_recovered(D(100), D(1000), D(1), TH)  # no verdict either way
    assert pace("100", "1000", "0.999") is not None


def test_a_projection_never_goes_below_zero() -> None:
    # refunds beyond collections: actual −300 of 1,000 with half the period gone
    found = pace("-300", "1000", "0.5")
    assert found is not None and found.severity == "critical"
    assert found.figures["projected"] == "0" and found.figures["attainment"] == "-0.3"
    assert projected_attainment(D(-189), D(1000), D("0.5")) == 0
    assert projected_attainment(D(450), D(1000), D("0.5")) == D("0.9")


@given(
    actual=st.decimals(min_value=-(10**9), max_value=10**9, places=2),
    target=st.decimals(min_value=D("0.01"), max_value=10**9, places=2),
    elapsed=st.decimals(min_value=D("0.01"), max_value=1, places=4),
)
def test_projection_is_never_negative(actual: Decimal, target: Decimal, elapsed: Decimal) -> None:
    assert projected_attainment(actual, target, elapsed) >= 0


def test_which_alerts_a_period_outlives() -> None:
    end = date(2026, 3, 31)
    assert outlived("behind_pace", end, date(2026, 3, 31), closed=False) is None  # last day
    assert outlived("behind_pace", end, date(2026, 4, 1), closed=False) == "period_ended"
    # data-quality alerts ask for a look at recorded data: they wait for the period's close
    for rule in ("late_entry", "burst", "repeated_follow_up", "spike_drop"):
        assert outlived(rule, end, date(2026, 5, 1), closed=False) is None
        assert outlived(rule, end, date(2026, 3, 15), closed=True) == "period_closed"
    assert outlived("behind_pace", end, date(2026, 3, 15), closed=True) == "period_closed"
    assert outlived("stalled_deal", None, date(2026, 5, 1), closed=True) is None


# --- late data entry -----------------------------------------------------------------------


def test_late_entry_fires_only_after_strictly_more_than_24_hours() -> None:
    assert late(timedelta(hours=24)) is None
    found = late(timedelta(hours=24) + SECOND)
    assert found == Finding(
        rule=LATE_ENTRY,
        subject="a1",
        severity="warning",
        figures={"hours_late": "24.00027777777777777777777778", "late_hours": "24"},
    )
    assert late(timedelta(hours=24, microseconds=1)) is not None


def test_late_entry_never_fires_for_backfills() -> None:
    assert late(timedelta(hours=24) + SECOND, backfill=True) is None
    assert late(timedelta(days=400), backfill=True) is None


def test_late_entry_ignores_timely_and_early_records() -> None:
    assert late(timedelta(0)) is None
    assert late(timedelta(hours=-30)) is None  # recorded before it occurred: not late


def test_late_entry_with_custom_hours() -> None:
    th = Thresholds(late_hours=D("1.5"))
    assert late(timedelta(minutes=90), th=th) is None
    found = late(timedelta(minutes=90) + SECOND, th=th)
    assert found is not None and found.figures["late_hours"] == "1.5"


# --- stalled deal --------------------------------------------------------------------------


def test_stalled_fires_at_exactly_14_days_not_a_second_earlier() -> None:
    assert stall(timedelta(days=14) - SECOND) is None
    found = stall(timedelta(days=14))
    assert found == Finding(
        rule=STALLED,
        subject="d1",
        severity="info",
        figures={"days_since_change": "14", "stalled_days": "14"},
    )
    assert stall(timedelta(days=30)) is not None


def test_stalled_ignores_a_stage_change_in_the_future() -> None:
    assert stall(timedelta(days=-20)) is None


def test_stalled_with_custom_days() -> None:
    th = Thresholds(stalled_days=D(7))
    assert stall(timedelta(days=7) - SECOND, th) is None
    assert stall(timedelta(days=7), th) is not None
    assert stall(timedelta(days=13), TH) is None


# --- burst ---------------------------------------------------------------------------------


def test_burst_threshold_from_the_trailing_mean_and_population_sigma() -> None:
    trailing = [50] * 14 + [70] * 14  # mean 60, population σ 10 → 60 + 3 × 10 = 90
    assert burst_threshold(trailing, TH) == (D(60), D(10), D(90))
    assert bursts(90, trailing) is None
    found = bursts(91, trailing)
    assert found == Finding(
        rule=BURST,
        subject="p1|2026-03-02",
        severity="warning",
        figures={"count": "91", "mean": "60", "sigma": "10", "threshold": "90"},
    )


def test_burst_threshold_that_is_not_a_whole_number() -> None:
    trailing = [60] * 27 + [61]  # mean 60.0357…, σ 0.1855… → threshold ≈ 60.59
    mean, sigma, threshold = burst_threshold(trailing, TH)
    assert mean == D(1681) / D(28)
    assert D("0.185") < sigma < D("0.186")
    assert threshold == mean + 3 * sigma
    assert D("60.5") < threshold < D(61)
    assert bursts(60, trailing) is None
    assert bursts(61, trailing) is not None


def test_burst_floor_of_50_dominates_a_quiet_history() -> None:
    trailing = [10] * 28  # mean 10, σ 0 → max(50, 10) = 50
    assert burst_threshold(trailing, TH) == (D(10), D(0), D(50))
    assert bursts(50, trailing) is None
    found = bursts(51, trailing)
    assert found is not None and found.figures["threshold"] == "50"


def test_burst_for_a_new_person_uses_what_history_exists() -> None:
    assert burst_threshold([], TH) == (D(0), D(0), D(50))
    assert bursts(50, []) is None
    assert bursts(51, []) is not None
    assert burst_threshold([100, 100], TH) == (D(100), D(0), D(100))
    assert bursts(100, [100, 100]) is None
    assert bursts(101, [100, 100]) is not None


def test_burst_uses_only_the_trailing_window() -> None:
    trailing = [10_000] + [10] * 28  # the oldest day falls outside the 28-day window
    assert burst_threshold(trailing, TH) == (D(10), D(0), D(50))
    assert bursts(51, trailing) is not None


def test_burst_rejects_negative_counts() -> None:
    with pytest.raises(ValueError):
        burst_threshold([1, -1], TH)


def test_burst_with_custom_thresholds() -> None:
    th = Thresholds(burst_floor=0, burst_sigmas=D(2), burst_window_days=2)
    trailing = [999, 10, 20]  # window [10, 20]: mean 15, σ 5 → 15 + 2 × 5 = 25
    assert burst_threshold(trailing, th) == (D(15), D(5), D(25))
    assert bursts(25, trailing, th) is None
    assert bursts(26, trailing, th) is not None


@given(
    count=st.integers(min_value=0, max_value=50),
    trailing=st.lists(st.integers(min_value=0, max_value=1_000_000), max_size=40),
)
def test_burst_never_fires_at_or_below_50_events(count: int, trailing: list[int]) -> None:
    assert bursts(count, trailing) is None


@given(
    floor=st.integers(min_value=0, max_value=500),
    data=st.data(),
)
def test_burst_never_fires_at_or_below_a_custom_floor(floor: int, data: st.DataObject) -> None:
    count = data.draw(st.integers(min_value=0, max_value=floor))
    trailing = data.draw(st.lists(st.integers(min_value=0, max_value=10_000), max_size=30))
    assert bursts(count, trailing, Thresholds(burst_floor=floor)) is None


# --- repeated follow-up --------------------------------------------------------------------


def test_follow_up_fires_on_the_sixth_not_the_fifth() -> None:
    assert follow_ups(5) is None
    found = follow_ups(6)
    assert found == Finding(
        rule=REPEATED_FOLLOW_UP,
        subject="p1|c1|2026-03-02",
        severity="warning",
        figures={"count": "6", "follow_up_max": "5"},
    )


def test_follow_up_with_custom_maximum() -> None:
    th = Thresholds(follow_up_max=2)
    assert follow_ups(2, th) is None
    assert follow_ups(3, th) is not None


# --- spike / drop --------------------------------------------------------------------------


def test_spike_fires_beyond_plus_50_percent_not_at_it() -> None:
    assert spike("150", "100") is None
    found = spike("150.01", "100")
    assert found == Finding(
        rule=SPIKE_DROP,
        subject="p1|revenue|2026-03",
        severity="warning",
        figures={"current": "150.01", "previous": "100", "change": "0.5001", "threshold": "0.5"},
        evidence_requested=True,
    )


def test_drop_fires_beyond_minus_50_percent_not_at_it() -> None:
    assert spike("50", "100") is None
    found = spike("49.99", "100")
    assert found is not None
    assert found.figures["change"] == "-0.5001"
    assert found.evidence_requested is True
    assert found.severity == "warning"


def test_spike_has_no_verdict_without_a_positive_previous_period() -> None:
    assert spike("1000", "0") is None
    assert spike("1000", "-5") is None


def test_spike_with_custom_change() -> None:
    th = Thresholds(spike_change=D("0.2"))
    assert spike("120", "100", th) is None
    assert spike("80", "100", th) is None
    assert spike("120.01", "100", th) is not None
    assert spike("79.99", "100", th) is not None


# --- subjects and figures ------------------------------------------------------------------


def test_same_cause_gives_the_same_subject() -> None:
    first = pace("100", "1000", "0.5")
    later = pace("120", "1000", "0.6")
    assert first is not None and later is not None
    assert (first.rule, first.subject) == (later.rule, later.subject)
    assert burst(60, [], TH, person="p1", day="2026-03-02") == bursts(60, [])


def test_figures_are_positional_decimal_strings() -> None:
    found = behind_pace(D("0E-7"), D("1E+3"), D("0.5"), TH, person="p", metric="m", period="q")
    assert found is not None
    assert found.figures["actual"] == "0.0000000"
    assert found.figures["target"] == "1000"
    assert all("E" not in v for v in found.figures.values())
