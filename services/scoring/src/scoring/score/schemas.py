from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from scoring.score.maths import Direction


class ScoreItemIn(BaseModel):
    weight: Decimal = Field(gt=0, le=100)
    direction: Direction = Direction.higher_is_better
    cap: Decimal = Field(default=Decimal(1), gt=0)
    floor: Decimal = Field(default=Decimal(0), ge=0)


class ScoreOut(BaseModel):
    person_id: str
    period_start: date
    metric: str
    status: str
    weight: Decimal
    target: Decimal
    actual: Decimal
    ratio: Decimal
    score: Decimal
    explanation: dict[str, Any]
