from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field


class FlatRateIn(BaseModel):
    rate: Decimal = Field(ge=0, le=1, description='e.g. "0.03" for 3%')


class LineOut(BaseModel):
    activity_id: str
    activity_type: str
    currency: str
    base: Decimal
    rate: Decimal
    commission: Decimal
    explanation: dict[str, Any]


class CommissionOut(BaseModel):
    person_id: str
    period_start: date
    currency: str
    base_total: Decimal
    commission_total: Decimal
    line_count: int
    lines: list[LineOut]
