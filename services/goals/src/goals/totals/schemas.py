from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field


class TotalOut(BaseModel):
    person_id: str
    metric: str
    period_start: date
    period_end: date
    actual: Decimal
    target: Decimal | None
    attainment: Decimal | None
    event_count: int


class TargetIn(BaseModel):
    person_id: str = Field(min_length=1)
    metric: str = Field(min_length=1, examples=["collected_revenue"])
    month: str = Field(pattern=r"^\d{4}-\d{2}$", examples=["2026-03"])
    value: Decimal = Field(gt=0, description="a target must be positive")
