"""The credits (payments and refunds, per credited person) and quotas (goal targets) statements
are computed from, kept as the events arrive."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import delete, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert

from incentives.models import (
    ActivityCorrection,
    CorrectedCredit,
    Credit,
    FinalGrade,
    PersonRole,
    Quota,
    SurveyScore,
    TeamAttainment,
)
from shared.db.uow import UnitOfWork
from shared.events.activity import ActivityEvent, ActivityType
from shared.events.corrections import CORRECTIONS, corrected, order_key, replacement_of
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
    corrections: list[ActivityRecorded] = []
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
        elif isinstance(e, ActivityRecorded) and e.payload.activity.type in CORRECTIONS:
            corrections.append(e)
        elif isinstance(e, ActivityRecorded):
            # booked-but-unpaid never counts (credit_rows gives nothing for it)
            credits.extend(
                credit_rows(
                    e.tenant_id, e.id, e.payload.source_id, e.payload.activity, e.payload.timezone
                )
            )
        elif isinstance(e, PersonSet):
            stmt = pg_insert(PersonRole).values(
                tenant_id=e.tenant_id,
                person_id=e.payload.person_id,
                role=e.payload.role,
                name=e.payload.name,
            )
            # An event from before names were announced keeps the name already known.
            name = e.payload.name if e.payload.name is not None else PersonRole.name
            await uow.session.execute(
                stmt.on_conflict_do_update(
                    index_elements=[PersonRole.tenant_id, PersonRole.person_id],
                    set_={"role": e.payload.role, "name": name},
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
    corrected_days: set[tuple[object, object]] = set()
    if credits or corrections:
        corrected_days = await apply_corrections(uow, events[0].tenant_id, credits, corrections)
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
        | corrected_days
    )
    if touched:
        await announce_pay(uow, events[0].tenant_id, touched)


def credit_rows(
    tenant_id: uuid.UUID,
    event_id: uuid.UUID,
    source_id: uuid.UUID | None,
    a: ActivityEvent,
    timezone: str,
) -> list[dict[str, object]]:
    """Each credited person's share of a payment (positive) or refund (negative); nothing for
    any other record (booked-but-unpaid never counts)."""
    sign = SIGN.get(a.type)
    if sign is None or a.amount is None:
        return []
    day = local_date(a.occurred_at, timezone)
    return [
        {
            "tenant_id": tenant_id,
            "event_id": event_id,
            "source_id": source_id,
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
        for person, share in a.credited_shares()
    ]


async def apply_corrections(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    credits: list[dict[str, object]],
    corrections: list[ActivityRecorded],
) -> set[tuple[object, object]]:
    """CRM corrections reach pay as they reach the goal totals (shared.events.corrections): the
    latest correction of a payment or refund replaces its credits — or removes them — now, or
    when the original arrives after it. Returns the (person, day) pairs whose pay moved."""
    s = uow.session
    # 1. Keep the correction in force per record, with what it credits.
    decided: dict[tuple[uuid.UUID, str], ActivityCorrection] = {}
    for e in corrections:
        a = e.payload.activity
        assert a.refers_to is not None
        key = (e.payload.source_id, a.refers_to)
        current = decided.get(key) or await s.get(ActivityCorrection, (tenant_id, *key))
        ordering = order_key(a)
        if current is not None and current.order_key >= ordering:
            continue  # older than the correction in force: the latest wins
        if current is None:
            current = ActivityCorrection(
                tenant_id=tenant_id, source_id=key[0], refers_to=key[1], original_event_id=None
            )
            s.add(current)
        current.order_key, current.kind = ordering, a.type.value
        decided[key] = current
        effective = corrected(a.refers_to, a.type.value, replacement_of(a))
        rows = (
            []
            if effective is None
            else credit_rows(tenant_id, e.id, key[0], effective, e.payload.timezone)
        )
        await s.execute(
            delete(CorrectedCredit).where(
                CorrectedCredit.tenant_id == tenant_id,
                CorrectedCredit.source_id == key[0],
                CorrectedCredit.refers_to == key[1],
            )
        )
        if rows:
            await s.execute(
                pg_insert(CorrectedCredit).values(
                    [
                        {
                            "tenant_id": tenant_id,
                            "source_id": key[0],
                            "refers_to": key[1],
                            "person_id": r["person_id"],
                            "day": r["day"],
                            "type": r["type"],
                            "base": r["base"],
                            "currency": r["currency"],
                            "segment": r["segment"],
                            "refund_of": r["_refers_to"],
                        }
                        for r in rows
                    ]
                )
            )
    # 2. Originals of this batch that a correction waited for.
    arrived: dict[tuple[object, object], uuid.UUID] = {
        (c["source_id"], c["activity_id"]): c["event_id"]  # type: ignore[misc]
        for c in credits
        if c["source_id"]
    }
    waiting = set(arrived) - set(decided)
    if waiting:
        found = await s.scalars(
            select(ActivityCorrection).where(
                ActivityCorrection.tenant_id == tenant_id,
                tuple_(ActivityCorrection.source_id, ActivityCorrection.refers_to).in_(
                    sorted(waiting, key=str)
                ),
            )
        )
        decided.update({(c.source_id, c.refers_to): c for c in found})
    # 3. Put each decided record's credits in its correction's place.
    moved: set[tuple[object, object]] = set()
    for (source_id, refers_to), correction in sorted(decided.items(), key=str):
        event_id = correction.original_event_id or arrived.get((source_id, refers_to))
        if event_id is None:
            event_id = await s.scalar(
                select(Credit.event_id)
                .where(
                    Credit.tenant_id == tenant_id,
                    Credit.activity_id == refers_to,
                    Credit.source_id == source_id,
                )
                .limit(1)
            )
        if event_id is None:
            continue  # the original has not come yet: the correction waits for it
        correction.original_event_id = event_id
        removed = await s.execute(
            delete(Credit)
            .where(Credit.tenant_id == tenant_id, Credit.event_id == event_id)
            .returning(Credit.person_id, Credit.day)
        )
        moved |= {(r.person_id, r.day) for r in removed}
        shares = (
            await s.scalars(
                select(CorrectedCredit).where(
                    CorrectedCredit.tenant_id == tenant_id,
                    CorrectedCredit.source_id == source_id,
                    CorrectedCredit.refers_to == refers_to,
                )
            )
        ).all()
        restored: list[dict[str, object]] = [
            {
                "tenant_id": tenant_id,
                "event_id": event_id,
                "source_id": source_id,
                "person_id": c.person_id,
                "day": c.day,
                "activity_id": refers_to,
                "type": c.type,
                "base": c.base,
                "currency": c.currency,
                "segment": c.segment,
                "clawback_of": None,
                "payment_day": None,
                "_refers_to": c.refund_of,
            }
            for c in shares
        ]
        if restored:
            await attribute_clawbacks(uow, restored)
            await s.execute(pg_insert(Credit).values(restored))
            moved |= {(r["person_id"], r["day"]) for r in restored}
    await s.flush()
    return moved


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
