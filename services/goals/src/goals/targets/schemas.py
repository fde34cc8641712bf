from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class GoalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metric: str = Field(min_length=1, examples=["collected_revenue"])
    owner_kind: Literal["company", "team", "person"]
    owner_id: str = Field(default="company", min_length=1, examples=["company", "t-east", "p-12"])
    period: str = Field(examples=["2026", "2026-H1", "2026-Q1", "2026-03", "2026-W09"])
    target: Decimal = Field(description="positive; money as a decimal string")
    dimension: str = Field(default="", examples=["", "product_line=saas"])
    reason: str | None = Field(default=None, max_length=2000)
    set_by_hand: bool = Field(
        default=True, description="false: a joiner's or leaver's target prorates by active days"
    )


class Warning(BaseModel):
    code: str
    detail: str


class GoalOut(BaseModel):
    goal_id: uuid.UUID
    metric: str
    dimension: str
    owner_kind: str
    owner_id: str
    period: str
    period_kind: str
    period_start: date
    period_end: date
    target: Decimal
    set_by_hand: bool
    parent_id: uuid.UUID | None
    split_rule: str | None
    version: int
    updated_by: str
    warnings: list[Warning] = Field(default_factory=list)


class GoalFigureOut(GoalOut):
    actual: Decimal | None
    effective_target: Decimal
    active_days: int | None
    attainment: Decimal | None
    elapsed: Decimal
    expected: Decimal | None
    projected_attainment: Decimal | None
    children_total: Decimal | None
    children_difference: Decimal | None


class SplitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    along: Literal["org", "time", "dimension"]
    rule: Literal["even", "weights", "history"] | None = Field(
        default=None, description="how to compute the shares (default even); omit with targets"
    )
    into: Literal["half", "quarter", "month", "week"] | None = None
    dimension: Literal["product_line", "region", "customer_type"] | None = None
    values: list[str] | None = None
    owners: list[str] | None = Field(
        default=None, description="org: the children (default: sub-teams, else members)"
    )
    weights: dict[str, Decimal] | None = None
    targets: dict[str, Decimal] | None = Field(
        default=None, description="explicit child targets: must add up to the parent"
    )
    reason: str | None = Field(default=None, max_length=2000)


class VersionOut(BaseModel):
    version: int
    target: Decimal
    change: str
    reason: str | None
    changed_by: str
    changed_at: datetime


class ProposalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target: Decimal
    reason: str = Field(min_length=1, max_length=2000)


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=2000)
    offset_goal_id: uuid.UUID | None = Field(
        default=None,
        description="a sibling goal that absorbs the difference (default: parents roll up)",
    )


class ProposalOut(BaseModel):
    proposal_id: uuid.UUID
    goal_id: uuid.UUID
    proposed_target: Decimal
    reason: str
    proposed_by: str
    proposed_at: datetime
    status: str
    decided_by: str | None
    decided_at: datetime | None
    decision_reason: str | None


class PeriodOut(BaseModel):
    period: str
    kind: str
    start: date
    end: date
    closed: bool
    closed_by: str | None = None
    closed_at: datetime | None = None
