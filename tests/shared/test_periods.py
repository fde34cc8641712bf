from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.periods import (
    Period,
    PeriodKind,
    local_date,
    month_of,
    parse_month,
    parse_period,
    period_of,
    periods_containing,
    periods_of_moment,
    previous,
    subperiods,
    validate_fiscal_start_month,
    year_before,
)

SHANGHAI = "Asia/Shanghai"
BERLIN = "Europe/Berlin"

days = st.dates(min_value=date(3, 1, 1), max_value=date(9997, 12, 31))
fiscal_months = st.integers(min_value=1, max_value=12)
kinds = st.sampled_from(list(PeriodKind))


def labels(day: date, fiscal_start_month: int = 1) -> list[str]:
    return [p.label for p in periods_containing(day, fiscal_start_month)]


# --- the existing helpers still work ----------------------------------------------------------------


def test_existing_helpers_unchanged() -> None:
    moment = datetime(2026, 3, 31, 16, 0, tzinfo=UTC)
    assert local_date(moment, SHANGHAI) == date(2026, 4, 1)
    assert month_of(moment, SHANGHAI) == (date(2026, 4, 1), date(2026, 4, 30))
    assert parse_month("2026-03") == date(2026, 3, 1)
    assert parse_month("2026-03-01") == date(2026, 3, 1)


# --- time zones ------------------------------------------------------------------------------------


def test_late_evening_in_shanghai_stays_in_march() -> None:
    moment = datetime(2026, 3, 31, 23, 30, tzinfo=ZoneInfo(SHANGHAI))
    assert [p.label for p in periods_of_moment(moment, SHANGHAI)] == [
        "2026",
        "2026-H1",
        "2026-Q1",
        "2026-03",
        "2026-W14",
    ]


def test_utc_afternoon_is_next_day_in_shanghai() -> None:
    moment = datetime(2026, 3, 31, 16, 0, tzinfo=UTC)
    assert moment.date() == date(2026, 3, 31)
    year, half, quarter, month, week = periods_of_moment(moment, SHANGHAI)
    assert month.label == "2026-04"
    assert quarter.label == "2026-Q2"
    assert half.label == "2026-H1"
    assert year.label == "2026"
    assert week.label == "2026-W14"
    # the same moment read in UTC is still March
    assert [p.label for p in periods_of_moment(moment, "UTC")][1:4] == [
        "2026-H1",
        "2026-Q1",
        "2026-03",
    ]


def test_naive_moment_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        periods_of_moment(datetime(2026, 3, 31, 12), SHANGHAI)
    with pytest.raises(ValueError, match="timezone-aware"):
        period_of(PeriodKind.MONTH, date(2026, 3, 1)).elapsed_fraction(datetime(2026, 3, 2), BERLIN)


# --- fiscal calendars ------------------------------------------------------------------------------


def test_fiscal_start_april() -> None:
    year, half, quarter, month, week = periods_containing(date(2026, 3, 15), 4)
    assert year == Period(PeriodKind.YEAR, date(2025, 4, 1), date(2026, 3, 31), 4)
    assert year.label == "2025"
    assert half == Period(PeriodKind.HALF, date(2025, 10, 1), date(2026, 3, 31), 4)
    assert half.label == "2025-H2"
    assert quarter == Period(PeriodKind.QUARTER, date(2026, 1, 1), date(2026, 3, 31), 4)
    assert quarter.label == "2025-Q4"
    assert month.label == "2026-03"
    assert week.label == "2026-W11"


def test_fiscal_year_is_named_by_its_start() -> None:
    year = parse_period("2026", 4)
    assert (year.start, year.end) == (date(2026, 4, 1), date(2027, 3, 31))
    assert parse_period("2026-Q1", 4).start == date(2026, 4, 1)
    assert parse_period("2026-Q4", 4).start == date(2027, 1, 1)
    assert parse_period("2026-H2", 4) == Period(
        PeriodKind.HALF, date(2026, 10, 1), date(2027, 3, 31), 4
    )
    assert labels(date(2026, 4, 1), 4)[:3] == ["2026", "2026-H1", "2026-Q1"]
    assert labels(date(2026, 12, 31), 12)[:3] == ["2026", "2026-H1", "2026-Q1"]
    assert labels(date(2026, 11, 30), 12)[:3] == ["2025", "2025-H2", "2025-Q4"]


def test_calendar_year_default() -> None:
    assert labels(date(2026, 7, 1)) == ["2026", "2026-H2", "2026-Q3", "2026-07", "2026-W27"]
    assert parse_period("2026-Q3") == Period(
        PeriodKind.QUARTER, date(2026, 7, 1), date(2026, 9, 30)
    )


def test_months_and_weeks_ignore_the_fiscal_calendar() -> None:
    assert period_of(PeriodKind.MONTH, date(2026, 3, 5), 4) == period_of(
        PeriodKind.MONTH, date(2026, 3, 5)
    )
    assert period_of(PeriodKind.WEEK, date(2026, 3, 5), 7) == period_of(
        PeriodKind.WEEK, date(2026, 3, 5)
    )


@pytest.mark.parametrize("month", [0, 13, -1, True, "4", 4.0])
def test_invalid_fiscal_start_month(month: object) -> None:
    with pytest.raises(ValueError, match="fiscal start month"):
        validate_fiscal_start_month(month)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="fiscal start month"):
        period_of(PeriodKind.YEAR, date(2026, 1, 1), month)  # type: ignore[arg-type]


def test_valid_fiscal_start_months() -> None:
    assert [validate_fiscal_start_month(m) for m in range(1, 13)] == list(range(1, 13))


def test_period_must_be_a_real_period() -> None:
    with pytest.raises(ValueError, match="not a quarter"):
        Period(PeriodKind.QUARTER, date(2026, 2, 1), date(2026, 4, 30))
    with pytest.raises(ValueError, match="not a year"):
        Period(PeriodKind.YEAR, date(2026, 4, 1), date(2027, 3, 31))  # fiscal start missing
    with pytest.raises(TypeError):
        Period(PeriodKind.MONTH, datetime(2026, 3, 1), date(2026, 3, 31))
    with pytest.raises(TypeError):
        period_of(PeriodKind.MONTH, datetime(2026, 3, 1, tzinfo=UTC))


# --- basic properties -------------------------------------------------------------------------------


def test_days_contains_overlap() -> None:
    feb = parse_period("2028-02")
    assert feb.days == 29
    assert parse_period("2026").days == 365
    assert parse_period("2026-W09").days == 7
    assert feb.contains(date(2028, 2, 1))
    assert feb.contains(date(2028, 2, 29))
    assert not feb.contains(date(2028, 3, 1))
    assert not feb.contains(date(2028, 1, 31))
    assert feb.overlap_days(date(2028, 1, 30), date(2028, 2, 2)) == 2
    assert feb.overlap_days(date(2028, 2, 28), date(2028, 3, 5)) == 2
    assert feb.overlap_days(date(2028, 1, 1), date(2028, 12, 31)) == 29
    assert feb.overlap_days(date(2028, 2, 10), date(2028, 2, 10)) == 1
    assert feb.overlap_days(date(2028, 3, 1), date(2028, 3, 31)) == 0
    assert feb.overlap_days(date(2028, 2, 20), date(2028, 2, 10)) == 0


def test_ordering_and_hashing() -> None:
    march, april = parse_period("2026-03"), parse_period("2026-04")
    assert march < april
    assert sorted([april, march]) == [march, april]
    assert {march, parse_period("2026-03")} == {march}


# --- elapsed fraction -------------------------------------------------------------------------------


def test_elapsed_fraction_bounds_and_middle() -> None:
    april = parse_period("2026-04")  # 30 days
    zone = ZoneInfo(SHANGHAI)
    assert april.elapsed_fraction(datetime(2026, 3, 31, 23, 59, tzinfo=zone), SHANGHAI) == 0
    assert april.elapsed_fraction(datetime(2026, 4, 1, 0, 0, tzinfo=zone), SHANGHAI) == 0
    assert april.elapsed_fraction(datetime(2026, 4, 16, 12, 0, tzinfo=zone), SHANGHAI) == (
        Decimal("15.5") / Decimal(30)
    )
    assert april.elapsed_fraction(datetime(2026, 4, 30, 12, 0, tzinfo=zone), SHANGHAI) == (
        Decimal("29.5") / Decimal(30)
    )
    almost = april.elapsed_fraction(datetime(2026, 4, 30, 23, 59, 59, tzinfo=zone), SHANGHAI)
    assert Decimal("0.9999") < almost < 1
    assert april.elapsed_fraction(datetime(2026, 5, 1, 0, 0, tzinfo=zone), SHANGHAI) == 1
    assert april.elapsed_fraction(datetime(2027, 1, 1, tzinfo=zone), SHANGHAI) == 1
    # 2026-03-31T16:00Z is already April 1st, midnight, in Shanghai
    assert april.elapsed_fraction(datetime(2026, 3, 31, 16, 0, tzinfo=UTC), SHANGHAI) == 0
    assert april.elapsed_fraction(datetime(2026, 3, 31, 22, 0, tzinfo=UTC), SHANGHAI) == (
        Decimal("0.25") / Decimal(30)
    )
    assert isinstance(april.elapsed_fraction(datetime(2026, 4, 5, tzinfo=UTC), SHANGHAI), Decimal)


def test_elapsed_fraction_across_dst_uses_the_wall_clock() -> None:
    march = parse_period("2026-03")  # 31 days; clocks in Berlin go forward on 29 March 2026
    zone = ZoneInfo(BERLIN)
    noon_after_switch = datetime(2026, 3, 29, 12, 0, tzinfo=zone)
    assert noon_after_switch.utcoffset() == timedelta(hours=2)
    assert march.elapsed_fraction(noon_after_switch, BERLIN) == Decimal("28.5") / Decimal(31)
    # the same instant given in UTC (10:00Z) gives the same answer
    assert march.elapsed_fraction(datetime(2026, 3, 29, 10, 0, tzinfo=UTC), BERLIN) == (
        Decimal("28.5") / Decimal(31)
    )
    # local midnight of the 30th: exactly 29 days, though only 29 × 24 − 1 hours have passed
    assert march.elapsed_fraction(datetime(2026, 3, 29, 22, 0, tzinfo=UTC), BERLIN) == (
        Decimal(29) / Decimal(31)
    )
    # local midnight of 1 March is 23:00Z on 28 February
    assert march.elapsed_fraction(datetime(2026, 2, 28, 22, 59, tzinfo=UTC), BERLIN) == 0
    assert march.elapsed_fraction(datetime(2026, 2, 28, 23, 0, tzinfo=UTC), BERLIN) == 0
    assert march.elapsed_fraction(datetime(2026, 3, 31, 22, 0, tzinfo=UTC), BERLIN) == 1


@given(
    st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
    ),
    st.sampled_from([SHANGHAI, BERLIN, "America/New_York", "UTC"]),
    kinds,
    fiscal_months,
)
def test_elapsed_fraction_is_within_bounds(
    now: datetime, zone: str, kind: PeriodKind, fiscal_start_month: int
) -> None:
    period = period_of(kind, local_date(now, zone), fiscal_start_month)
    fraction = period.elapsed_fraction(now, zone)
    assert 0 <= fraction < 1
    assert previous(period).elapsed_fraction(now, zone) == 1
    assert (
        period_of(kind, period.end + timedelta(days=1), fiscal_start_month).elapsed_fraction(
            now, zone
        )
        == 0
    )


# --- ISO weeks ---------------------------------------------------------------------------------------


def test_iso_week_edges() -> None:
    assert date(2026, 12, 31).isocalendar()[:2] == (2026, 53)
    assert date(2027, 1, 1).isocalendar()[:2] == (2026, 53)
    week = period_of(PeriodKind.WEEK, date(2026, 12, 31))
    assert week == period_of(PeriodKind.WEEK, date(2027, 1, 1))
    assert week.label == "2026-W53"
    assert (week.start, week.end) == (date(2026, 12, 28), date(2027, 1, 3))
    assert parse_period("2026-W53") == week
    assert period_of(PeriodKind.WEEK, date(2027, 1, 4)).label == "2027-W01"
    # a week that starts in the previous calendar year
    assert date(2024, 12, 30).isocalendar()[:2] == (2025, 1)
    assert period_of(PeriodKind.WEEK, date(2024, 12, 30)).label == "2025-W01"
    assert parse_period("2025-W01").start == date(2024, 12, 30)
    assert parse_period("2026-W09") == Period(PeriodKind.WEEK, date(2026, 2, 23), date(2026, 3, 1))
    # the day's own calendars disagree: year 2027, week of ISO year 2026
    assert labels(date(2027, 1, 1)) == ["2027", "2027-H1", "2027-Q1", "2027-01", "2026-W53"]


def test_53_week_years() -> None:
    assert date(2026, 12, 28).isocalendar().week == 53
    assert date(2025, 12, 28).isocalendar().week == 52
    assert parse_period("2020-W53").label == "2020-W53"
    with pytest.raises(ValueError, match="W52"):
        parse_period("2025-W53")
    with pytest.raises(ValueError, match="W53"):
        parse_period("2026-W54")


def test_year_before_weeks() -> None:
    assert year_before(parse_period("2026-W53")).label == "2025-W52"
    assert year_before(parse_period("2027-W10")).label == "2026-W10"
    assert year_before(parse_period("2026-W01")).label == "2025-W01"
    assert year_before(parse_period("2027-W52")).label == "2026-W52"


def test_year_before_and_previous() -> None:
    assert year_before(parse_period("2026-Q1", 4)) == parse_period("2025-Q1", 4)
    assert year_before(parse_period("2026", 4)) == parse_period("2025", 4)
    assert year_before(parse_period("2026-H2", 7)) == parse_period("2025-H2", 7)
    assert year_before(parse_period("2028-02")) == parse_period("2027-02")
    assert previous(parse_period("2026-01")).label == "2025-12"
    assert previous(parse_period("2026-Q1", 4)).label == "2025-Q4"
    assert previous(parse_period("2026-H1", 4)).label == "2025-H2"
    assert previous(parse_period("2026", 4)).label == "2025"
    assert previous(parse_period("2026-W01")).label == "2025-W52"
    assert previous(parse_period("2027-W01")).label == "2026-W53"


# --- subperiods ---------------------------------------------------------------------------------------


def assert_partition(period: Period, parts: list[Period]) -> None:
    assert parts[0].start == period.start
    assert parts[-1].end == period.end
    for before, after in itertools.pairwise(parts):
        assert before.end + timedelta(days=1) == after.start
    assert sum(p.days for p in parts) == period.days


@pytest.mark.parametrize("fiscal_start_month", range(1, 13))
def test_subperiods_of_a_year_partition_it(fiscal_start_month: int) -> None:
    for year in (
        parse_period("2026", fiscal_start_month),
        parse_period("2027", fiscal_start_month),
    ):
        halves = subperiods(year, PeriodKind.HALF)
        quarters = subperiods(year, PeriodKind.QUARTER)
        months = subperiods(year, PeriodKind.MONTH)
        assert [len(halves), len(quarters), len(months)] == [2, 4, 12]
        for parts in (halves, quarters, months):
            assert_partition(year, parts)
        assert [h.label for h in halves] == [f"{year.label}-H1", f"{year.label}-H2"]
        assert [q.label for q in quarters] == [f"{year.label}-Q{n}" for n in range(1, 5)]
        assert all(q.fiscal_start_month == fiscal_start_month for q in quarters)
        for half in halves:
            assert_partition(half, subperiods(half, PeriodKind.QUARTER))
            assert_partition(half, subperiods(half, PeriodKind.MONTH))
        for quarter in quarters:
            assert_partition(quarter, subperiods(quarter, PeriodKind.MONTH))
        assert months[0].start.month == fiscal_start_month


def test_subperiod_weeks_overlap_the_period() -> None:
    march = parse_period("2026-03")  # Sunday 1st .. Tuesday 31st
    weeks = subperiods(march, PeriodKind.WEEK)
    assert [w.label for w in weeks] == [f"2026-W{n:02d}" for n in range(9, 15)]
    assert weeks[0].start == date(2026, 2, 23)
    assert weeks[-1].end == date(2026, 4, 5)
    assert [march.overlap_days(w.start, w.end) for w in weeks] == [1, 7, 7, 7, 7, 2]
    assert sum(march.overlap_days(w.start, w.end) for w in weeks) == march.days
    year_weeks = subperiods(parse_period("2026"), PeriodKind.WEEK)
    assert len(year_weeks) == 53  # 2026-01-01 is in 2026-W01, 2026-12-31 in 2026-W53
    feb = subperiods(parse_period("2027-02"), PeriodKind.WEEK)  # Monday 1st .. Sunday 28th
    assert [w.label for w in feb] == ["2027-W05", "2027-W06", "2027-W07", "2027-W08"]


@pytest.mark.parametrize(
    ("label", "kind"),
    [
        ("2026-03", PeriodKind.QUARTER),
        ("2026-03", PeriodKind.MONTH),
        ("2026-Q1", PeriodKind.HALF),
        ("2026-Q1", PeriodKind.YEAR),
        ("2026", PeriodKind.YEAR),
        ("2026-W09", PeriodKind.MONTH),
        ("2026-W09", PeriodKind.WEEK),
    ],
)
def test_subperiods_must_be_finer(label: str, kind: PeriodKind) -> None:
    with pytest.raises(ValueError, match="not finer"):
        subperiods(parse_period(label), kind)


# --- labels -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "label",
    [
        "2026-Q5",
        "2026-Q0",
        "2026-H3",
        "2026-H0",
        "2026-13",
        "2026-00",
        "2026-W54",
        "2026-W00",
        "2025-W53",
        "0000",
        "0000-03",
        "26",
        "20261",
        "2026-3",
        "2026-W9",
        "2026-Q01",
        "2026-q1",
        "2026-w09",
        "2026-03-01",
        "2026-",
        "",
        " 2026",
        "2026\n",
        "2026-X1",
        "２０２６",
        "2026-Ⅰ",
    ],
)
def test_malformed_labels(label: str) -> None:
    with pytest.raises(ValueError, match="period"):
        parse_period(label)


def test_malformed_label_messages_are_specific() -> None:
    with pytest.raises(ValueError, match=r"quarter must be Q1\.\.Q4"):
        parse_period("2026-Q5")
    with pytest.raises(ValueError, match=r"month must be 01\.\.12"):
        parse_period("2026-13")
    with pytest.raises(ValueError, match=r"W01\.\.W53"):
        parse_period("2026-W54")


def test_labels_outside_the_date_range() -> None:
    with pytest.raises(ValueError):
        parse_period("9999", 4)  # would end in the year 10000
    with pytest.raises(ValueError):
        previous(parse_period("0001", 1))
    assert parse_period("9999").end == date(9999, 12, 31)
    assert parse_period("0001-01").label == "0001-01"


@given(days, fiscal_months)
def test_labels_round_trip(day: date, fiscal_start_month: int) -> None:
    for period in periods_containing(day, fiscal_start_month):
        assert parse_period(period.label, fiscal_start_month) == period


@given(days, fiscal_months)
def test_periods_containing_contain_the_day(day: date, fiscal_start_month: int) -> None:
    periods = periods_containing(day, fiscal_start_month)
    assert [p.kind for p in periods] == [
        PeriodKind.YEAR,
        PeriodKind.HALF,
        PeriodKind.QUARTER,
        PeriodKind.MONTH,
        PeriodKind.WEEK,
    ]
    for period in periods:
        assert period.contains(day)
        assert period.start <= day <= period.end
    year, half, quarter, month, week = periods
    assert year.days in (365, 366)
    assert 181 <= half.days <= 184
    assert 89 <= quarter.days <= 92  # Feb..Apr of a common year: 89
    assert 28 <= month.days <= 31
    assert week.days == 7
    assert week.start.weekday() == 0
    # the fiscal kinds nest
    assert year.start <= half.start <= quarter.start <= month.start
    assert month.end <= quarter.end <= half.end <= year.end
    assert quarter in subperiods(half, PeriodKind.QUARTER)
    assert month in subperiods(year, PeriodKind.MONTH)
    assert week in subperiods(month, PeriodKind.WEEK)
    assert week.label == f"{day.isocalendar().year:04d}-W{day.isocalendar().week:02d}"
    assert month.label == f"{day.year:04d}-{day.month:02d}"


@given(days, fiscal_months, kinds)
def test_previous_ends_the_day_before(day: date, fiscal_start_month: int, kind: PeriodKind) -> None:
    period = period_of(kind, day, fiscal_start_month)
    before = previous(period)
    assert before.kind == period.kind
    assert before.end + timedelta(days=1) == period.start


@given(days, fiscal_months, kinds)
def test_year_before(day: date, fiscal_start_month: int, kind: PeriodKind) -> None:
    period = period_of(kind, day, fiscal_start_month)
    earlier = year_before(period)
    assert earlier.kind == period.kind
    if kind is PeriodKind.WEEK:
        this_year, this_week, _ = period.start.isocalendar()
        last_year, last_week, _ = earlier.start.isocalendar()
        assert last_year == this_year - 1
        assert last_week == this_week or (this_week == 53 and last_week == 52)
    else:
        assert earlier.start == period.start.replace(year=period.start.year - 1)
        year = period.label.split("-", 1)
        assert earlier.label == "-".join([f"{int(year[0]) - 1:04d}", *year[1:]])
