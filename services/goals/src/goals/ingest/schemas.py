from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SourceKind = Literal["generic", "hubspot", "salesforce", "pipedrive", "mapping"]


class SourceCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: SourceKind = "generic"
    name: str = Field(min_length=1, max_length=200)
    secret: str | None = Field(
        default=None,
        min_length=8,
        max_length=500,
        description="hubspot: the app's client secret (required); otherwise generated",
    )
    settings: dict[str, Any] = Field(
        default_factory=dict,
        description="salesforce: organization_id (required); pipedrive: basic_user; "
        "hubspot / salesforce: stage_map; currency (default CNY)",
    )

    @model_validator(mode="after")
    def _vendor(self) -> SourceCreate:
        if self.kind == "hubspot" and not self.secret:
            raise ValueError("a hubspot source needs the app's client secret (secret)")
        if self.kind == "salesforce" and not self.settings.get("organization_id"):
            raise ValueError("a salesforce source needs settings.organization_id")
        if self.kind == "pipedrive":
            self.settings.setdefault("basic_user", "quotient")
        stage_map = self.settings.get("stage_map")
        if stage_map is not None and not isinstance(stage_map, dict):
            raise ValueError("settings.stage_map maps CRM stages to activity types")
        return self


class RotateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    secret: str | None = Field(default=None, min_length=8, max_length=500)
    grace_seconds: int = Field(
        default=86400, ge=0, le=30 * 86400, description="how long the old secret still verifies"
    )


class AliasIn(BaseModel):
    person_id: str = Field(min_length=1, max_length=200)


class AliasOut(BaseModel):
    source_id: uuid.UUID
    alias: str
    person_id: str


class ReplayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event: dict[str, Any] | None = Field(
        default=None, description="the fixed canonical event (default: the stored one again)"
    )


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
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    event_id: uuid.UUID | None = None
