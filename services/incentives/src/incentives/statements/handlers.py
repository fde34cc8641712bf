"""The credits (payments and refunds, per credited person) and quotas (goal targets) statements
are computed from, kept as the events arrive."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert

from incentives.models import (
    Credit,
    FinalGrade,
    PersonRole,
    Quota,
    SurveyScore,
    TeamAttainment,
)
from shared.db.uow import UnitOfWork
from shared.events.activity import ActivityType
from shared.events.envelope import (
    ActivityRecorded,
    Event,
    PersonSet,
    ProgressUpdated,
    ScorecardGraded,
)
from shared.periods import local_date

SIGN = {ActivityType.payment_received: 1, ActivityType.refund: -1}


async def keep_credits_and_quotas(uow: UnitOfWork, events: Sequence[Event]) -> None:
    credits = []
    surveys: list[dict[str, object]] = []
    quotas: dict[tuple[str, str, str, object], dict[str, object]] = {}
    teams: dict[tuple[str, str, str, object], dict[str, object]] = {}
    graded: set[tuple[object, object]] = set()
    for e in events:
        if (
            isinstance(e, ActivityRecorded)
            and e.payload.activity.type is ActivityType.survey_response
        ):
            a = e.payload.activity
            score = a.attributes.get("score")
            if isinstance(score, int | float | str) and str(a.attributes.get("kind", "")) in (
                "nps",
                "csat",
            ):
                surveys.append(
                    {
                        "tenant_id": e.tenant_id,
                        "event_id": e.id,
                        "person_id": a.actor_id,
                        "day": local_date(a.occurred_at, e.payload.timezone),
                        "kind": str(a.attributes["kind"]),
                        "score": Decimal(str(score)),
                    }
                )
        elif isinstance(e, ActivityRecorded):
            a = e.payload.activity
            sign = SIGN.get(a.type)
            if sign is None or a.amount is None:
                continue  # booked-but-unpaid never counts
            day = local_date(a.occurred_at, e.payload.timezone)
            for person, share in a.credited_shares():
                credits.append(
                    {
                        "tenant_id": e.tenant_id,
                        "event_id": e.id,
                        "person_id": person,
                        "day": day,
                        "activity_id": a.id,
                        "type": a.type.value,
                        "base": sign * a.amount.value * share,
                        "currency": a.amount.currency,
                        "segment": a.customer.segment if a.customer else None,
                        "clawback_of": None,
                        "payment_day": None,
                        "_refers_to": a.refers_to if a.type is ActivityType.refund else None,
                    }
                )
        elif isinstance(e, PersonSet):
            stmt = pg_insert(PersonRole).values(
                tenant_id=e.tenant_id, person_id=e.payload.person_id, role=e.payload.role
            )
            await uow.session.execute(
                stmt.on_conflict_do_update(
                    index_elements=[PersonRole.tenant_id, PersonRole.person_id],
                    set_={"role": e.payload.role},
                )
            )
        elif isinstance(e, ScorecardGraded):
            g = e.payload
            if g.period_kind == "month":
                graded.add((g.person_id, g.period_start))
            stmt = pg_insert(FinalGrade).values(
                tenant_id=e.tenant_id,
                person_id=g.person_id,
                period=g.period,
                grade=g.grade,
                total=g.total,
            )
            await uow.session.execute(
                stmt.on_conflict_do_update(
                    index_elements=[FinalGrade.tenant_id, FinalGrade.person_id, FinalGrade.period],
                    set_={"grade": g.grade, "total": g.total},
                )
            )
        elif isinstance(e, ProgressUpdated):
            p = e.payload
            if p.owner_kind == "team" and p.goal_id is not None and p.attainment is not None:
                teams[(p.person_id, p.metric, p.period_kind, p.period_start)] = {
                    "tenant_id": e.tenant_id,
                    "team_id": p.person_id,
                    "metric": p.metric,
                    "period_kind": p.period_kind,
                    "period_start": p.period_start,
                    "attainment": p.attainment,
                }
            if p.owner_kind == "person" and p.goal_id is not None and p.target_set is not None:
                quotas[(p.person_id, p.metric, p.period_kind, p.period_start)] = {
                    "tenant_id": e.tenant_id,
                    "person_id": p.person_id,
                    "metric": p.metric,
                    "period_kind": p.period_kind,
                    "period_start": p.period_start,
                    "target": p.target,  # as measured against (prorated for joiners, leavers)
                }
    if surveys:
        await uow.session.execute(pg_insert(SurveyScore).values(surveys).on_conflict_do_nothing())
    if teams:
        rows = [teams[k] for k in sorted(teams, key=str)]
        stmt = pg_insert(TeamAttainment).values(rows)
        await uow.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[
                    TeamAttainment.tenant_id,
                    TeamAttainment.team_id,
                    TeamAttainment.metric,
                    TeamAttainment.period_kind,
                    TeamAttainment.period_start,
                ],
                set_={"attainment": stmt.excluded.attainment},
            )
        )
    if credits:
        await attribute_clawbacks(uow, credits)
        await uow.session.execute(pg_insert(Credit).values(credits).on_conflict_do_nothing())
    if quotas:
        rows = [quotas[k] for k in sorted(quotas, key=str)]
        stmt = pg_insert(Quota).values(rows)
        await uow.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[
                    Quota.tenant_id,
                    Quota.person_id,
                    Quota.metric,
                    Quota.period_kind,
                    Quota.period_start,
                ],
                set_={"target": stmt.excluded.target},
            )
        )

    touched = (
        {(c["person_id"], c["day"]) for c in credits}
        | {
            (q["person_id"], q["period_start"])
            for q in quotas.values()
            if q["period_kind"] == "month"
        }
        | graded
    )
    if touched:
        await announce_pay(uow, events[0].tenant_id, touched)


async def attribute_clawbacks(uow: UnitOfWork, credits: list[dict[str, object]]) -> None:
    """Note which payment a refund reverses: within the plan's clawback window (180 days by
    default) it counts in the payment's period (a locked period is then adjusted in the next
    open one)."""
    wanted = {(c["person_id"], c["_refers_to"]) for c in credits if c.get("_refers_to")}
    originals: dict[tuple[object, object], date] = {}
    if wanted:
        tenant_id = credits[0]["tenant_id"]
        rows = await uow.session.execute(
            select(Credit.person_id, Credit.activity_id, Credit.day).where(
                Credit.tenant_id == tenant_id,
                Credit.type == "payment_received",
                tuple_(Credit.person_id, Credit.activity_id).in_(sorted(wanted, key=str)),
            )
        )
        originals = {(r[0], r[1]): r[2] for r in rows}
        # Payments of the same batch.
        for c in credits:
            if c["type"] == "payment_received":
                originals.setdefault((c["person_id"], c["activity_id"]), c["day"])  # type: ignore[arg-type]
    for c in credits:
        refers_to = c.pop("_refers_to", None)
        if refers_to is None:
            continue
        original = originals.get((c["person_id"], refers_to))
        if original is not None:
            # Whether it falls within the plan's clawback window is judged per statement.
            c["payment_day"] = original
            c["clawback_of"] = refers_to


async def announce_pay(
    uow: UnitOfWork, tenant_id: uuid.UUID, touched: set[tuple[object, object]]
) -> None:
    """Recompute the touched people's monthly statements and announce them on
    incentives.payouts.v1 (each payment, refund or quota change moves pay at once)."""
    from incentives.statements.endpoints import statement_now
    from shared.events.envelope import CommissionComputed, CommissionPayload, new_event, person_key
    from shared.http.problems import Problem
    from shared.periods import PeriodKind, period_of

    months = {(str(person), period_of(PeriodKind.MONTH, day)) for person, day in touched}  # type: ignore[arg-type]
    for person, month in sorted(months, key=lambda pm: (pm[0], pm[1].start)):
        try:
            plan, st = await statement_now(uow.session, tenant_id, person, month)
        except Problem:
            continue  # no pay plan in force
        uow.emit(
            new_event(
                CommissionComputed,
                tenant_id=tenant_id,
                key=person_key(tenant_id, person),
                occurred_at=datetime.now(UTC),
                payload=CommissionPayload(
                    person_id=person,
                    period_start=month.start,
                    currency=st.currency,
                    base_total=st.base,
                    commission_total=st.total,
                    line_count=len(st.lines),
                    period=month.label,
                    plan=plan.key,
                ),
            )
        )
