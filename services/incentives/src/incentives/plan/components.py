"""Pay plans as data: versioned, effective-dated lists of components, validated with clear errors
(overlapping or unordered tiers, rates out of range)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from incentives.plan.maths import PlanError, Tier, validate_tiers

Rate = Annotated[Decimal, Field(ge=0, le=1)]
Money = Annotated[Decimal, Field(ge=0)]


class _Component(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    cap: Money | None = Field(default=None, description="at most this much per statement")
    grade_adjusted: bool = Field(default=False, description="× the final grade's coefficient")


class Flat(_Component):
    type: Literal["flat"]
    rate: Rate


class TierIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # attainment from which the rate applies, e.g. 1.2 for 120 % (the band includes it)
    lower: Annotated[Decimal, Field(ge=0, alias="from")]
    rate: Rate


class Tiered(_Component):
    type: Literal["tiered"]
    mode: Literal["marginal", "retroactive"] = "marginal"
    tiers: list[TierIn] = Field(min_length=1)

    @model_validator(mode="after")
    def _tiers(self) -> Tiered:
        if self.grade_adjusted:
            raise ValueError("commission is never grade-adjusted")
        try:
            validate_tiers(self.as_tiers())
        except PlanError as exc:
            raise ValueError(str(exc)) from exc
        return self

    def as_tiers(self) -> list[Tier]:
        return [Tier(t.lower, t.rate) for t in self.tiers]


class Segment(_Component):
    type: Literal["segment"]
    rates: dict[Literal["new", "existing"], Rate]


class OverAchievement(_Component):
    type: Literal["over_achievement"]
    above: Annotated[Decimal, Field(gt=0)] = Decimal("1.2")
    rate: Rate = Decimal("0.01")


class FixedBonus(_Component):
    type: Literal["fixed_bonus"]
    amount: Money


class TargetBonus(_Component):
    """A fixed amount per period, paid in proportion to the final scorecard total (÷ 100)."""

    type: Literal["target_bonus"]
    amount: Money


class TopN(_Component):
    """Everyone ranked ≤ n on the plan (competition ranking: ties are all paid) gets the amount."""

    type: Literal["top_n"]
    n: Annotated[int, Field(ge=1)]
    amount: Money
    measure: Literal["collected_revenue", "new_customer_revenue"] = "new_customer_revenue"


class Draw(_Component):
    """A guarantee: earnings below it are topped up to it (recoverable draws are paid back from
    later earnings above it)."""

    type: Literal["draw"]
    amount: Money
    recoverable: bool = False


class NpsBonus(_Component):
    """NPS (% promoters 9–10 − % detractors 0–6 of the person's responses in the period) at or
    above the threshold, with at least `min_responses` responses."""

    type: Literal["nps"]
    threshold: Annotated[Decimal, Field(ge=-100, le=100)] = Decimal(90)
    amount: Money
    min_responses: Annotated[int, Field(ge=1)] = 10


class Gate(_Component):
    """A threshold: below `min_attainment` of quota no commission is paid (bonuses unaffected)."""

    type: Literal["gate"]
    min_attainment: Annotated[Decimal, Field(ge=0)]


Component = Annotated[
    Flat
    | Tiered
    | Segment
    | OverAchievement
    | FixedBonus
    | TargetBonus
    | TopN
    | Draw
    | NpsBonus
    | Gate,
    Field(discriminator="type"),
]


class PlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    effective_from: date
    effective_to: date | None = None
    currency: str = Field(default="CNY", pattern=r"^[A-Z]{3}$")
    quota_metric: str = Field(default="collected_revenue", description="the goal giving the quota")
    period_kind: Literal["month", "quarter", "half", "year"] = "month"
    components: list[Component] = Field(min_length=1)
    statement_cap: Money | None = Field(default=None, description="at most this much per statement")
    retroactive: bool = Field(
        default=False,
        description="a version effective mid-period applies to the whole period (else from its date)",
    )
    clawback_days: int = Field(
        default=180, ge=0, description="a refund this soon after its payment reverses it there"
    )

    @model_validator(mode="after")
    def _dates(self) -> PlanIn:
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError("effective_to is before effective_from")
        for c in self.components:
            if c.grade_adjusted and c.type in ("flat", "segment"):
                raise ValueError("commission is never grade-adjusted")
        return self
