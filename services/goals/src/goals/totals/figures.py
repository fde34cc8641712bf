"""From stored totals to the figures people read (pure): actual per metric kind, prorated targets,
attainment and pace."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from goals.catalog.definitions import Kind, MetricDefinition
from shared.periods import Period

RowOf = Callable[[str], tuple[Decimal, int] | None]  # metric key → (value, event_count)


def actual_of(
    metric: MetricDefinition, row_of: RowOf, lookup: Callable[[str], MetricDefinition | None]
) -> Decimal | None:
    """The metric's actual from its stored rows: None when it is undefined (an average of nothing,
    a ratio over zero)."""
    if metric.kind in (Kind.ratio, Kind.rate):
        assert metric.numerator is not None and metric.denominator is not None
        num_def, den_def = lookup(metric.numerator), lookup(metric.denominator)
        if num_def is None or den_def is None:
            return None
        num = actual_of(num_def, row_of, lookup)
        den = actual_of(den_def, row_of, lookup)
        if den is None or den == 0:
            return None
        ratio = (num or Decimal(0)) / den
        return 1 - ratio if metric.complement else ratio
    row = row_of(metric.key)
    if metric.kind is Kind.average:
        if row is None or row[1] == 0:
            return None
        return row[0] / row[1]
    return Decimal(0) if row is None else row[0]


def components(
    metric: MetricDefinition, lookup: Callable[[str], MetricDefinition | None]
) -> set[str]:
    """The stored metrics a figure is made of."""
    if metric.stored:
        return {metric.key}
    out: set[str] = set()
    for key in (metric.numerator, metric.denominator):
        sub = lookup(key) if key else None
        if sub is not None:
            out |= components(sub, lookup)
    return out


def attainment(
    actual: Decimal | None, target: Decimal | None, direction: str = "higher"
) -> Decimal | None:
    """actual / target (higher is better) or target / actual (lower is better)."""
    if actual is None or target is None or target <= 0:
        return None
    if direction == "lower":
        return None if actual <= 0 else target / actual
    return actual / target


def active_days(period: Period, active_from: date | None, active_to: date | None) -> int:
    start = max(period.start, active_from) if active_from else period.start
    end = min(period.end, active_to) if active_to else period.end
    return max((end - start).days + 1, 0)


@dataclass(frozen=True)
class Target:
    target: Decimal  # as set or split, for the whole period
    effective: Decimal  # what attainment is measured against
    active_days: int
    prorated: bool


def effective_target(
    target: Decimal,
    period: Period,
    *,
    set_by_hand: bool,
    active_from: date | None,
    active_to: date | None,
) -> Target:
    """A joiner's or leaver's target counts for their active days only, unless set by hand."""
    days = active_days(period, active_from, active_to)
    if set_by_hand or days >= period.days:
        return Target(target, target, days, False)
    return Target(target, target * days / period.days, days, True)


@dataclass(frozen=True)
class Pace:
    elapsed: Decimal  # fraction of the period gone
    expected: Decimal | None  # where the actual should be by now on a straight line
    projected_attainment: Decimal | None  # attainment / elapsed, never below zero


def pace(
    actual: Decimal | None,
    target: Decimal | None,
    period: Period,
    now: datetime,
    timezone: str,
    direction: str = "higher",
) -> Pace:
    elapsed = period.elapsed_fraction(now, timezone)
    expected = None if target is None else target * elapsed
    got = attainment(actual, target, direction)
    projected = None
    if direction == "higher" and got is not None and elapsed > 0:
        projected = max(Decimal(0), got / elapsed)
    return Pace(elapsed, expected, projected)
