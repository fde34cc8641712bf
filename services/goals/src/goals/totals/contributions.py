"""What one activity adds to (or, retracted, takes from) the running totals (pure: no database).

Every matching metric, for every owner the event is credited to — the person, each team up their
reporting line on the day it happened, and the company — in every period that contains that day
(year, half, quarter and month of the tenant's fiscal calendar, and the ISO week).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from goals.catalog.definitions import Kind, MetricDefinition, field_value, numeric
from shared.events.activity import ActivityEvent, ActivityType
from shared.periods import Period

COMPANY = ("company", "company")

# (owner_kind, owner_id, metric, period_kind, period_start)
RowKey = tuple[str, str, str, str, date]
Owner = tuple[str, str]
OwnersOf = Callable[[str, date], Sequence[Owner]]


def builtin_metrics() -> list[MetricDefinition]:
    """Always on, for every event type: ``<type>.count`` and ``<type>.amount``."""
    out: list[MetricDefinition] = []
    for t in ActivityType:
        if t in (ActivityType.record_updated, ActivityType.record_deleted):
            continue
        out.append(
            MetricDefinition(
                key=f"{t.value}.count",
                name=f"{t.value} events",
                kind=Kind.count,
                event_types=[t],
                unit="count",
            )
        )
        out.append(
            MetricDefinition(
                key=f"{t.value}.amount",
                name=f"{t.value} amount",
                kind=Kind.sum,
                event_types=[t],
                unit="currency",
            )
        )
    return out


BUILTIN = tuple(builtin_metrics())


class Catalog:
    """The stored metrics of one tenant, indexed by the event types they read."""

    def __init__(self, metrics: Iterable[MetricDefinition]) -> None:
        self.by_key: dict[str, MetricDefinition] = {}
        for m in metrics:
            self.by_key[m.key] = m
        self.by_type: dict[ActivityType, list[MetricDefinition]] = {}
        for m in self.by_key.values():
            if not m.stored:
                continue
            for t in {*m.event_types, *m.subtract_types}:
                self.by_type.setdefault(t, []).append(m)

    def get(self, key: str) -> MetricDefinition | None:
        return self.by_key.get(key)

    def dependents(self, keys: Iterable[str]) -> set[str]:
        """Ratio and rate metrics made of any of these metrics."""
        wanted = set(keys)
        return {
            m.key
            for m in self.by_key.values()
            if not m.stored and (m.numerator in wanted or m.denominator in wanted)
        }


@dataclass
class Contributions:
    rows: dict[RowKey, list[Decimal | int]] = field(default_factory=dict)  # value, events
    period_end: dict[RowKey, date] = field(default_factory=dict)
    distinct: dict[tuple[RowKey, str], int] = field(default_factory=dict)

    def add_row(self, key: RowKey, end: date, value: Decimal, events: int) -> None:
        cell = self.rows.get(key)
        if cell is None:
            self.rows[key] = [value, events]
            self.period_end[key] = end
        else:
            cell[0] = Decimal(cell[0]) + value
            cell[1] = int(cell[1]) + events

    def add_distinct(self, key: RowKey, end: date, value: str, refs: int) -> None:
        self.period_end.setdefault(key, end)
        k = (key, value)
        self.distinct[k] = self.distinct.get(k, 0) + refs


def credited(
    metric: MetricDefinition, activity: ActivityEvent
) -> list[tuple[str, Decimal | str]] | None:
    """Who the metric credits with what for this event: (person, value) pairs; None = no value."""
    if metric.kind is Kind.count:
        return [(activity.actor_id, Decimal(1))]
    path = metric.value_field()
    assert path is not None
    if metric.kind is Kind.distinct_count:
        raw = field_value(activity, path)
        if raw is None or raw == "":
            return None
        return [(activity.actor_id, str(raw))]
    value = numeric(activity, path)
    if value is None:
        return None
    if metric.kind is Kind.sum and path == "amount.value":
        return [(person, value * share) for person, share in activity.credited_shares()]
    return [(activity.actor_id, value)]


def contribute(
    out: Contributions,
    activity: ActivityEvent,
    sign: int,
    local_day: date,
    periods: Sequence[Period],
    catalog: Catalog,
    owners_of: OwnersOf,
    is_closed: Callable[[Period], bool] = lambda _p: False,
) -> list[Period]:
    """Add the event's contributions (sign +1) or take them back (sign -1).

    Returns the closed periods the event would have touched: those are frozen, so the event is
    recorded as late there instead of being added."""
    open_periods = [p for p in periods if not is_closed(p)]
    closed = [p for p in periods if is_closed(p)]
    for metric in catalog.by_type.get(activity.type, ()):
        direction = metric.sign(activity)
        if direction == 0:
            continue
        credits = credited(metric, activity)
        if not credits:
            continue
        # Per owner: one event, whatever the number of credited people in it.
        per_owner: dict[Owner, Decimal] = {}
        distinct: set[tuple[Owner, str]] = set()
        for person, value in credits:
            for owner in owners_of(person, local_day):
                if isinstance(value, str):
                    distinct.add((owner, value))
                else:
                    per_owner[owner] = per_owner.get(owner, Decimal(0)) + value
        for period in open_periods:
            for owner, value in per_owner.items():
                key = (owner[0], owner[1], metric.key, period.kind.value, period.start)
                out.add_row(key, period.end, value * direction * sign, sign)
            for owner, text in distinct:
                key = (owner[0], owner[1], metric.key, period.kind.value, period.start)
                out.add_distinct(key, period.end, text, sign)
                # The value moves when a key appears or disappears (see distinct_deltas).
                out.add_row(key, period.end, Decimal(0), sign)
    return closed
