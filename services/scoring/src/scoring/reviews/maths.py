"""The qualitative (360°) item formula and the template weight check of PRODUCT.md §3.

Pure functions, no database. Every number is a ``Decimal``.

- Ratings are 0–100. They are averaged within each rater group first, then the groups are
  weighted (default manager 60, customer 20, peer 20, self 0).
- A group with weight 0 (``self`` by default) is shown but never weighted.
- Weighted groups without any rating are *missing*: the weights of the groups present are
  re-normalised and the result says so (``renormalised``, ``missing_groups``). With no weighted
  group at all the item is *incomplete* (``score`` and ``weighted_mean`` are ``None``).
- ``score = weight × weighted_mean / 100``.
- A rater who rated twice in the same group counts once, with their latest rating (the last in
  the sequence), so a corrected rating replaces the earlier one instead of being double counted.
- ``used_weights`` are **percentages summing to exactly 100** (``{"manager": 75, "peer": 25}``).
  When a share is not a finite decimal (1/3), the last group absorbs the rounding remainder of
  the 28-digit context so the sum stays exactly 100; the weighted mean itself is computed from
  the raw weights, ``Σ wᵍ × meanᵍ / Σ wᵍ``, with a single division.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType
from typing import Final

SELF: Final = "self"
QUANTITATIVE: Final = "quantitative"
QUALITATIVE: Final = "qualitative"
ITEM_KINDS: Final = frozenset({QUANTITATIVE, QUALITATIVE})

HUNDRED: Final = Decimal(100)

DEFAULT_GROUP_WEIGHTS: Final[Mapping[str, Decimal]] = MappingProxyType(
    {
        "manager": Decimal(60),
        "customer": Decimal(20),
        "peer": Decimal(20),
        SELF: Decimal(0),
    }
)


def _as_decimal(value: object, what: str) -> Decimal:
    """Decimal or int only: a float (or bool) is refused rather than silently converted."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"{what} must be a Decimal, not {type(value).__name__}")
    result = Decimal(value)
    if not result.is_finite():
        raise ValueError(f"{what} must be a finite number, not {result}")
    return result


def _plain(value: Decimal) -> str:
    """105 rather than 105.0 or 1.05E+2 in messages."""
    if value == value.to_integral_value():
        return str(value.quantize(Decimal(1)))
    return str(value.normalize())


@dataclass(frozen=True)
class Rating:
    """One rater's 0–100 rating of a person's qualitative item, within a rater group."""

    group: str
    rater_id: str
    score: Decimal

    def __post_init__(self) -> None:
        score = _as_decimal(self.score, f"the rating by {self.rater_id}")
        if not Decimal(0) <= score <= HUNDRED:
            raise ValueError(
                f"the rating by {self.rater_id} ({self.group}) is {_plain(score)}, outside 0–100"
            )
        object.__setattr__(self, "score", score)


@dataclass(frozen=True)
class QualitativeResult:
    """The item's score and how it was reached.

    ``group_means`` holds every rated group, self-assessment included (shown, not weighted);
    ``used_weights`` holds the weighted groups present, as percentages summing to exactly 100
    (empty when incomplete); ``missing_groups`` lists the weighted groups without ratings, in
    the order of the group weights.
    """

    score: Decimal | None
    weighted_mean: Decimal | None
    group_means: dict[str, Decimal] = field(default_factory=dict)
    used_weights: dict[str, Decimal] = field(default_factory=dict)
    missing_groups: list[str] = field(default_factory=list)
    renormalised: bool = False
    incomplete: bool = False
    self_mean: Decimal | None = None


def _check_group_weights(group_weights: Mapping[str, Decimal]) -> dict[str, Decimal]:
    checked: dict[str, Decimal] = {}
    for group, weight in group_weights.items():
        value = _as_decimal(weight, f"the weight of group {group}")
        if value < 0:
            raise ValueError(f"the weight of group {group} is {_plain(value)}, below 0")
        checked[group] = value
    return checked


def qualitative_score(
    weight: Decimal,
    ratings: Sequence[Rating],
    group_weights: Mapping[str, Decimal] = DEFAULT_GROUP_WEIGHTS,
) -> QualitativeResult:
    """Score one qualitative item of weight ``weight`` from its 360° ratings (see the module
    docstring for the rules). A rating from a group not in ``group_weights`` is refused."""
    item_weight = _as_decimal(weight, "the item weight")
    if item_weight < 0:
        raise ValueError(f"the item weight is {_plain(item_weight)}, below 0")
    weights = _check_group_weights(group_weights)

    # Latest rating per (group, rater): a later rating replaces an earlier one.
    latest: dict[str, dict[str, Decimal]] = {}
    for rating in ratings:
        if rating.group not in weights:
            known = ", ".join(weights)
            raise ValueError(
                f"the rating by {rating.rater_id} names an unknown group {rating.group!r} "
                f"(known: {known})"
            )
        by_rater = latest.setdefault(rating.group, {})
        by_rater.pop(rating.rater_id, None)
        by_rater[rating.rater_id] = rating.score

    group_means = {
        group: sum(latest[group].values(), Decimal(0)) / len(latest[group])
        for group in weights
        if latest.get(group)
    }
    weighted = [group for group in weights if weights[group] > 0]
    present = [group for group in weighted if group in group_means]
    missing = [group for group in weighted if group not in group_means]
    self_mean = group_means.get(SELF)

    if not present:
        return QualitativeResult(
            score=None,
            weighted_mean=None,
            group_means=group_means,
            used_weights={},
            missing_groups=missing,
            renormalised=False,
            incomplete=True,
            self_mean=self_mean,
        )

    total_weight = sum((weights[group] for group in present), Decimal(0))
    weighted_mean = (
        sum((weights[group] * group_means[group] for group in present), Decimal(0)) / total_weight
    )
    used: dict[str, Decimal] = {}
    for group in present[:-1]:
        used[group] = weights[group] * HUNDRED / total_weight
    used[present[-1]] = HUNDRED - sum(used.values(), Decimal(0))

    return QualitativeResult(
        score=item_weight * weighted_mean / HUNDRED,
        weighted_mean=weighted_mean,
        group_means=group_means,
        used_weights=used,
        missing_groups=missing,
        renormalised=bool(missing),
        incomplete=False,
        self_mean=self_mean,
    )


def validate_template_weights(items: Sequence[tuple[str, Decimal, str]]) -> Decimal:
    """Check that a template's item weights add up to exactly 100 and return its quantitative
    share (the sum of the quantitative weights, in percent; 003 recommends 70–80).

    ``items`` are ``(name, weight, kind)`` with kind ``"quantitative"`` or ``"qualitative"``.
    Raises ``ValueError`` naming the actual sum ("the weights add up to 105, not 100"), a
    negative weight or an unknown kind.
    """
    total = Decimal(0)
    quantitative = Decimal(0)
    for name, weight, kind in items:
        value = _as_decimal(weight, f"the weight of {name}")
        if value < 0:
            raise ValueError(f"the weight of {name} is {_plain(value)}, below 0")
        if kind not in ITEM_KINDS:
            raise ValueError(f"the kind of {name} is {kind!r}, not 'quantitative' or 'qualitative'")
        total += value
        if kind == QUANTITATIVE:
            quantitative += value
    if total != HUNDRED:
        raise ValueError(f"the weights add up to {_plain(total)}, not 100")
    return quantitative
