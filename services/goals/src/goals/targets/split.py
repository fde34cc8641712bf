"""Splitting a target among children (pure): even, by weights (seasonality), by historical share.

Shares are rounded to the parent's precision (whole units for a whole-number target, otherwise its
decimal places) with the largest-remainder method, so the children always add up to the parent
exactly; ties in the remainders go to the earlier child."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_FLOOR, Decimal


class SplitError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def quantum_of(total: Decimal) -> Decimal:
    """The precision children are rounded to: that of the parent (at least whole units)."""
    exponent = total.normalize().as_tuple().exponent
    if not isinstance(exponent, int) or exponent >= 0:
        return Decimal(1)
    return Decimal(1).scaleb(exponent)


def allocate(
    total: Decimal, weights: Sequence[Decimal], quantum: Decimal | None = None
) -> list[Decimal]:
    """Shares of ``total`` proportional to ``weights``, on the quantum grid, adding up exactly."""
    if not weights:
        raise SplitError("children", "nothing to split into")
    if any(w < 0 for w in weights):
        raise SplitError("weights", "weights must not be negative")
    weight_sum = sum(weights, Decimal(0))
    if weight_sum <= 0:
        raise SplitError("weights", "the weights add up to zero: nothing to split by")
    q = quantum if quantum is not None else quantum_of(total)
    units = total / q
    if units != units.to_integral_value():
        raise SplitError("target", f"the target is not a multiple of {q}")
    exact = [units * w / weight_sum for w in weights]
    floors = [e.to_integral_value(rounding=ROUND_FLOOR) for e in exact]
    left = int(units - sum(floors, Decimal(0)))
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return [f * q for f in floors]


def difference(parent: Decimal, children: Sequence[Decimal]) -> Decimal:
    """How far the children are from the parent (positive: they fall short)."""
    return parent - sum(children, Decimal(0))
