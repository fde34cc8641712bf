"""The quantitative item formula of PRODUCT.md §3 (pure, no database)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class Direction(StrEnum):
    higher_is_better = "higher_is_better"
    lower_is_better = "lower_is_better"


@dataclass(frozen=True)
class ItemScore:
    ratio: Decimal
    score: Decimal
    capped: bool
    below_floor: bool


def quantitative_score(
    *,
    weight: Decimal,
    target: Decimal,
    actual: Decimal,
    direction: Direction = Direction.higher_is_better,
    cap: Decimal = Decimal(1),
    floor: Decimal = Decimal(0),
) -> ItemScore:
    """score = 0 when r < floor, else weight × min(max(r, 0), cap); r = A/T, or T/A when lower
    is better (r = cap when A = 0). Never negative, never above cap × weight."""
    if target <= 0:
        raise ValueError("target must be > 0")
    if direction is Direction.higher_is_better:
        ratio = actual / target
    elif actual == 0:
        ratio = cap
    else:
        ratio = target / actual
    if ratio < floor:
        return ItemScore(ratio=ratio, score=Decimal(0), capped=False, below_floor=True)
    bounded = min(max(ratio, Decimal(0)), cap)
    return ItemScore(ratio=ratio, score=weight * bounded, capped=ratio > cap, below_floor=False)
