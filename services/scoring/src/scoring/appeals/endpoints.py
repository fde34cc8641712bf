"""Appeals (申诉, the assessment committee of seed 004): a person appeals a final score item with
a reason; a committee member who is neither the person nor their manager accepts it (with the
corrected value) or rejects it. The change and its effect on the total and grade are audited and
re-announced on scoring.scores.v1."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from scoring.appeals import repository
from scoring.calibration.graded import announce_grade
from scoring.calibration.service import settings_of
from scoring.grades.maths import grade_of
from scoring.models import Appeal, Scorecard, ScorecardItem, audit_log, messaging, org
from scoring.scorecards.service import quantitative, refresh_total, save_item
from shared.auth.access import may_see_owner, principal, requires
from shared.auth.tokens import Principal
from shared.db import audit
from shared.db.uow import tenant_session, unit_of_work
from shared.events.envelope import ScoreComputed, ScorePayload, new_event, person_key
from shared.http.problems import Problem, invalid_field
from shared.org import independent_of
from shared.runtime import Runtime
from shared.service import runtime_of

router = APIRouter(tags=["appeals"])


class AppealIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scorecard_id: uuid.UUID
    item_key: str = Field(min_length=1)
    reason: str = Field(min_length=1, max_length=5000)


def appeal_out(a: Appeal) -> dict[str, Any]:
    return {
        "appeal_id": str(a.appeal_id),
        "scorecard_id": str(a.scorecard_id),
        "person_id": a.person_id,
        "item_key": a.item_key,
        "reason": a.reason,
        "status": a.status,
        "decided_by": a.decided_by,
        "decision_reason": a.decision_reason,
        "corrected_value": None if a.corrected_value is None else str(a.corrected_value),
        "effect": a.effect,
    }


@router.get("/v1/appeals")
async def list_appeals(
    who: Annotated[Principal, Depends(requires("admin", "hr", "manager", "committee"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
    status: Annotated[str | None, Query(pattern="^(submitted|accepted|rejected)$")] = "submitted",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    """Appeals waiting for a decision (``status``, submitted by default), oldest first; a
    manager sees those of the people they may see."""
    async with tenant_session(rt.sessions, who.tenant_id) as session:
        rows = await repository.appeals_by_status(session, who.tenant_id, status, limit)
    today = date.today()
    return [
        appeal_out(a)
        for a in rows
        if who.has("admin", "hr", "committee")
        or await may_see_owner(rt, who, "person", a.person_id, today, today)
    ]


@router.post("/v1/appeals", status_code=201)
async def submit(
    body: AppealIn,
    who: Annotated[Principal, Depends(principal)],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> dict[str, Any]:
    """The person appeals one item of their final scorecard."""
    async with unit_of_work(rt.sessions, messaging) as uow:
        await uow.set_tenant(who.tenant_id)
        card = await uow.session.get(Scorecard, body.scorecard_id)
        if card is None or card.tenant_id != who.tenant_id or card.person_id != who.subject:
            raise Problem(404, "Not found", "no scorecard of yours with this id")
        if card.status != "final":
            raise Problem(
                409,
                "Not final",
                "only a final score is appealed; a provisional one still moves",
                kind="conflict",
            )
        if body.item_key not in {i["key"] for i in card.items}:
            raise invalid_field("item_key", f"no item {body.item_key!r} on this scorecard")
        open_one = await uow.session.scalar(
            select(Appeal).where(
                Appeal.scorecard_id == card.scorecard_id,
                Appeal.item_key == body.item_key,
                Appeal.status == "submitted",
            )
        )
        if open_one is not None:
            raise Problem(
                409,
                "Already appealed",
                "this item has an appeal waiting for a decision",
                kind="conflict",
            )
        appeal = Appeal(
            appeal_id=uuid.uuid4(),
            tenant_id=who.tenant_id,
            scorecard_id=card.scorecard_id,
            person_id=card.person_id,
            item_key=body.item_key,
            reason=body.reason,
            status="submitted",
        )
        uow.session.add(appeal)
        await uow.session.flush()
        await audit.record(
            uow.session,
            audit_log,
            tenant_id=who.tenant_id,
            actor=who.subject,
            action="appeal.submitted",
            target_type="appeal",
            target_key=f"{card.person_id}/{appeal.appeal_id}",
            before=None,
            after={"item": body.item_key, "reason": body.reason},
        )
        return appeal_out(appeal)


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    accept: bool
    reason: str = Field(min_length=1, max_length=5000)
    corrected_value: Decimal | None = Field(
        default=None, description="accepted: the item's corrected actual (or 360° mean)"
    )


@router.post("/v1/appeals/{appeal_id}/decide")
async def decide(
    appeal_id: uuid.UUID,
    body: DecisionIn,
    who: Annotated[Principal, Depends(requires("committee"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> dict[str, Any]:
    """A committee member decides: neither the person nor their manager may."""
    async with unit_of_work(rt.sessions, messaging, rt.settings.topic_prefix) as uow:
        await uow.set_tenant(who.tenant_id)
        session = uow.session
        appeal = await session.get(Appeal, appeal_id, with_for_update=True)
        if appeal is None or appeal.tenant_id != who.tenant_id:
            raise Problem(404, "Not found", "no such appeal")
        if appeal.status != "submitted":
            raise Problem(409, "Already decided", f"the appeal is {appeal.status}", kind="conflict")
        card = await session.get(Scorecard, appeal.scorecard_id, with_for_update=True)
        assert card is not None
        if not await independent_of(
            session,
            org,
            who.tenant_id,
            who.subject,
            appeal.person_id,
            card.period_start,
            card.period_end,
        ):
            raise Problem(
                403,
                "Forbidden",
                "an appeal is decided by a committee member who is neither the person nor their manager",
            )
        if body.accept and body.corrected_value is None:
            raise invalid_field("corrected_value", "an accepted appeal says the corrected value")
        appeal.status = "accepted" if body.accept else "rejected"
        appeal.decided_by = who.subject
        appeal.decided_at = datetime.now(UTC)
        appeal.decision_reason = body.reason
        effect = None
        if body.accept:
            assert body.corrected_value is not None
            appeal.corrected_value = body.corrected_value
            item = next(i for i in card.items if i["key"] == appeal.item_key)
            row = await session.get(ScorecardItem, (card.scorecard_id, item["key"]))
            before = {
                "score": None if row is None or row.score is None else str(row.score),
                "total": None if card.total is None else str(card.total),
                "grade": card.grade,
            }
            if item["kind"] == "qualitative":
                weight = Decimal(item["weight"])
                result = {
                    "status": "scored",
                    "actual": body.corrected_value,
                    "score": weight * body.corrected_value / 100,
                    "explanation": {
                        "formula": "weight × corrected mean / 100",
                        "appeal": str(appeal.appeal_id),
                    },
                }
            else:
                target = (
                    row.target
                    if row is not None and row.target is not None
                    else (Decimal(item["target"]) if item.get("target") else None)
                )
                result = quantitative(item, body.corrected_value, target)
                result["explanation"]["appeal"] = str(appeal.appeal_id)
            await save_item(session, card, item, result)
            await session.flush()
            await refresh_total(session, card)
            bands, _, _ = await settings_of(session, who.tenant_id)
            if card.complete and card.total is not None:
                card.grade = grade_of(card.total, bands)
            effect = {
                "before": before,
                "after": {
                    "score": None if result.get("score") is None else str(result["score"]),
                    "total": None if card.total is None else str(card.total),
                    "grade": card.grade,
                },
            }
            appeal.effect = effect
            announce_grade(uow, card, "appealed")
            if result.get("score") is not None:
                uow.emit(
                    new_event(
                        ScoreComputed,
                        tenant_id=who.tenant_id,
                        key=person_key(who.tenant_id, card.person_id),
                        occurred_at=datetime.now(UTC),
                        payload=ScorePayload(
                            person_id=card.person_id,
                            period_start=card.period_start,
                            metric=item.get("metric") or item["key"],
                            status="final",
                            weight=Decimal(item["weight"]),
                            target=result.get("target") or Decimal(100),
                            actual=body.corrected_value,
                            ratio=result.get("ratio") or body.corrected_value / 100,
                            score=result["score"],
                        ),
                    )
                )
        await audit.record(
            session,
            audit_log,
            tenant_id=who.tenant_id,
            actor=who.subject,
            action=f"appeal.{appeal.status}",
            target_type="appeal",
            target_key=f"{appeal.person_id}/{appeal.appeal_id}",
            before={"status": "submitted"},
            after={"reason": body.reason, "effect": effect},
        )
        return appeal_out(appeal)
