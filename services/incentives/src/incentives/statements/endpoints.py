"""Pay plans, statements (draft → approved by someone else → paid), payroll export, what-if."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import func, or_, select

from incentives.models import (
    Credit,
    FinalGrade,
    FxRate,
    PayAppeal,
    PersonRole,
    Plan,
    PlanAcceptance,
    PlanAssignment,
    Quota,
    Statement,
    SurveyScore,
    TeamPool,
    audit_log,
    messaging,
)
from incentives.plan.components import PlanIn
from incentives.plan.maths import to_cents
from incentives.statements import export as payroll
from incentives.statements import maths
from shared.auth.access import may_see_owner, principal, requires
from shared.auth.tokens import Principal
from shared.db import audit
from shared.db.uow import tenant_session, unit_of_work
from shared.http.problems import Problem, invalid_field, validation_problem
from shared.periods import Period, parse_period
from shared.periods import period_of as period_of_day
from shared.runtime import Runtime
from shared.service import runtime_of

router = APIRouter(tags=["pay"])
PAYROLL = ("admin", "finance")


@router.put("/v1/plans/{key}", status_code=201)
async def put_plan(
    key: str,
    body: dict[str, Any],
    who: Annotated[Principal, Depends(requires(*PAYROLL))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> dict[str, Any]:
    """A new version of a pay plan (components as data), effective from its date."""
    try:
        plan = PlanIn.model_validate(body)
    except ValidationError as exc:
        raise validation_problem(exc, title="Invalid plan") from exc
    async with unit_of_work(rt.sessions, messaging) as uow:
        await uow.set_tenant(who.tenant_id)
        latest = await uow.session.scalar(
            select(func.max(Plan.version)).where(Plan.tenant_id == who.tenant_id, Plan.key == key)
        )
        row = Plan(
            plan_id=uuid.uuid4(),
            tenant_id=who.tenant_id,
            key=key,
            version=(latest or 0) + 1,
            definition=plan.model_dump(mode="json", by_alias=True),
            created_by=who.subject,
        )
        uow.session.add(row)
        await uow.session.flush()
        await audit.record(
            uow.session,
            audit_log,
            tenant_id=who.tenant_id,
            actor=who.subject,
            action="plan.version",
            target_type="plan",
            target_key=f"{key}/v{row.version}",
            before=None,
            after=row.definition,
        )
        return {
            "plan_id": str(row.plan_id),
            "key": key,
            "version": row.version,
            "definition": row.definition,
        }


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    person_ids: list[str] = Field(default_factory=list)
    roles: list[str] = Field(
        default_factory=list, description="everyone with this role (as HR set it in goals)"
    )
    valid_from: date
    quota: Decimal | None = Field(default=None, gt=0, description="instead of the goal's target")


@router.post("/v1/plans/{key}/assign", status_code=204)
async def assign(
    key: str,
    body: AssignIn,
    who: Annotated[Principal, Depends(requires(*PAYROLL))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> None:
    """Put people on a plan from a date on (a change mid-period applies from that date)."""
    async with unit_of_work(rt.sessions, messaging) as uow:
        await uow.set_tenant(who.tenant_id)
        if (
            await uow.session.scalar(
                select(Plan.plan_id)
                .where(Plan.tenant_id == who.tenant_id, Plan.key == key)
                .limit(1)
            )
            is None
        ):
            raise invalid_field("key", f"no plan {key!r}")
        if not body.person_ids and not body.roles:
            raise invalid_field("person_ids", "give person_ids or roles")
        for person in [*body.person_ids, *(f"role:{r}" for r in body.roles)]:
            await uow.session.merge(
                PlanAssignment(
                    tenant_id=who.tenant_id,
                    person_id=person,
                    valid_from=body.valid_from,
                    plan_key=key,
                    quota=body.quota,
                    assigned_by=who.subject,
                )
            )


COMMISSION_TYPES = ("flat", "tiered", "segment", "gate")


async def versions_in(
    session: Any, tenant_id: uuid.UUID, key: str, period: Period
) -> list[tuple[Plan, PlanIn, date, date]]:
    """The plan versions in force during the period, each with the days it covers: a version
    effective mid-period applies from its date (unless it says it is retroactive)."""
    rows = list(
        await session.scalars(
            select(Plan).where(Plan.tenant_id == tenant_id, Plan.key == key).order_by(Plan.version)
        )
    )
    parsed = [(r, PlanIn.model_validate(r.definition)) for r in rows]
    # The newest version effective on each day of the period.
    out: list[tuple[Plan, PlanIn, date, date]] = []
    day = period.start
    while day <= period.end:
        live = [
            (r, p)
            for r, p in parsed
            if p.effective_from <= day and (p.effective_to is None or p.effective_to >= day)
        ]
        if not live:
            day += timedelta(days=1)
            continue
        r, p = live[-1]
        if out and out[-1][0].plan_id == r.plan_id and out[-1][3] == day - timedelta(days=1):
            out[-1] = (out[-1][0], out[-1][1], out[-1][2], day)
        else:
            out.append((r, p, day, day))
        day += timedelta(days=1)
    if out and out[-1][1].retroactive:
        last = out[-1]
        return [(last[0], last[1], period.start, period.end)]
    return out


async def plan_for(
    session: Any, tenant_id: uuid.UUID, person_id: str, period: Period
) -> tuple[Plan, PlanIn, Decimal | None] | None:
    assignment = await session.scalar(
        select(PlanAssignment)
        .where(
            PlanAssignment.tenant_id == tenant_id,
            PlanAssignment.person_id == person_id,
            PlanAssignment.valid_from <= period.end,
        )
        .order_by(PlanAssignment.valid_from.desc())
        .limit(1)
    )
    if assignment is None:
        # No plan of their own: their role's.
        role = await session.scalar(
            select(PersonRole.role).where(
                PersonRole.tenant_id == tenant_id, PersonRole.person_id == person_id
            )
        )
        if role is not None:
            assignment = await session.scalar(
                select(PlanAssignment)
                .where(
                    PlanAssignment.tenant_id == tenant_id,
                    PlanAssignment.person_id == f"role:{role}",
                    PlanAssignment.valid_from <= period.end,
                )
                .order_by(PlanAssignment.valid_from.desc())
                .limit(1)
            )
    if assignment is None:
        return None
    versions = list(
        await session.scalars(
            select(Plan)
            .where(Plan.tenant_id == tenant_id, Plan.key == assignment.plan_key)
            .order_by(Plan.version.desc())
        )
    )
    for row in versions:
        plan = PlanIn.model_validate(row.definition)
        if plan.effective_from <= period.end and (
            plan.effective_to is None or plan.effective_to >= period.start
        ):
            return row, plan, assignment.quota
    return None


async def statement_now(
    session: Any,
    tenant_id: uuid.UUID,
    person_id: str,
    period: Period,
    extra: list[maths.Credit] | None = None,
    grade: str | None = None,
    *,
    adjust: bool = True,
) -> tuple[Plan, maths.Statement]:
    found = await plan_for(session, tenant_id, person_id, period)
    if found is None:
        raise Problem(404, "Not found", f"{person_id} has no pay plan in force in {period.label}")
    row, plan, quota_override = found
    credits, conversions = await credits_in(
        session, tenant_id, person_id, period, plan.currency, plan.clawback_days
    )
    quota = quota_override
    if quota is None:
        quota = await session.scalar(
            select(Quota.target).where(
                Quota.tenant_id == tenant_id,
                Quota.person_id == person_id,
                Quota.metric == plan.quota_metric,
                Quota.period_kind == period.kind.value,
                Quota.period_start == period.start,
            )
        )
    final = (
        await session.execute(
            select(FinalGrade.grade, FinalGrade.total).where(
                FinalGrade.tenant_id == tenant_id,
                FinalGrade.person_id == person_id,
                FinalGrade.period == period.label,
            )
        )
    ).first()
    if grade is None and final is not None:
        grade = final[0]
    peers = None
    if any(c.type == "top_n" for c in plan.components):
        peers = await plan_peers(session, tenant_id, row.key, period)
    nps_scores = [
        int(v)
        for v in await session.scalars(
            select(SurveyScore.score).where(
                SurveyScore.tenant_id == tenant_id,
                SurveyScore.person_id == person_id,
                SurveyScore.kind == "nps",
                SurveyScore.day >= period.start,
                SurveyScore.day <= period.end,
            )
        )
    ]
    everything = credits + list(extra or [])
    common: dict[str, Any] = {
        "score_total": None if final is None else final[1],
        "person_id": person_id,
        "peers": peers,
        "recoverable_balance": await draw_balance(session, tenant_id, person_id),
        "nps_scores": nps_scores,
    }
    segments = await versions_in(session, tenant_id, row.key, period)
    if len(segments) <= 1:
        statement = maths.compute(plan, everything, quota, grade, **common)
    else:
        # Commission follows each version from its date (its credits, the quota prorated by
        # days); bonuses and caps are the latest version's, over the whole period.
        statement = maths.compute(
            plan.model_copy(
                update={
                    "components": [c for c in plan.components if c.type not in COMMISSION_TYPES],
                    "statement_cap": None,
                }
            ),
            everything,
            quota,
            grade,
            **common,
        )
        for version, part_plan, start, end in segments:
            share = Decimal((end - start).days + 1) / period.days
            part = maths.compute(
                part_plan.model_copy(
                    update={
                        "components": [
                            c for c in part_plan.components if c.type in COMMISSION_TYPES
                        ],
                        "statement_cap": None,
                    }
                ),
                [c for c in everything if c.day is None or start <= c.day <= end],
                None if quota is None else quota * share,
                grade,
            )
            for line in part.lines:
                line["component"] = (
                    f"{line['component']} (v{version.version} from {start.isoformat()})"
                )
                line["explanation"] |= {
                    "version": version.version,
                    "from": start.isoformat(),
                    "to": end.isoformat(),
                    "quota_share": str(share),
                }
                statement.lines.append(line)
            statement.total += part.total
        if plan.statement_cap is not None and statement.total > plan.statement_cap:
            statement.add_line(
                "statement cap",
                "cap",
                plan.statement_cap - statement.total,
                {"rule": "at most the statement cap", "cap": str(plan.statement_cap)},
            )
    statement.conversions = conversions
    await beside_the_plan(session, tenant_id, person_id, period, statement)
    if adjust:
        for line in await adjustments(session, tenant_id, person_id, period):
            statement.add_line(
                line["component"], "adjustment", Decimal(line["amount"]), line["explanation"]
            )
    return row, statement


async def credits_in(
    session: Any,
    tenant_id: uuid.UUID,
    person_id: str,
    period: Period,
    currency: str,
    clawback_days: int = 180,
) -> tuple[list[maths.Credit], list[dict[str, Any]]]:
    """The person's credits of the period in the plan's currency; other currencies converted at
    the tenant's rate on the payment date (the statement shows both amounts)."""
    rows = list(
        await session.scalars(
            select(Credit)
            .where(
                Credit.tenant_id == tenant_id,
                Credit.person_id == person_id,
                or_(
                    Credit.day.between(period.start, period.end),
                    Credit.payment_day.between(period.start, period.end),
                ),
            )
            .order_by(Credit.day, Credit.activity_id)
        )
    )

    def counts_on(c: Credit) -> date:
        """A clawback within the window counts on its payment's day, anything else on its own."""
        if c.payment_day is not None and (c.day - c.payment_day).days <= clawback_days:
            return c.payment_day
        return c.day

    rows = [c for c in rows if period.start <= counts_on(c) <= period.end]
    rates: dict[str, list[tuple[date, Decimal]]] = {}
    if any(c.currency != currency for c in rows):
        for r in await session.scalars(
            select(FxRate)
            .where(FxRate.tenant_id == tenant_id, FxRate.base == currency)
            .order_by(FxRate.valid_from)
        ):
            rates.setdefault(r.currency, []).append((r.valid_from, r.rate))
    out, conversions = [], []
    for c in rows:
        base = c.base
        if c.currency != currency:
            known = [rate for since, rate in rates.get(c.currency, []) if since <= c.day]
            if not known:
                conversions.append(
                    {
                        "activity": c.activity_id,
                        "amount": str(c.base),
                        "currency": c.currency,
                        "rate": None,
                        "note": f"no {c.currency}→{currency} rate on {c.day}: not counted",
                    }
                )
                continue
            base = c.base * known[-1]
            conversions.append(
                {
                    "activity": c.activity_id,
                    "amount": str(c.base),
                    "currency": c.currency,
                    "rate": str(known[-1]),
                    "converted": str(to_cents(base)),
                    "to": currency,
                    "on": c.day.isoformat(),
                }
            )
        out.append(maths.Credit(c.activity_id, c.type, base, c.segment, counts_on(c)))
    return out, conversions


async def beside_the_plan(
    session: Any, tenant_id: uuid.UUID, person_id: str, period: Period, statement: maths.Statement
) -> None:
    """Team pool shares and accepted pay-line appeals of the period."""
    for pool in await session.scalars(
        select(TeamPool).where(
            TeamPool.tenant_id == tenant_id,
            TeamPool.period == period.label,
            TeamPool.status == "approved",
        )
    ):
        share = pool.allocation.get(person_id)
        if share:
            statement.add_line(
                "team pool",
                "team_pool",
                Decimal(share),
                {
                    "pool": str(pool.pool_id),
                    "team": pool.team_id,
                    "pool_amount": str(pool.amount),
                    "allocated_by": pool.allocated_by,
                    "approved_by": pool.approved_by,
                },
            )
    for appeal in await session.scalars(
        select(PayAppeal).where(
            PayAppeal.tenant_id == tenant_id,
            PayAppeal.person_id == person_id,
            PayAppeal.period == period.label,
            PayAppeal.status == "accepted",
        )
    ):
        if appeal.correction:
            statement.add_line(
                f"appeal correction ({appeal.component})",
                "appeal",
                appeal.correction,
                {
                    "appeal": str(appeal.appeal_id),
                    "reason": appeal.decision_reason,
                    "decided_by": appeal.decided_by,
                },
            )


async def plan_peers(
    session: Any, tenant_id: uuid.UUID, plan_key: str, period: Period
) -> dict[str, dict[str, Decimal]]:
    """The measures top-N ranks on, for everyone on the plan in the period."""
    people = set(
        await session.scalars(
            select(PlanAssignment.person_id).where(
                PlanAssignment.tenant_id == tenant_id,
                PlanAssignment.plan_key == plan_key,
                PlanAssignment.valid_from <= period.end,
            )
        )
    )
    out: dict[str, dict[str, Decimal]] = {
        p: {"collected_revenue": Decimal(0), "new_customer_revenue": Decimal(0)} for p in people
    }
    rows = await session.execute(
        select(Credit.person_id, Credit.segment, func.sum(Credit.base))
        .where(
            Credit.tenant_id == tenant_id,
            Credit.person_id.in_(sorted(people)),
            Credit.day >= period.start,
            Credit.day <= period.end,
        )
        .group_by(Credit.person_id, Credit.segment)
    )
    for person, segment, total in rows:
        out[person]["collected_revenue"] += total
        if segment == "new":
            out[person]["new_customer_revenue"] += total
    return out


async def draw_balance(session: Any, tenant_id: uuid.UUID, person_id: str) -> Decimal:
    """Recoverable draws paid in locked statements and not yet paid back."""
    balance = Decimal(0)
    for s in await session.scalars(
        select(Statement).where(
            Statement.tenant_id == tenant_id,
            Statement.person_id == person_id,
            Statement.status.in_(("approved", "paid")),
        )
    ):
        for line in s.lines:
            if (
                line.get("type") == "draw"
                and line.get("amount")
                and line["explanation"].get("recoverable")
            ):
                balance += Decimal(line["amount"])
    return balance


def following(period: Period) -> Period:
    return period_of_day(period.kind, period.end + timedelta(days=1), period.fiscal_start_month)


async def adjustments(
    session: Any, tenant_id: uuid.UUID, person_id: str, period: Period
) -> list[dict[str, Any]]:
    """Locked statements are never changed: when a period that is locked would now come out
    differently (a refund clawed back into it), the difference lands here, in the next open
    period, as a prior-period adjustment line pointing at the original."""
    locked = list(
        await session.scalars(
            select(Statement).where(
                Statement.tenant_id == tenant_id,
                Statement.person_id == person_id,
                Statement.status.in_(("approved", "paid")),
            )
        )
    )
    by_label = {s.period: s for s in locked}
    applied: dict[str, Decimal] = {}
    for s in locked:
        for line in s.lines:
            if line.get("type") == "adjustment" and line.get("amount"):
                original = line["explanation"]["original_statement"]
                applied[original] = applied.get(original, Decimal(0)) + Decimal(line["amount"])
    out = []
    for s in sorted(locked, key=lambda s: s.period):
        try:
            earlier = parse_period(s.period, period.fiscal_start_month)
        except ValueError:
            continue
        if earlier.kind != period.kind or earlier.start >= period.start:
            continue
        lands = following(earlier)
        while lands.start < period.start and lands.label in by_label:
            lands = following(lands)
        if lands.start != period.start:
            continue  # an earlier open period takes it
        _, again = await statement_now(session, tenant_id, person_id, earlier, adjust=False)
        difference = again.total - s.total - applied.get(str(s.statement_id), Decimal(0))
        if difference == 0:
            continue
        out.append(
            {
                "component": f"prior-period adjustment ({s.period})",
                "type": "adjustment",
                "amount": str(difference),
                "explanation": {
                    "rule": "the locked period recomputed, minus what it paid",
                    "original_statement": str(s.statement_id),
                    "original_period": s.period,
                    "original_total": str(s.total),
                    "recomputed_total": str(again.total),
                    "events": [
                        e for line in again.lines for e in line["explanation"].get("events", [])
                    ][:50],
                },
            }
        )
    return out


def statement_json(
    person_id: str, period: Period, plan: Plan, st: maths.Statement, status: str, **extra: Any
) -> dict[str, Any]:
    return {
        "person_id": person_id,
        "period": period.label,
        "plan": {"plan_id": str(plan.plan_id), "key": plan.key, "version": plan.version},
        "status": status,
        "currency": st.currency,
        "base": str(st.base),
        "quota": None if st.quota is None else str(st.quota),
        "attainment": None if st.attainment is None else str(st.attainment),
        "lines": st.lines,
        "total": str(st.total),
        "conversions": st.conversions,
        **extra,
    }


def period_of(label: str, fiscal_start: int) -> Period:
    try:
        return parse_period(label, fiscal_start)
    except ValueError as exc:
        raise invalid_field("period", str(exc)) from exc


@router.get("/v1/statements")
async def get_statement(
    who: Annotated[Principal, Depends(principal)],
    rt: Annotated[Runtime, Depends(runtime_of)],
    person_id: Annotated[str, Query(min_length=1)],
    period: Annotated[str, Query(examples=["2026-03"])],
    fiscal_year_start_month: Annotated[int, Query(ge=1, le=12)] = 1,
) -> dict[str, Any]:
    """A person's statement for a period: every line with its explanation. Live while open;
    the prepared snapshot once prepared."""
    p = period_of(period, fiscal_year_start_month)
    if not await may_see_owner(rt, who, "person", person_id, p.start, p.end):
        raise Problem(403, "Forbidden", "you may only see your own pay, or your teams'")
    async with tenant_session(rt.sessions, who.tenant_id) as session:
        kept = await session.scalar(
            select(Statement)
            .where(
                Statement.tenant_id == who.tenant_id,
                Statement.person_id == person_id,
                Statement.period == p.label,
            )
            .order_by(Statement.prepared_at.desc())
            .limit(1)
        )
        if kept is not None:
            return stored_json(kept)
        plan, st = await statement_now(session, who.tenant_id, person_id, p)
        return statement_json(person_id, p, plan, st, "open")


def stored_json(s: Statement) -> dict[str, Any]:
    return {
        "statement_id": str(s.statement_id),
        "person_id": s.person_id,
        "period": s.period,
        "status": s.status,
        "currency": s.currency,
        "lines": s.lines,
        "total": str(s.total),
        "prepared_by": s.prepared_by,
        "approved_by": s.approved_by,
        "paid_by": s.paid_by,
    }


class PrepareIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    person_id: str = Field(min_length=1)
    period: str
    fiscal_year_start_month: int = Field(default=1, ge=1, le=12)


@router.post("/v1/statements/prepare", status_code=201)
async def prepare(
    body: PrepareIn,
    who: Annotated[Principal, Depends(requires(*PAYROLL))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> dict[str, Any]:
    """Snapshot the statement as a draft for approval (maker)."""
    p = period_of(body.period, body.fiscal_year_start_month)
    async with unit_of_work(rt.sessions, messaging) as uow:
        await uow.set_tenant(who.tenant_id)
        existing = await uow.session.scalar(
            select(Statement).where(
                Statement.tenant_id == who.tenant_id,
                Statement.person_id == body.person_id,
                Statement.period == p.label,
                Statement.status != "draft",
            )
        )
        if existing is not None:
            raise Problem(
                409,
                "Locked",
                f"the {p.label} statement is {existing.status}: it is never changed",
                kind="conflict",
            )
        for old in await uow.session.scalars(
            select(Statement).where(
                Statement.tenant_id == who.tenant_id,
                Statement.person_id == body.person_id,
                Statement.period == p.label,
            )
        ):
            await uow.session.delete(old)
        plan, st = await statement_now(uow.session, who.tenant_id, body.person_id, p)
        row = Statement(
            statement_id=uuid.uuid4(),
            tenant_id=who.tenant_id,
            person_id=body.person_id,
            period=p.label,
            plan_id=plan.plan_id,
            currency=st.currency,
            lines=st.lines,
            total=st.total,
            status="draft",
            prepared_by=who.subject,
        )
        uow.session.add(row)
        await uow.session.flush()
        await audit.record(
            uow.session,
            audit_log,
            tenant_id=who.tenant_id,
            actor=who.subject,
            action="statement.prepared",
            target_type="statement",
            target_key=f"{body.person_id}/{p.label}",
            before=None,
            after={"total": str(st.total)},
        )
        return stored_json(row)


async def _move(
    statement_id: uuid.UUID, who: Principal, rt: Runtime, to: Literal["approved", "paid"]
) -> dict[str, Any]:
    async with unit_of_work(rt.sessions, messaging) as uow:
        await uow.set_tenant(who.tenant_id)
        row = await uow.session.get(Statement, statement_id, with_for_update=True)
        if row is None or row.tenant_id != who.tenant_id:
            raise Problem(404, "Not found", "no such statement")
        now = datetime.now(UTC)
        if to == "approved":
            if row.status != "draft":
                raise Problem(409, "Not a draft", f"the statement is {row.status}", kind="conflict")
            if row.prepared_by == who.subject:
                raise Problem(
                    403,
                    "Forbidden",
                    "a statement is approved by someone other than who prepared it",
                )
            row.status, row.approved_by, row.approved_at = "approved", who.subject, now
        else:
            if row.status != "approved":
                raise Problem(
                    409,
                    "Not approved",
                    f"the statement is {row.status}: approve it first",
                    kind="conflict",
                )
            row.status, row.paid_by, row.paid_at = "paid", who.subject, now
        await audit.record(
            uow.session,
            audit_log,
            tenant_id=who.tenant_id,
            actor=who.subject,
            action=f"statement.{to}",
            target_type="statement",
            target_key=f"{row.person_id}/{row.period}",
            before=None,
            after={"total": str(row.total)},
        )
        return stored_json(row)


@router.post("/v1/statements/{statement_id}/approve")
async def approve(
    statement_id: uuid.UUID,
    who: Annotated[Principal, Depends(requires(*PAYROLL))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> dict[str, Any]:
    """Approve (checker ≠ maker): the statement is locked."""
    return await _move(statement_id, who, rt, "approved")


@router.post("/v1/statements/{statement_id}/paid")
async def mark_paid(
    statement_id: uuid.UUID,
    who: Annotated[Principal, Depends(requires(*PAYROLL))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> dict[str, Any]:
    return await _move(statement_id, who, rt, "paid")


@router.get("/v1/statements/export")
async def export(
    who: Annotated[Principal, Depends(requires(*PAYROLL))],
    rt: Annotated[Runtime, Depends(runtime_of)],
    period: str,
    format: Literal["csv", "xlsx"] = "csv",
) -> Response:
    """Approved and paid statements of a period for payroll: one row per line, naming the
    person (name and id) and their team, with the period, component, amount and currency."""
    async with tenant_session(rt.sessions, who.tenant_id) as session:
        rows = await payroll.payroll_rows(session, who.tenant_id, period)
    if format == "csv":
        return Response(
            payroll.to_csv(rows),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="payroll-{period}.csv"'},
        )
    return Response(
        payroll.to_xlsx(rows, period),
        media_type=payroll.XLSX_TYPE,
        headers={"content-disposition": f'attachment; filename="payroll-{period}.xlsx"'},
    )


class HypotheticalIn(BaseModel):
    type: Literal["payment_received", "refund"] = "payment_received"
    amount: Decimal
    segment: Literal["new", "existing"] | None = None


class WhatIfIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    person_id: str = Field(min_length=1)
    period: str
    events: list[HypotheticalIn] = Field(min_length=1)
    fiscal_year_start_month: int = Field(default=1, ge=1, le=12)


@router.post("/v1/what-if")
async def what_if(
    body: WhatIfIn,
    who: Annotated[Principal, Depends(principal)],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> dict[str, Any]:
    """ "If this deal is collected this period, my pay becomes …": the real plan, nothing written."""
    p = period_of(body.period, body.fiscal_year_start_month)
    if not await may_see_owner(rt, who, "person", body.person_id, p.start, p.end):
        raise Problem(403, "Forbidden", "you may only see your own pay, or your teams'")
    extra = [
        maths.Credit(
            f"what-if-{i + 1}",
            e.type,
            e.amount if e.type == "payment_received" else -e.amount,
            e.segment,
        )
        for i, e in enumerate(body.events)
    ]
    async with tenant_session(rt.sessions, who.tenant_id) as session:
        plan, now = await statement_now(session, who.tenant_id, body.person_id, p)
        _, then = await statement_now(session, who.tenant_id, body.person_id, p, extra)
    return {
        "now": statement_json(body.person_id, p, plan, now, "open"),
        "what_if": statement_json(body.person_id, p, plan, then, "hypothetical"),
        "difference": str(then.total - now.total),
    }


@router.post("/v1/plans/{plan_id}/accept", status_code=201)
async def accept(
    plan_id: uuid.UUID,
    who: Annotated[Principal, Depends(principal)],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> dict[str, Any]:
    """The caller acknowledges a plan version (who, when, which version)."""
    async with unit_of_work(rt.sessions, messaging) as uow:
        await uow.set_tenant(who.tenant_id)
        plan = await uow.session.get(Plan, plan_id)
        if plan is None or plan.tenant_id != who.tenant_id:
            raise Problem(404, "Not found", "no such plan version")
        await uow.session.merge(
            PlanAcceptance(tenant_id=who.tenant_id, person_id=who.subject, plan_id=plan_id)
        )
        return {
            "person_id": who.subject,
            "plan": plan.key,
            "version": plan.version,
            "accepted_at": datetime.now(UTC).isoformat(),
        }
