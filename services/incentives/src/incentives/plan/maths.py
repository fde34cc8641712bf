"""Pay plan maths of PRODUCT.md §4 (pure, no database): tiers, bonuses, ranks, coefficients.

Amounts are Decimal and unrounded; money is rounded half-up to the cent only on statement lines
(`to_cents`). Attainment bands include their lower bound."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise

CENT = Decimal("0.01")


def to_cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Tier:
    """From `lower` × quota upwards (until the next tier), commission at `rate`."""

    lower: Decimal  # attainment, e.g. Decimal("1.2") for 120%
    rate: Decimal


DEFAULT_TIERS = (
    Tier(Decimal(0), Decimal("0.03")),
    Tier(Decimal(1), Decimal("0.04")),
    Tier(Decimal("1.2"), Decimal("0.05")),
)


class PlanError(ValueError):
    """A plan that cannot be computed, with the reason."""


def validate_tiers(tiers: Sequence[Tier]) -> None:
    if not tiers:
        raise PlanError("a tiered component needs at least one tier")
    if tiers[0].lower != 0:
        raise PlanError(f"the first tier must start at 0% (it starts at {tiers[0].lower:%})")
    for before, after in pairwise(tiers):
        if after.lower <= before.lower:
            raise PlanError(
                f"tiers must rise: {after.lower:%} does not come after {before.lower:%}"
            )
    for tier in tiers:
        if not 0 <= tier.rate <= 1:
            raise PlanError(f"rate {tier.rate} is outside 0..1")


@dataclass(frozen=True)
class BandLine:
    """The part of the base inside one band, and what it earned."""

    lower: Decimal
    upper: Decimal | None
    base: Decimal
    rate: Decimal
    commission: Decimal


def marginal_commission(
    base: Decimal, quota: Decimal, tiers: Sequence[Tier] = DEFAULT_TIERS
) -> list[BandLine]:
    """Each band's rate on the part of the base inside it. A negative base (refunds beyond
    payments) is reversed at the first band's rate."""
    validate_tiers(tiers)
    if quota <= 0:
        raise PlanError("the quota must be > 0")
    if base <= 0:
        return (
            [BandLine(Decimal(0), None, base, tiers[0].rate, base * tiers[0].rate)] if base else []
        )
    lines = []
    for i, tier in enumerate(tiers):
        start = tier.lower * quota
        end = tiers[i + 1].lower * quota if i + 1 < len(tiers) else None
        if base <= start:
            break
        part = (min(base, end) if end is not None else base) - start
        lines.append(BandLine(start, end, part, tier.rate, part * tier.rate))
    return lines


def tier_reached(attainment: Decimal, tiers: Sequence[Tier] = DEFAULT_TIERS) -> Tier:
    """The highest tier whose lower bound the attainment reaches (bounds included)."""
    validate_tiers(tiers)
    reached = tiers[0]
    for tier in tiers:
        if attainment >= tier.lower:
            reached = tier
    return reached


def retroactive_commission(
    base: Decimal, quota: Decimal, tiers: Sequence[Tier] = DEFAULT_TIERS
) -> Decimal:
    """The whole base at the rate of the band the attainment reached."""
    if quota <= 0:
        raise PlanError("the quota must be > 0")
    return base * tier_reached(base / quota, tiers).rate


def over_achievement_bonus(
    base: Decimal,
    quota: Decimal,
    *,
    above: Decimal = Decimal("1.2"),
    rate: Decimal = Decimal("0.01"),
) -> Decimal:
    """Attainment strictly above `above` → `rate` of the amount above quota (else 0)."""
    if quota <= 0:
        raise PlanError("the quota must be > 0")
    if base / quota > above:
        return (base - quota) * rate
    return Decimal(0)


def competition_ranks(values: Mapping[str, Decimal]) -> dict[str, int]:
    """Standard competition ranking, highest first: 1, 2, 2, 4."""
    ordered = sorted(values.values(), reverse=True)
    return {key: ordered.index(value) + 1 for key, value in values.items()}


def top_n(values: Mapping[str, Decimal], n: int) -> set[str]:
    """Everyone ranked ≤ n (ties at the edge are all in)."""
    return {key for key, rank in competition_ranks(values).items() if rank <= n}


def nps(scores: Sequence[int], *, minimum_responses: int = 10) -> Decimal | None:
    """% promoters (9–10) − % detractors (0–6); None below the minimum number of responses."""
    if len(scores) < minimum_responses or not scores:
        return None
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    return Decimal(100 * (promoters - detractors)) / len(scores)


GRADE_COEFFICIENTS = {
    "S": Decimal("1.5"),
    "A": Decimal("1.2"),
    "B": Decimal("1.0"),
    "C": Decimal("0.8"),
    "D": Decimal("0"),
}


def grade_adjusted(
    amount: Decimal, grade: str, coefficients: Mapping[str, Decimal] = GRADE_COEFFICIENTS
) -> Decimal:
    """A bonus marked grade-adjusted, once the grade is final (commission never is)."""
    return amount * coefficients[grade]
