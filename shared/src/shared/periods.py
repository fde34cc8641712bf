"""Calendar periods in a tenant's time zone."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo


def local_date(moment: datetime, timezone: str) -> date:
    """The calendar day a moment falls on in the tenant's time zone."""
    if moment.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return moment.astimezone(ZoneInfo(timezone)).date()


def month_of(moment: datetime, timezone: str) -> tuple[date, date]:
    """First and last day of the month that contains the moment, in the tenant's time zone."""
    day = local_date(moment, timezone)
    last = calendar.monthrange(day.year, day.month)[1]
    return day.replace(day=1), day.replace(day=last)


def parse_month(value: str) -> date:
    """'2026-03' or '2026-03-01' → the first day of that month."""
    parts = value.split("-")
    if len(parts) < 2:
        raise ValueError("expected YYYY-MM")
    return date(int(parts[0]), int(parts[1]), 1)


# --- The period calendar -------------------------------------------------------------------------
#
# Years, halves, quarters and months nest in one another and follow the tenant's fiscal calendar
# (the month its fiscal year starts in, 1–12). A fiscal year is named by the calendar year in
# which it starts: with a fiscal start month of 4, "2026" is 2026-04-01..2027-03-31 and "2026-Q1"
# is April–June 2026. Months are always calendar months ("2026-03"). ISO weeks ("2026-W09",
# Monday..Sunday, named by ISO year) are a separate calendar: they do not nest in months.


class PeriodKind(StrEnum):
    YEAR = "year"
    HALF = "half"
    QUARTER = "quarter"
    MONTH = "month"
    WEEK = "week"


# How many calendar months a period of each month-based kind spans.
_MONTHS: dict[PeriodKind, int] = {
    PeriodKind.YEAR: 12,
    PeriodKind.HALF: 6,
    PeriodKind.QUARTER: 3,
    PeriodKind.MONTH: 1,
}

# Coarser kinds rank higher; a kind nests in every kind that ranks above it (weeks nest in none).
_RANK: dict[PeriodKind, int] = {
    PeriodKind.WEEK: 0,
    PeriodKind.MONTH: 1,
    PeriodKind.QUARTER: 2,
    PeriodKind.HALF: 3,
    PeriodKind.YEAR: 4,
}

_ORDER = (PeriodKind.YEAR, PeriodKind.HALF, PeriodKind.QUARTER, PeriodKind.MONTH, PeriodKind.WEEK)

_MICROS_PER_DAY = 86_400 * 1_000_000


def validate_fiscal_start_month(month: int) -> int:
    """The fiscal start month unchanged when it is an integer 1..12; ValueError otherwise."""
    if isinstance(month, bool) or not isinstance(month, int) or not 1 <= month <= 12:
        raise ValueError(f"fiscal start month must be an integer 1..12, not {month!r}")
    return month


def _make_date(year: int, month: int, day: int) -> date:
    if not MINYEAR <= year <= MAXYEAR:
        raise ValueError(f"year {year} is outside the supported range {MINYEAR}..{MAXYEAR}")
    return date(year, month, day)


def _shift(day: date, days: int) -> date:
    try:
        return day + timedelta(days=days)
    except OverflowError:
        raise ValueError(f"{day.isoformat()} shifted by {days} days is out of range") from None


def _month_index(day: date) -> int:
    """Months since year 0: a month as a single integer, so that month arithmetic is subtraction."""
    return day.year * 12 + day.month - 1


def _first_of(index: int) -> date:
    year, month0 = divmod(index, 12)
    return _make_date(year, month0 + 1, 1)


def _last_of(index: int) -> date:
    year, month0 = divmod(index, 12)
    first = _make_date(year, month0 + 1, 1)
    return first.replace(day=calendar.monthrange(year, month0 + 1)[1])


def _iso_weeks(iso_year: int) -> int:
    """52 or 53: 28 December always falls in the ISO year's last week."""
    return _make_date(iso_year, 12, 28).isocalendar().week


def _bounds(kind: PeriodKind, day: date, fiscal_start_month: int) -> tuple[date, date]:
    """First and last day of the period of this kind that contains the day."""
    if kind is PeriodKind.WEEK:
        monday = _shift(day, -day.weekday())
        return monday, _shift(monday, 6)
    span = _MONTHS[kind]
    index = _month_index(day)
    # Periods of `span` months are aligned on the fiscal start month (for months, on every month).
    start = index - (index - (fiscal_start_month - 1)) % span
    return _first_of(start), _last_of(start + span - 1)


def _fiscal_year(day: date, fiscal_start_month: int) -> int:
    """The fiscal year (named by the calendar year it starts in) that contains the day."""
    return day.year if day.month >= fiscal_start_month else day.year - 1


@dataclass(frozen=True, order=True)
class Period:
    """A year, half, quarter, month or ISO week: `start`..`end`, both days inclusive.

    `fiscal_start_month` places years, halves and quarters in the tenant's fiscal calendar; it is
    meaningless for months and weeks and is stored as 1 for them, so equal date ranges compare
    equal. Construction checks that start..end really is one period of the kind.
    """

    kind: PeriodKind
    start: date
    end: date
    fiscal_start_month: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", PeriodKind(self.kind))
        validate_fiscal_start_month(self.fiscal_start_month)
        for name in ("start", "end"):
            value = getattr(self, name)
            if not isinstance(value, date) or isinstance(value, datetime):
                raise TypeError(f"Period.{name} must be a date, not {type(value).__name__}")
        if self.kind in (PeriodKind.MONTH, PeriodKind.WEEK):
            object.__setattr__(self, "fiscal_start_month", 1)
        expected = _bounds(self.kind, self.start, self.fiscal_start_month)
        if (self.start, self.end) != expected:
            raise ValueError(
                f"{self.start.isoformat()}..{self.end.isoformat()} is not a {self.kind.value}"
                f" with fiscal start month {self.fiscal_start_month}"
                f" (expected {expected[0].isoformat()}..{expected[1].isoformat()})"
            )

    @property
    def label(self) -> str:
        """'2026', '2026-H1', '2026-Q3', '2026-03' or '2026-W09'."""
        if self.kind is PeriodKind.WEEK:
            iso = self.start.isocalendar()
            return f"{iso.year:04d}-W{iso.week:02d}"
        if self.kind is PeriodKind.MONTH:
            return f"{self.start.year:04d}-{self.start.month:02d}"
        year = _fiscal_year(self.start, self.fiscal_start_month)
        if self.kind is PeriodKind.YEAR:
            return f"{year:04d}"
        offset = (self.start.month - self.fiscal_start_month) % 12
        if self.kind is PeriodKind.HALF:
            return f"{year:04d}-H{offset // 6 + 1}"
        return f"{year:04d}-Q{offset // 3 + 1}"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def overlap_days(self, start: date, end: date) -> int:
        """How many days of start..end (inclusive) fall in this period; 0 when none."""
        first = max(start, self.start)
        last = min(end, self.end)
        return max(0, (last - first).days + 1)

    def elapsed_fraction(self, now: datetime, timezone: str) -> Decimal:
        """How much of the period has passed at `now` in the tenant's time zone, 0..1.

        Measured on the local wall clock: at local noon of the period's 16th day, 15.5 days have
        elapsed, even across a daylight-saving change (a 23- or 25-hour day still counts as one).
        """
        if now.tzinfo is None:
            raise ValueError("times must be timezone-aware")
        local = now.astimezone(ZoneInfo(timezone))
        today = local.date()
        if today < self.start:
            return Decimal(0)
        if today > self.end:
            return Decimal(1)
        since_midnight = (
            (local.hour * 60 + local.minute) * 60 + local.second
        ) * 1_000_000 + local.microsecond
        elapsed = (today - self.start).days * _MICROS_PER_DAY + since_midnight
        return Decimal(elapsed) / Decimal(self.days * _MICROS_PER_DAY)


def period_of(kind: PeriodKind, day: date, fiscal_start_month: int = 1) -> Period:
    """The period of this kind that contains the day."""
    kind = PeriodKind(kind)
    validate_fiscal_start_month(fiscal_start_month)
    if isinstance(day, datetime):
        raise TypeError("period_of takes a date; use periods_of_moment for a point in time")
    start, end = _bounds(kind, day, fiscal_start_month)
    return Period(kind, start, end, fiscal_start_month)


def periods_containing(day: date, fiscal_start_month: int = 1) -> list[Period]:
    """The year, half, quarter, month and ISO week that contain the day, in that order."""
    return [period_of(kind, day, fiscal_start_month) for kind in _ORDER]


def periods_of_moment(moment: datetime, timezone: str, fiscal_start_month: int = 1) -> list[Period]:
    """The periods containing the day the moment falls on in the tenant's time zone."""
    return periods_containing(local_date(moment, timezone), fiscal_start_month)


_LABEL = re.compile(
    r"(?P<year>[0-9]{4})"
    r"(?:-H(?P<half>[0-9])|-Q(?P<quarter>[0-9])|-W(?P<week>[0-9]{2})|-(?P<month>[0-9]{2}))?",
    re.ASCII,
)


def parse_period(label: str, fiscal_start_month: int = 1) -> Period:
    """The period a label names: '2026', '2026-H1', '2026-Q3', '2026-03' or '2026-W09'."""
    validate_fiscal_start_month(fiscal_start_month)
    match = _LABEL.fullmatch(label) if isinstance(label, str) else None
    if match is None:
        raise ValueError(
            f"malformed period {label!r}: expected YYYY, YYYY-H1..2, YYYY-Q1..4, YYYY-MM or YYYY-Www"
        )
    year = int(match["year"])
    if year < MINYEAR:
        raise ValueError(f"malformed period {label!r}: year must be {MINYEAR:04d}..{MAXYEAR}")
    fiscal_start = year * 12 + fiscal_start_month - 1
    if match["half"] is not None:
        half = int(match["half"])
        if not 1 <= half <= 2:
            raise ValueError(f"malformed period {label!r}: half must be H1 or H2")
        return period_of(
            PeriodKind.HALF, _first_of(fiscal_start + 6 * (half - 1)), fiscal_start_month
        )
    if match["quarter"] is not None:
        quarter = int(match["quarter"])
        if not 1 <= quarter <= 4:
            raise ValueError(f"malformed period {label!r}: quarter must be Q1..Q4")
        first = _first_of(fiscal_start + 3 * (quarter - 1))
        return period_of(PeriodKind.QUARTER, first, fiscal_start_month)
    if match["month"] is not None:
        month = int(match["month"])
        if not 1 <= month <= 12:
            raise ValueError(f"malformed period {label!r}: month must be 01..12")
        return period_of(PeriodKind.MONTH, date(year, month, 1))
    if match["week"] is not None:
        week = int(match["week"])
        weeks = _iso_weeks(year)
        if not 1 <= week <= weeks:
            raise ValueError(f"malformed period {label!r}: ISO year {year} has weeks W01..W{weeks}")
        return period_of(PeriodKind.WEEK, date.fromisocalendar(year, week, 1))
    return period_of(PeriodKind.YEAR, _first_of(fiscal_start), fiscal_start_month)


def previous(period: Period) -> Period:
    """The period of the same kind that ends the day before this one starts."""
    return period_of(period.kind, _shift(period.start, -1), period.fiscal_start_month)


def year_before(period: Period) -> Period:
    """The same period one (fiscal or ISO) year earlier.

    For weeks: the same ISO week number of the previous ISO year, W53 becoming W52 when that year
    has only 52 weeks.
    """
    if period.kind is PeriodKind.WEEK:
        iso = period.start.isocalendar()
        year = iso.year - 1
        week = min(iso.week, _iso_weeks(year))
        return period_of(PeriodKind.WEEK, date.fromisocalendar(year, week, 1))
    first = _first_of(_month_index(period.start) - 12)
    return period_of(period.kind, first, period.fiscal_start_month)


def subperiods(period: Period, kind: PeriodKind) -> list[Period]:
    """The periods of a finer kind inside this one, in order.

    Years, halves, quarters and months partition the coarser periods they nest in. For weeks,
    every ISO week that overlaps the period: the first and last may stick out of it (weigh them
    by `overlap_days`).
    """
    kind = PeriodKind(kind)
    if _RANK[kind] >= _RANK[period.kind]:
        raise ValueError(f"a {kind.value} is not finer than a {period.kind.value}")
    result: list[Period] = []
    if kind is PeriodKind.WEEK:
        monday = _shift(period.start, -period.start.weekday())
        while monday <= period.end:
            result.append(Period(kind, monday, _shift(monday, 6)))
            monday = _shift(monday, 7)
        return result
    span = _MONTHS[kind]
    index = _month_index(period.start)
    last = _month_index(period.end)
    while index <= last:
        result.append(
            Period(kind, _first_of(index), _last_of(index + span - 1), period.fiscal_start_month)
        )
        index += span
    return result
