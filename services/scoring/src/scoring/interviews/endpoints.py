"""Performance report and interview (seed 003): the report (score breakdown, strengths,
improvement areas) is delivered at least 3 days before the interview; the interview record
(self-review, feedback, improvement actions with owner, due date and measure) is signed by both
sides and then locked. Every illegal step is refused with a clear 409."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from scoring.models import Interview, Scorecard, ScorecardItem, audit_log, messaging
from shared.auth.access import principal, requires
from shared.auth.tokens import Principal
from shared.db import audit
from shared.db.uow import unit_of_work
from shared.http.problems import Problem, invalid_field
from shared.runtime import Runtime
from shared.service import runtime_of

router = APIRouter(tags=["interviews"])
NOTICE = timedelta(days=3)


def conflict(message: str) -> Problem:
    return Problem(409, "Not allowed now", message, kind="conflict")


async def build_report(session: Any, card: Scorecard) -> dict[str, Any]:
    rows = {
        r.item_key: r
        for r in await session.scalars(
            select(ScorecardItem).where(ScorecardItem.scorecard_id == card.scorecard_id)
        )
    }
    breakdown = []
    for item in card.items:
        r = rows.get(item["key"])
        share = None if r is None or r.score is None else r.score / Decimal(item["weight"])
        breakdown.append(
            {
                "key": item["key"],
                "name": item["name"],
                "weight": item["weight"],
                "score": None if r is None or r.score is None else str(r.score),
                "share_of_weight": None if share is None else str(share),
            }
        )
    scored = [b for b in breakdown if b["share_of_weight"] is not None]
    ranked = sorted(scored, key=lambda b: Decimal(b["share_of_weight"]), reverse=True)
    return {
        "total": None if card.total is None else str(card.total),
        "grade": card.grade,
        "breakdown": breakdown,
        "strengths": [b["key"] for b in ranked[:2]],
        "improvement_areas": [
            b["key"] for b in reversed(ranked[-2:]) if Decimal(b["share_of_weight"]) < 1
        ],
    }


def interview_out(i: Interview) -> dict[str, Any]:
    return {
        "scorecard_id": str(i.scorecard_id),
        "person_id": i.person_id,
        "manager_id": i.manager_id,
        "status": i.status,
        "report": i.report,
        "delivered_on": i.delivered_on.isoformat(),
        "interview_on": None if i.interview_on is None else i.interview_on.isoformat(),
        "self_review": i.self_review,
        "feedback": i.feedback,
        "actions": i.actions,
        "person_signed_at": None if i.person_signed_at is None else i.person_signed_at.isoformat(),
        "manager_signed_at": None
        if i.manager_signed_at is None
        else i.manager_signed_at.isoformat(),
    }


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    manager_id: str = Field(min_length=1)
    delivered_on: date


@router.post("/v1/scorecards/{scorecard_id}/report", status_code=201)
async def deliver_report(
    scorecard_id: uuid.UUID,
    body: ReportIn,
    who: Annotated[Principal, Depends(requires("admin", "hr", "manager"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> dict[str, Any]:
    """Generate and deliver the performance report of a final scorecard."""
    async with unit_of_work(rt.sessions, messaging) as uow:
        await uow.set_tenant(who.tenant_id)
        card = await uow.session.get(Scorecard, scorecard_id)
        if card is None or card.tenant_id != who.tenant_id:
            raise Problem(404, "Not found", "no such scorecard")
        if card.status != "final":
            raise conflict("the report is of a final scorecard: close the period first")
        if await uow.session.get(Interview, scorecard_id) is not None:
            raise conflict("the report was delivered already")
        interview = Interview(
            scorecard_id=scorecard_id,
            tenant_id=who.tenant_id,
            person_id=card.person_id,
            manager_id=body.manager_id,
            report=await build_report(uow.session, card),
            delivered_on=body.delivered_on,
            status="report_delivered",
            actions=[],
        )
        uow.session.add(interview)
        await uow.session.flush()
        return interview_out(interview)


class ActionIn(BaseModel):
    action: str = Field(min_length=1)
    owner: str = Field(min_length=1)
    due: date
    measure: str = Field(min_length=1)


class InterviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    interview_on: date
    self_review: str = Field(min_length=1)
    feedback: str = Field(min_length=1)
    actions: list[ActionIn] = Field(min_length=1)


@router.put("/v1/scorecards/{scorecard_id}/interview")
async def record_interview(
    scorecard_id: uuid.UUID,
    body: InterviewIn,
    who: Annotated[Principal, Depends(principal)],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> dict[str, Any]:
    """The manager records the interview: not earlier than 3 days after the report."""
    async with unit_of_work(rt.sessions, messaging) as uow:
        await uow.set_tenant(who.tenant_id)
        i = await uow.session.get(Interview, scorecard_id, with_for_update=True)
        if i is None or i.tenant_id != who.tenant_id:
            raise Problem(404, "Not found", "no report was delivered for this scorecard")
        if who.subject != i.manager_id:
            raise Problem(403, "Forbidden", "the interview is recorded by the person's manager")
        if i.status not in ("report_delivered", "recorded"):
            raise conflict(f"the interview is {i.status}: a signed record cannot change")
        if body.interview_on < i.delivered_on + NOTICE:
            raise invalid_field(
                "interview_on",
                f"at least 3 days after the report ({(i.delivered_on + NOTICE).isoformat()} or later)",
            )
        i.interview_on = body.interview_on
        i.self_review = body.self_review
        i.feedback = body.feedback
        i.actions = [a.model_dump(mode="json") for a in body.actions]
        i.status = "recorded"
        return interview_out(i)


@router.post("/v1/scorecards/{scorecard_id}/interview/sign")
async def sign_interview(
    scorecard_id: uuid.UUID,
    who: Annotated[Principal, Depends(principal)],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> dict[str, Any]:
    """The person and the manager each sign; with both signatures the record is locked."""
    async with unit_of_work(rt.sessions, messaging) as uow:
        await uow.set_tenant(who.tenant_id)
        i = await uow.session.get(Interview, scorecard_id, with_for_update=True)
        if i is None or i.tenant_id != who.tenant_id:
            raise Problem(404, "Not found", "no interview for this scorecard")
        if i.status == "report_delivered":
            raise conflict("nothing to sign yet: the interview is not recorded")
        if i.status == "locked":
            raise conflict("the record is signed by both sides and locked")
        now = datetime.now(UTC)
        if who.subject == i.person_id:
            if i.person_signed_at is not None:
                raise conflict("you signed already")
            i.person_signed_at = now
        elif who.subject == i.manager_id:
            if i.manager_signed_at is not None:
                raise conflict("you signed already")
            i.manager_signed_at = now
        else:
            raise Problem(403, "Forbidden", "only the person and their manager sign")
        i.status = (
            "locked"
            if i.person_signed_at and i.manager_signed_at
            else "signed_by_person"
            if i.person_signed_at
            else "signed_by_manager"
        )
        await audit.record(
            uow.session,
            audit_log,
            tenant_id=who.tenant_id,
            actor=who.subject,
            action="interview.signed",
            target_type="interview",
            target_key=f"{i.person_id}/{scorecard_id}",
            before=None,
            after={"status": i.status},
        )
        return interview_out(i)
