"""Sales funnel maths: lead → first contact → quote → won (pure, no database).

Deals are tied together by ``deal_id``. For each deal the *path* is the earliest time it
reached each stage. An event for a later stage implies the deal reached every earlier stage
too, but at an unknown time: such stages are present in the path with the value ``None``, so
conversion counts them while the median days ignore them. ``deal_lost`` (and any other event
type that is not in :data:`STAGES`) is not a stage and is ignored.

Per transition k → k+1: ``entered`` is the number of deals that reached stage k,
``converted`` the number that reached k+1, ``conversion`` = converted / entered (``None`` when
no deal entered), and ``median_days`` the median of t(k+1) − t(k) in days (each duration
rounded to 2 decimals, half up) over the deals where both times are known and
t(k+1) ≥ t(k); ``sample`` is how many durations the median uses. The weakest transition is
the one with the lowest conversion (ties → the earlier transition).

Cohort rule (by person / team / period): a deal belongs to a period when the *earliest known
stage time* of the deal (:func:`cohort_of`) falls inside the period; it is attributed to the
person (and so to that person's team) who owns that first event. The caller selects the
cohort, either by filtering the events before calling :func:`funnel` or by passing a
``cohort(deal_id, path) -> bool`` predicate (see :func:`in_period`), so a deal is counted
whole in the period it started in, even when it is won in a later one.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from itertools import pairwise

STAGES: tuple[str, ...] = ("lead_created", "first_contact", "quote_sent", "deal_won")
STAGE_NAMES: dict[str, str] = {
    "lead_created": "lead",
    "first_contact": "first contact",
    "quote_sent": "quote",
    "deal_won": "won",
}

# Per stage reached: the earliest known time, or None when it was reached at an unknown time
# (implied by an event for a later stage).
DealPath = dict[str, datetime | None]
Cohort = Callable[[str, Mapping[str, datetime | None]], bool]

_CENT = Decimal("0.01")
_MICROSECONDS_PER_DAY = Decimal(86_400_000_000)
_PRECISION = 28


@dataclass(frozen=True)
class StageEvent:
    deal_id: str
    stage: str
    occurred_at: datetime

    def __post_init__(self) -> None:
        if self.occurred_at.utcoffset() is None:
            raise ValueError("occurred_at must be timezone-aware")


@dataclass(frozen=True)
class StageCount:
    stage: str
    name: str
    deals: int


@dataclass(frozen=True)
class Transition:
    from_stage: str
    to_stage: str
    name: str
    entered: int
    converted: int
    conversion: Decimal | None
    median_days: Decimal | None
    sample: int


@dataclass(frozen=True)
class Funnel:
    stages: tuple[StageCount, ...]
    transitions: tuple[Transition, ...]
    weakest: Transition | None
    overall: Decimal | None


def deal_paths(events: Iterable[StageEvent]) -> dict[str, DealPath]:
    """Per deal, the earliest time it reached each stage (``None``: reached, time unknown)."""
    known: dict[str, dict[str, datetime]] = {}
    for event in events:
        if event.stage not in STAGES:
            continue
        times = known.setdefault(event.deal_id, {})
        seen = times.get(event.stage)
        if seen is None or event.occurred_at < seen:
            times[event.stage] = event.occurred_at
    paths: dict[str, DealPath] = {}
    for deal_id, times in known.items():
        furthest = max(STAGES.index(stage) for stage in times)
        paths[deal_id] = {stage: times.get(stage) for stage in STAGES[: furthest + 1]}
    return paths


def cohort_of(path: Mapping[str, datetime | None]) -> datetime | None:
    """The earliest known stage time of a deal: the instant that places it in a period."""
    times = [t for t in path.values() if t is not None]
    return min(times) if times else None


def in_period(start: datetime, end: datetime) -> Cohort:
    """A cohort predicate: the deal's :func:`cohort_of` time is in ``[start, end)``."""

    def belongs(_deal_id: str, path: Mapping[str, datetime | None]) -> bool:
        first = cohort_of(path)
        return first is not None and start <= first < end

    return belongs


def days_between(earlier: datetime, later: datetime) -> Decimal:
    """``later − earlier`` in days, rounded to 2 decimals (half up)."""
    microseconds = (later - earlier) // timedelta(microseconds=1)
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        return (Decimal(microseconds) / _MICROSECONDS_PER_DAY).quantize(_CENT, ROUND_HALF_UP)


def _ratio(numerator: int, denominator: int) -> Decimal | None:
    if denominator == 0:
        return None
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        return Decimal(numerator) / Decimal(denominator)


def _transition(paths: Iterable[DealPath], from_stage: str, to_stage: str) -> Transition:
    entered = converted = 0
    durations: list[Decimal] = []
    for path in paths:
        if from_stage not in path:
            continue
        entered += 1
        if to_stage not in path:
            continue
        converted += 1
        start, end = path[from_stage], path[to_stage]
        if start is not None and end is not None and end >= start:
            durations.append(days_between(start, end))
    median: Decimal | None = None
    if durations:
        with localcontext() as ctx:
            ctx.prec = _PRECISION
            median = statistics.median(durations)
    return Transition(
        from_stage=from_stage,
        to_stage=to_stage,
        name=f"{STAGE_NAMES[from_stage]} → {STAGE_NAMES[to_stage]}",
        entered=entered,
        converted=converted,
        conversion=_ratio(converted, entered),
        median_days=median,
        sample=len(durations),
    )


def funnel_from_paths(paths: Mapping[str, DealPath], cohort: Cohort | None = None) -> Funnel:
    """The funnel over deal paths (from :func:`deal_paths`), optionally only a cohort."""
    chosen = [path for deal_id, path in paths.items() if cohort is None or cohort(deal_id, path)]
    stages = tuple(
        StageCount(stage=stage, name=STAGE_NAMES[stage], deals=sum(stage in p for p in chosen))
        for stage in STAGES
    )
    transitions = tuple(
        _transition(chosen, from_stage, to_stage) for from_stage, to_stage in pairwise(STAGES)
    )
    rated = [
        (t.conversion, index) for index, t in enumerate(transitions) if t.conversion is not None
    ]
    # the lowest conversion; on a tie the lower index, i.e. the earlier transition
    weakest = transitions[min(rated)[1]] if rated else None
    return Funnel(
        stages=stages,
        transitions=transitions,
        weakest=weakest,
        overall=_ratio(stages[-1].deals, stages[0].deals),
    )


def funnel(events: Iterable[StageEvent], cohort: Cohort | None = None) -> Funnel:
    """The funnel over stage events; ``cohort(deal_id, path)`` keeps only some deals."""
    return funnel_from_paths(deal_paths(events), cohort)
