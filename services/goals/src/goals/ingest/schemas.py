from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

SourceKind = Literal["generic"]


class SourceCreate(BaseModel):
    kind: SourceKind = "generic"
    name: str = Field(min_length=1, max_length=200)


class SourceOut(BaseModel):
    source_id: uuid.UUID
    tenant_id: uuid.UUID
    kind: str
    name: str
    webhook_url: str
    created_at: datetime | None = None


class SourceCreated(SourceOut):
    secret: str = Field(description="Shown once: sign webhooks with it")


class Outcome(BaseModel):
    """What happened to one posted event."""

    index: int | None = None
    id: str | None = None
    status: Literal["accepted", "duplicate", "conflict", "invalid"]
    http_status: int
    event_id: uuid.UUID | None = None
    quarantine_id: int | None = None
    errors: list[dict[str, Any]] | None = None


class BatchResult(BaseModel):
    accepted: int
    duplicates: int
    quarantined: int
    results: list[Outcome]


class QuarantineOut(BaseModel):
    quarantine_id: int
    source_id: uuid.UUID
    reason: str
    detail: dict[str, Any]
    body: str
    status: str
    received_at: datetime
