"""Which running totals one activity moves, and by how much (pure, no database)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from shared.events.activity import ActivityEvent, ActivityType
from shared.periods import month_of

# Corrections change earlier events; they are not activities of their own.
NOT_COUNTED = frozenset({ActivityType.record_updated, ActivityType.record_deleted})

COLLECTED_REVENUE = "collected_revenue"


@dataclass(frozen=True)
class Delta:
    person_id: str
    metric: str
    period_start: date
    period_end: date
    value: Decimal
    events: int


def metric_deltas(activity: ActivityEvent, timezone: str) -> list[Delta]:
    """The built-in metrics an activity touches in its month (tenant time zone).

    - ``<type>.count``: one per event, credited to the actor;
    - ``<type>.amount``: the amount, split by credit shares, whenever the event has one;
    - ``collected_revenue``: payments minus refunds (回款), split by credit shares.
    """
    if activity.type in NOT_COUNTED:
        return []
    start, end = month_of(activity.occurred_at, timezone)
    kind = activity.type.value
    deltas = [Delta(activity.actor_id, f"{kind}.count", start, end, Decimal(1), 1)]
    if activity.amount is not None:
        for person, share in activity.credited_shares():
            value = activity.amount.value * share
            deltas.append(Delta(person, f"{kind}.amount", start, end, value, 1))
            if activity.type is ActivityType.payment_received:
                deltas.append(Delta(person, COLLECTED_REVENUE, start, end, value, 1))
            elif activity.type is ActivityType.refund:
                deltas.append(Delta(person, COLLECTED_REVENUE, start, end, -value, 1))
    return deltas


def merge(deltas: list[Delta]) -> dict[tuple[str, str, date], Delta]:
    """Add up deltas that hit the same (person, metric, period)."""
    merged: dict[tuple[str, str, date], Delta] = {}
    for d in deltas:
        key = (d.person_id, d.metric, d.period_start)
        prior = merged.get(key)
        merged[key] = (
            d
            if prior is None
            else Delta(
                d.person_id,
                d.metric,
                d.period_start,
                d.period_end,
                prior.value + d.value,
                prior.events + d.events,
            )
        )
    return merged


def attainment(actual: Decimal, target: Decimal | None) -> Decimal | None:
    if target is None or target <= 0:
        return None
    return actual / target
