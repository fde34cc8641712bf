from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field


class TotalOut(BaseModel):
    person_id: str = Field(description="the owner: a person id, a team id, or 'company'")
    owner_kind: str
    metric: str
    period_kind: str
    period_start: date
    period_end: date
    actual: Decimal | None = Field(description="None when undefined (a ratio over zero)")
    target: Decimal | None = Field(description="as measured against (prorated when it applies)")
    target_set: Decimal | None
    attainment: Decimal | None
    event_count: int
    direction: str
    goal_id: uuid.UUID | None


class TargetIn(BaseModel):
    person_id: str = Field(min_length=1)
    metric: str = Field(min_length=1, examples=["collected_revenue"])
    month: str = Field(pattern=r"^\d{4}-\d{2}$", examples=["2026-03"])
    value: Decimal = Field(gt=0, description="a target must be positive")
    reason: str | None = None
