"""Grade bands, forced distribution and calibration over REST."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from scoring.calibration.graded import announce_grade
from scoring.calibration.service import settings_of
from scoring.grades.maths import Band, validate_bands
from scoring.models import Calibration, Scorecard, ScoringSettings, audit_log, messaging
from shared.auth.access import requires
from shared.auth.tokens import Principal
from shared.db import audit
from shared.db.uow import tenant_session, unit_of_work
from shared.http.problems import Problem, invalid_field
from shared.runtime import Runtime
from shared.service import runtime_of

router = APIRouter(tags=["calibration"])
CALIBRATORS = ("admin", "hr")


class BandIn(BaseModel):
    grade: str = Field(min_length=1, max_length=8)
    lower: Decimal


class QuotaIn(BaseModel):
    grades: list[str] = Field(min_length=1)
    min_share: Decimal | None = Field(default=None, ge=0, le=1)
    max_share: Decimal | None = Field(default=None, ge=0, le=1)


class SettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bands: list[BandIn] = Field(min_length=2)
    forced_distribution: bool = False
    quotas: list[QuotaIn] = Field(default_factory=list)


@router.get("/v1/grading")
async def get_grading(
    who: Annotated[Principal, Depends(requires(*CALIBRATORS, "manager", "committee"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> dict[str, Any]:
    """The grade bands (each including its lower bound) and the forced-distribution quotas."""
    async with tenant_session(rt.sessions, who.tenant_id) as session:
        bands, forced, quotas = await settings_of(session, who.tenant_id)
    return {
        "bands": [{"grade": b.grade, "lower": str(b.lower)} for b in bands],
        "forced_distribution": forced,
        "quotas": [
            {
                "grades": list(q.grades),
                "min_share": None if q.min_share is None else str(q.min_share),
                "max_share": None if q.max_share is None else str(q.max_share),
            }
            for q in quotas
        ],
    }


@router.put("/v1/grading")
async def put_grading(
    body: SettingsIn,
    who: Annotated[Principal, Depends(requires(*CALIBRATORS))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> dict[str, Any]:
    """Set the tenant's grade bands and switch forced distribution on or off."""
    try:
        validate_bands([Band(b.grade, b.lower) for b in body.bands])
    except ValueError as exc:
        raise invalid_field("bands", str(exc)) from exc
    values = {
        "bands": [{"grade": b.grade, "lower": str(b.lower)} for b in body.bands],
        "forced_distribution": body.forced_distribution,
        "quotas": [q.model_dump(mode="json") for q in body.quotas]
        if body.quotas
        else [
            {"grades": ["S"], "min_share": None, "max_share": "0.15"},
            {"grades": ["A"], "min_share": "0.20", "max_share": "0.30"},
            {"grades": ["B"], "min_share": "0.40", "max_share": "0.60"},
            {"grades": ["C", "D"], "min_share": "0.05", "max_share": None},
        ],
        "updated_by": who.subject,
    }
    async with unit_of_work(rt.sessions, messaging) as uow:
        await uow.set_tenant(who.tenant_id)
        stmt = pg_insert(ScoringSettings).values(tenant_id=who.tenant_id, **values)
        await uow.session.execute(
            stmt.on_conflict_do_update(index_elements=[ScoringSettings.tenant_id], set_=values)
        )
        await audit.record(
            uow.session,
            audit_log,
            tenant_id=who.tenant_id,
            actor=who.subject,
            action="grading.set",
            target_type="grading",
            target_key="bands",
            before=None,
            after={k: v for k, v in values.items() if k != "updated_by"},
        )
    return values


def calibration_out(c: Calibration) -> dict[str, Any]:
    return {
        "calibration_id": str(c.calibration_id),
        "period": c.period,
        "scope": c.scope,
        "status": c.status,
        "report": c.report,
        "changes": c.changes,
        "approved_by": c.approved_by,
        "approved_at": None if c.approved_at is None else c.approved_at.isoformat(),
    }


@router.get("/v1/calibrations")
async def list_calibrations(
    period: str,
    who: Annotated[Principal, Depends(requires(*CALIBRATORS, "committee"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> list[dict[str, Any]]:
    """The distribution reports of a closed period: violations of the quotas and proposed moves."""
    async with tenant_session(rt.sessions, who.tenant_id) as session:
        rows = await session.scalars(
            select(Calibration)
            .where(Calibration.tenant_id == who.tenant_id, Calibration.period == period)
            .order_by(Calibration.scope)
        )
        return [calibration_out(c) for c in rows]


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grades: dict[str, str] = Field(description="person → final grade (the proposals, or others)")
    reasons: dict[str, str] = Field(
        default_factory=dict, description="person → why their grade moved"
    )


@router.post("/v1/calibrations/{calibration_id}/approve")
async def approve(
    calibration_id: uuid.UUID,
    body: ApproveIn,
    who: Annotated[Principal, Depends(requires(*CALIBRATORS))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> dict[str, Any]:
    """A calibrator approves the final grades; every grade that moves needs a reason."""
    async with unit_of_work(rt.sessions, messaging, rt.settings.topic_prefix) as uow:
        await uow.set_tenant(who.tenant_id)
        session = uow.session
        cal = await session.get(Calibration, calibration_id, with_for_update=True)
        if cal is None or cal.tenant_id != who.tenant_id:
            raise Problem(404, "Not found", "no such calibration")
        if cal.status != "proposed":
            raise Problem(409, "Already approved", "this calibration was approved", kind="conflict")
        bands, _, _ = await settings_of(session, who.tenant_id)
        known = {b.grade for b in bands}
        cards = {
            c.person_id: c
            for c in await session.scalars(
                select(Scorecard)
                .where(
                    Scorecard.tenant_id == who.tenant_id,
                    Scorecard.period == cal.period,
                    Scorecard.person_id.in_(list(body.grades)),
                )
                .with_for_update()
            )
        }
        changes = []
        for person, grade in sorted(body.grades.items()):
            card = cards.get(person)
            if card is None:
                raise invalid_field(f"grades.{person}", "no scorecard of this period")
            if grade not in known:
                raise invalid_field(f"grades.{person}", f"unknown grade {grade!r}")
            if grade != card.grade:
                reason = body.reasons.get(person, "").strip()
                if not reason:
                    raise invalid_field(
                        f"reasons.{person}",
                        f"moving {person} from {card.grade} to {grade} needs a reason",
                    )
                changes.append(
                    {"person_id": person, "from": card.grade, "to": grade, "reason": reason}
                )
                card.grade = grade
        for card in cards.values():
            announce_grade(uow, card, "calibrated")
        cal.status = "approved"
        cal.changes = changes
        cal.approved_by = who.subject
        cal.approved_at = datetime.now(UTC)
        await audit.record(
            session,
            audit_log,
            tenant_id=who.tenant_id,
            actor=who.subject,
            action="calibration.approved",
            target_type="calibration",
            target_key=f"{cal.scope}/{cal.period}",
            before=None,
            after={"changes": changes},
        )
        return calibration_out(cal)
