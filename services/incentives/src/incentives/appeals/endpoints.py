"""Appeals on pay lines (the workflow of scoring's appeals): a person disputes a line with a
reason; a committee member who is neither the person nor their manager decides; an accepted
appeal's correction is a line of that period (or, once it is locked, a prior-period adjustment)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from incentives.appeals import repository
from incentives.models import PayAppeal, audit_log, messaging, org
from shared.auth.access import may_see_owner, principal, requires
from shared.auth.tokens import Principal
from shared.db import audit
from shared.db.uow import tenant_session, unit_of_work
from shared.http.problems import Problem, invalid_field
from shared.org import independent_of
from shared.periods import parse_period
from shared.runtime import Runtime
from shared.service import runtime_of

router = APIRouter(tags=["pay"])


class AppealIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period: str
    component: str = Field(min_length=1, description="the disputed line")
    reason: str = Field(min_length=1, max_length=5000)


def out(a: PayAppeal) -> dict[str, Any]:
    return {
        "appeal_id": str(a.appeal_id),
        "person_id": a.person_id,
        "period": a.period,
        "component": a.component,
        "reason": a.reason,
        "status": a.status,
        "correction": None if a.correction is None else str(a.correction),
        "decided_by": a.decided_by,
        "decision_reason": a.decision_reason,
    }


@router.get("/v1/pay-appeals")
async def list_pay_appeals(
    who: Annotated[Principal, Depends(requires("admin", "hr", "finance", "manager", "committee"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
    status: Annotated[str | None, Query(pattern="^(submitted|accepted|rejected)$")] = "submitted",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    """Pay appeals waiting for a decision (``status``, submitted by default), oldest first; a
    manager sees those of the people they may see."""
    async with tenant_session(rt.sessions, who.tenant_id) as session:
        rows = await repository.pay_appeals_by_status(session, who.tenant_id, status, limit)
    today = date.today()
    return [
        out(a)
        for a in rows
        if who.has("admin", "hr", "finance", "committee")
        or await may_see_owner(rt, who, "person", a.person_id, today, today)
    ]


@router.post("/v1/pay-appeals", status_code=201)
async def submit(
    body: AppealIn,
    who: Annotated[Principal, Depends(principal)],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> dict[str, Any]:
    """The person disputes one line of their pay for a period."""
    try:
        parse_period(body.period)
    except ValueError as exc:
        raise invalid_field("period", str(exc)) from exc
    async with unit_of_work(rt.sessions, messaging) as uow:
        await uow.set_tenant(who.tenant_id)
        appeal = PayAppeal(
            appeal_id=uuid.uuid4(),
            tenant_id=who.tenant_id,
            person_id=who.subject,
            period=body.period,
            component=body.component,
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
            action="pay_appeal.submitted",
            target_type="pay_appeal",
            target_key=f"{who.subject}/{appeal.appeal_id}",
            before=None,
            after={"component": body.component, "reason": body.reason},
        )
        return out(appeal)


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    accept: bool
    reason: str = Field(min_length=1, max_length=5000)
    correction: Decimal | None = Field(
        default=None,
        description="accepted: the amount added to the period's pay (negative to reduce)",
    )


@router.post("/v1/pay-appeals/{appeal_id}/decide")
async def decide(
    appeal_id: uuid.UUID,
    body: DecisionIn,
    who: Annotated[Principal, Depends(requires("committee"))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> dict[str, Any]:
    async with unit_of_work(rt.sessions, messaging) as uow:
        await uow.set_tenant(who.tenant_id)
        appeal = await uow.session.get(PayAppeal, appeal_id, with_for_update=True)
        if appeal is None or appeal.tenant_id != who.tenant_id:
            raise Problem(404, "Not found", "no such appeal")
        if appeal.status != "submitted":
            raise Problem(409, "Already decided", f"the appeal is {appeal.status}", kind="conflict")
        period = parse_period(appeal.period)
        if not await independent_of(
            uow.session, org, who.tenant_id, who.subject, appeal.person_id, period.start, period.end
        ):
            raise Problem(
                403,
                "Forbidden",
                "an appeal is decided by a committee member who is neither the person nor their manager",
            )
        if body.accept and body.correction is None:
            raise invalid_field("correction", "an accepted appeal says the correction")
        appeal.status = "accepted" if body.accept else "rejected"
        appeal.correction = body.correction if body.accept else None
        appeal.decided_by = who.subject
        appeal.decision_reason = body.reason
        await audit.record(
            uow.session,
            audit_log,
            tenant_id=who.tenant_id,
            actor=who.subject,
            action=f"pay_appeal.{appeal.status}",
            target_type="pay_appeal",
            target_key=f"{appeal.person_id}/{appeal_id}",
            before={"status": "submitted"},
            after={
                "reason": body.reason,
                "correction": None if appeal.correction is None else str(appeal.correction),
                "at": datetime.now(UTC).isoformat(),
            },
        )
        return out(appeal)
