"""Early-warning alert rules (PRODUCT.md §2): pure, typed, ``Decimal`` throughout.

Each rule is a function of plain figures and the tenant's :class:`Thresholds`; it returns
``None`` (no alert) or a :class:`Finding`. Nothing here touches a database or a clock: the
caller supplies "now", the counts and the period figures, and keeps the alert state.

A finding's ``subject`` is the dedupe key of its *cause*: the caller must not open a second
alert while one with the same ``(rule, subject)`` is open. ``figures`` are the numbers that
triggered the rule, as strings (``Decimal`` in positional notation, never floats).

=====================  ====================================================  ==============
rule                   fires when (defaults)                                 severity
=====================  ====================================================  ==============
``behind_pace``        elapsed ≥ 20 % of the period (and the period not yet   critical when
                       over), target > 0 and projected =                      projected < 70 %,
                       max(0, (actual / target) / elapsed) < 90 %             else warning
``late_entry``         recorded_at − occurred_at > 24 h (strictly);           warning
                       never for backfills
``stalled``            now − last stage change ≥ 14 days (14 × 24 h exactly  info
                       fires, one second earlier does not)
``burst``              count today > max(50, mean + 3σ) of the person's own   warning
                       trailing 28 daily counts (strictly)
``repeated_follow_up`` follow-ups of one customer by one person in a day > 5  warning
                       (the 6th fires, the 5th does not)
``spike_drop``         |(current − previous) / previous| > 50 % (strictly);   warning,
                       previous ≤ 0 → no verdict                              evidence requested
=====================  ====================================================  ==============

Comparisons are made exactly (by cross-multiplying, not on rounded quotients) so each
boundary is where the table says; the quotients in ``figures`` are computed in a fixed
28-digit context, independent of the caller's decimal context.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal, Inexact, localcontext
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "BEHIND_PACE",
    "BURST",
    "DEFAULT_THRESHOLDS",
    "LATE_ENTRY",
    "REPEATED_FOLLOW_UP",
    "SPIKE_DROP",
    "STALLED",
    "Finding",
    "Severity",
    "Thresholds",
    "behind_pace",
    "burst",
    "burst_threshold",
    "late_entry",
    "outlived",
    "pace_recovered",
    "projected_attainment",
    "repeated_follow_up",
    "spike_drop",
    "stalled",
]

Severity = Literal["info", "warning", "critical"]

BEHIND_PACE = "behind_pace"
LATE_ENTRY = "late_entry"
STALLED = "stalled_deal"
BURST = "burst"
REPEATED_FOLLOW_UP = "repeated_follow_up"
SPIKE_DROP = "spike_drop"

_CTX = Context(prec=28, rounding=ROUND_HALF_EVEN)
# Threshold comparisons are made on exact products; an input too long to multiply exactly
# raises ``decimal.Inexact`` rather than being compared on a rounded value.
_EXACT = Context(prec=1000, rounding=ROUND_HALF_EVEN, traps=[Inexact])
_SECONDS_PER_HOUR = Decimal(3600)
_SECONDS_PER_DAY = Decimal(86400)


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule firing: what fired, for which cause, how badly, and on which figures."""

    rule: str
    subject: str
    severity: Severity
    figures: dict[str, str] = field(default_factory=dict)
    evidence_requested: bool = False


class Thresholds(BaseModel):
    """The tenant's alert settings; every field has the PRODUCT.md default and can be overridden.

    Ratios are fractions (``0.9`` = 90 %). Invalid settings raise ``pydantic.ValidationError``;
    unknown keys are rejected so a misspelt setting is not silently ignored.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    pace_threshold: Decimal = Field(
        default=Decimal("0.9"), gt=0, description="behind pace when projected attainment < this"
    )
    pace_critical: Decimal = Field(
        default=Decimal("0.7"),
        ge=0,
        description="behind pace is critical when projected attainment < this (≤ pace_threshold)",
    )
    pace_min_elapsed: Decimal = Field(
        default=Decimal("0.2"),
        gt=0,
        le=1,
        description="pace is only judged once this fraction of the period has passed",
    )
    late_hours: Decimal = Field(
        default=Decimal(24), ge=0, description="late when recorded − occurred > this many hours"
    )
    stalled_days: Decimal = Field(
        default=Decimal(14), gt=0, description="stalled after this many days without stage change"
    )
    burst_floor: int = Field(default=50, ge=0, description="a burst needs more events than this")
    burst_sigmas: Decimal = Field(
        default=Decimal(3), ge=0, description="σ multiplier over the trailing daily mean"
    )
    burst_window_days: int = Field(
        default=28, ge=1, description="trailing days the burst mean and σ are taken over"
    )
    follow_up_max: int = Field(
        default=5, ge=0, description="follow-ups of one customer per person per day allowed"
    )
    spike_change: Decimal = Field(
        default=Decimal("0.5"), gt=0, description="flag a period-over-period change beyond ±this"
    )

    @model_validator(mode="after")
    def _critical_within_warning(self) -> Self:
        if self.pace_critical > self.pace_threshold:
            raise ValueError("pace_critical must not exceed pace_threshold")
        return self


DEFAULT_THRESHOLDS = Thresholds()


def _fmt(value: Decimal | int) -> str:
    """A figure as a string in positional notation (no exponent)."""
    return format(Decimal(value), "f")


def _seconds(delta: timedelta) -> Decimal:
    """A timedelta as an exact number of seconds."""
    whole = Decimal(delta.days * 86400 + delta.seconds)
    if not delta.microseconds:
        return whole
    with localcontext(_EXACT):
        return whole + Decimal(delta.microseconds).scaleb(-6)


# --- behind pace ---------------------------------------------------------------------------


def _pace_judgeable(target: Decimal, elapsed: Decimal, th: Thresholds) -> bool:
    if not Decimal(0) <= elapsed <= Decimal(1):
        raise ValueError(f"elapsed must be a fraction in [0, 1], got {elapsed}")
    # A period that is over has an outcome, not a pace: nothing left to catch up on.
    return target > 0 and elapsed > 0 and elapsed >= th.pace_min_elapsed and elapsed < 1


def projected_attainment(actual: Decimal, target: Decimal, elapsed: Decimal) -> Decimal:
    """Where the period ends at the pace so far: ``(actual / target) / elapsed``, never below
    zero (refunds beyond collections project nothing, not a negative attainment)."""
    with localcontext(_CTX):
        return max(Decimal(0), actual / (target * elapsed))


def _pace_below(actual: Decimal, target: Decimal, elapsed: Decimal, ratio: Decimal) -> bool:
    # actual / target / elapsed < ratio  ⇔  actual < ratio × target × elapsed  (target, elapsed > 0)
    with localcontext(_EXACT):
        return actual < ratio * target * elapsed


def behind_pace(
    actual: Decimal,
    target: Decimal,
    elapsed: Decimal,
    th: Thresholds = DEFAULT_THRESHOLDS,
    *,
    person: str,
    metric: str,
    period: str,
) -> Finding | None:
    """Behind pace on an additive, higher-is-better metric.

    ``elapsed`` is the fraction of the period that has passed, in [0, 1] (``ValueError``
    otherwise). Fires when ``pace_min_elapsed ≤ elapsed < 1`` and ``target > 0`` and the
    projected attainment (:func:`projected_attainment`) is below ``pace_threshold``; critical
    when it is also below ``pace_critical``. Once the period is over (``elapsed = 1``) there is
    no pace to judge. Subject: ``"{person}|{metric}|{period}"``.
    Figures: actual, target, attainment, elapsed, projected, threshold.
    """
    if not _pace_judgeable(target, elapsed, th):
        return None
    if not _pace_below(actual, target, elapsed, th.pace_threshold):
        return None
    critical = _pace_below(actual, target, elapsed, th.pace_critical)
    with localcontext(_CTX):
        attainment = actual / target
    projected = projected_attainment(actual, target, elapsed)
    return Finding(
        rule=BEHIND_PACE,
        subject=f"{person}|{metric}|{period}",
        severity="critical" if critical else "warning",
        figures={
            "actual": _fmt(actual),
            "target": _fmt(target),
            "attainment": _fmt(attainment),
            "elapsed": _fmt(elapsed),
            "projected": _fmt(projected),
            "threshold": _fmt(th.pace_threshold),
        },
    )


def pace_recovered(
    actual: Decimal,
    target: Decimal,
    elapsed: Decimal,
    th: Thresholds = DEFAULT_THRESHOLDS,
) -> bool:
    """Whether the behind-pace cause has cleared, so an open alert can resolve itself.

    True exactly when pace can be judged (``pace_min_elapsed ≤ elapsed < 1``, ``elapsed > 0``,
    ``target > 0``) and the projected attainment is at or above ``pace_threshold`` — the
    negation of :func:`behind_pace` firing under the same inputs. When pace cannot be judged
    the answer is False: that is *no verdict* (neither firing nor recovered), and the caller
    leaves an open alert as it is.
    """
    if not _pace_judgeable(target, elapsed, th):
        return False
    return not _pace_below(actual, target, elapsed, th.pace_threshold)


def outlived(rule: str, period_end: date | None, today: date, *, closed: bool) -> str | None:
    """Why an open alert about a period no longer stands, or None while it does.

    A closed period is final: every alert about it resolves (``period_closed``). A period that
    has ended without being closed ends its behind-pace alerts (``period_ended``): pace is about
    catching up, and nothing is left to catch up on. Data-quality alerts (late entry, bursts,
    follow-ups, spikes and drops) stay open until the period is closed or someone resolves them,
    since they ask for a look at recorded data that can still be corrected.
    """
    if period_end is None:
        return None
    if closed:
        return "period_closed"
    if rule == BEHIND_PACE and today > period_end:
        return "period_ended"
    return None


# --- late data entry -----------------------------------------------------------------------


def late_entry(
    occurred_at: datetime,
    recorded_at: datetime,
    backfill: bool,
    th: Thresholds = DEFAULT_THRESHOLDS,
    *,
    activity_id: str,
) -> Finding | None:
    """Late data entry: fires when ``recorded_at − occurred_at > late_hours`` (strictly).

    Exactly ``late_hours`` late does not fire; one second more does. Backfills never fire.
    Subject: ``"{activity_id}"``. Figures: hours_late, late_hours.
    """
    if backfill:
        return None
    delay = _seconds(recorded_at - occurred_at)
    with localcontext(_EXACT):
        if not delay > th.late_hours * _SECONDS_PER_HOUR:
            return None
    with localcontext(_CTX):
        hours_late = delay / _SECONDS_PER_HOUR
    return Finding(
        rule=LATE_ENTRY,
        subject=activity_id,
        severity="warning",
        figures={"hours_late": _fmt(hours_late), "late_hours": _fmt(th.late_hours)},
    )


# --- stalled deal --------------------------------------------------------------------------


def stalled(
    last_stage_change: datetime,
    now: datetime,
    th: Thresholds = DEFAULT_THRESHOLDS,
    *,
    deal_id: str,
) -> Finding | None:
    """Stalled deal: no stage change for ``stalled_days`` days.

    Fires when ``now − last_stage_change ≥ stalled_days × 24 h``: at exactly 14 days it
    fires, one second earlier it does not. Subject: ``"{deal_id}"``.
    Figures: days_since_change, stalled_days.
    """
    gap = _seconds(now - last_stage_change)
    with localcontext(_EXACT):
        if gap < th.stalled_days * _SECONDS_PER_DAY:
            return None
    with localcontext(_CTX):
        days = gap / _SECONDS_PER_DAY
    return Finding(
        rule=STALLED,
        subject=deal_id,
        severity="info",
        figures={"days_since_change": _fmt(days), "stalled_days": _fmt(th.stalled_days)},
    )


# --- burst ---------------------------------------------------------------------------------


def burst_threshold(
    trailing_daily_counts: Sequence[int], th: Thresholds = DEFAULT_THRESHOLDS
) -> tuple[Decimal, Decimal, Decimal]:
    """``(mean, sigma, threshold)`` of a person's trailing daily event counts.

    ``trailing_daily_counts`` is oldest first, one entry per day, days without events as 0.
    Only the last ``burst_window_days`` entries are used; with fewer (a new person) mean and
    population σ are taken over what exists (an empty history gives 0 and 0).
    ``threshold = max(burst_floor, mean + burst_sigmas × σ)``.
    """
    window = list(trailing_daily_counts)[-th.burst_window_days :]
    if any(c < 0 for c in window):
        raise ValueError("daily counts must not be negative")
    with localcontext(_CTX):
        if window:
            n = Decimal(len(window))
            mean = Decimal(sum(window)) / n
            variance = sum(((Decimal(c) - mean) ** 2 for c in window), Decimal(0)) / n
            sigma = variance.sqrt()
        else:
            mean = sigma = Decimal(0)
        threshold = max(Decimal(th.burst_floor), mean + th.burst_sigmas * sigma)
    return mean, sigma, threshold


def burst(
    count_today: int,
    trailing_daily_counts: Sequence[int],
    th: Thresholds = DEFAULT_THRESHOLDS,
    *,
    person: str,
    day: date | str,
) -> Finding | None:
    """Burst: one person records more than :func:`burst_threshold` events in a day (strictly).

    Never fires at or below ``burst_floor``. Subject: ``"{person}|{day}"`` (a ``date`` is
    written ISO). Figures: count, mean, sigma, threshold.
    """
    mean, sigma, threshold = burst_threshold(trailing_daily_counts, th)
    if not Decimal(count_today) > threshold:
        return None
    day_label = day.isoformat() if isinstance(day, date) else day
    return Finding(
        rule=BURST,
        subject=f"{person}|{day_label}",
        severity="warning",
        figures={
            "count": _fmt(count_today),
            "mean": _fmt(mean),
            "sigma": _fmt(sigma),
            "threshold": _fmt(threshold),
        },
    )


# --- repeated follow-up --------------------------------------------------------------------


def repeated_follow_up(
    count_today: int,
    th: Thresholds = DEFAULT_THRESHOLDS,
    *,
    person: str,
    customer: str,
    day: date | str,
) -> Finding | None:
    """Repeated follow-up: one customer followed up more than ``follow_up_max`` times by one
    person in a day (the 6th fires, the 5th does not by default).

    Subject: ``"{person}|{customer}|{day}"``. Figures: count, follow_up_max.
    """
    if not count_today > th.follow_up_max:
        return None
    day_label = day.isoformat() if isinstance(day, date) else day
    return Finding(
        rule=REPEATED_FOLLOW_UP,
        subject=f"{person}|{customer}|{day_label}",
        severity="warning",
        figures={"count": _fmt(count_today), "follow_up_max": _fmt(th.follow_up_max)},
    )


# --- spike / drop --------------------------------------------------------------------------


def spike_drop(
    current: Decimal,
    previous: Decimal,
    th: Thresholds = DEFAULT_THRESHOLDS,
    *,
    owner: str,
    metric: str,
    period: str,
) -> Finding | None:
    """Spike / drop in period-over-period revenue: flagged, evidence requested.

    ``change = (current − previous) / previous``; fires when ``|change| > spike_change``
    (strictly: exactly +50 % or −50 % does not fire). No verdict (None) when
    ``previous ≤ 0``. Subject: ``"{owner}|{metric}|{period}"``.
    Figures: current, previous, change, threshold.
    """
    if previous <= 0:
        return None
    with localcontext(_EXACT):
        # |current − previous| / previous > spike  ⇔  |current − previous| > spike × previous
        if not abs(current - previous) > th.spike_change * previous:
            return None
    with localcontext(_CTX):
        change = (current - previous) / previous
    return Finding(
        rule=SPIKE_DROP,
        subject=f"{owner}|{metric}|{period}",
        severity="warning",
        figures={
            "current": _fmt(current),
            "previous": _fmt(previous),
            "change": _fmt(change),
            "threshold": _fmt(th.spike_change),
        },
        evidence_requested=True,
    )
