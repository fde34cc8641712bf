from __future__ import annotations

import uuid

from pydantic import BaseModel, Field


class TenantCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    timezone: str = Field(default="Asia/Shanghai", examples=["Asia/Shanghai"])
    currency: str = Field(default="CNY", pattern=r"^[A-Z]{3}$")
    fiscal_year_start_month: int = Field(default=1, ge=1, le=12)


class TenantOut(BaseModel):
    tenant_id: uuid.UUID
    name: str
    timezone: str
    currency: str
    fiscal_year_start_month: int
