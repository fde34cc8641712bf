"""The credits (payments and refunds, per credited person) and quotas (goal targets) statements
are computed from, kept as the events arrive."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.dialects.postgresql import insert as pg_insert

from incentives.models import Credit, FinalGrade, Quota
from shared.db.uow import UnitOfWork
from shared.events.activity import ActivityType
from shared.events.envelope import ActivityRecorded, Event, ProgressUpdated, ScorecardGraded
from shared.periods import local_date

SIGN = {ActivityType.payment_received: 1, ActivityType.refund: -1}


async def keep_credits_and_quotas(uow: UnitOfWork, events: Sequence[Event]) -> None:
    credits = []
    quotas: dict[tuple[str, str, str, object], dict[str, object]] = {}
    for e in events:
        if isinstance(e, ActivityRecorded):
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
                    }
                )
        elif isinstance(e, ScorecardGraded):
            g = e.payload
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
            if p.owner_kind == "person" and p.goal_id is not None and p.target_set is not None:
                quotas[(p.person_id, p.metric, p.period_kind, p.period_start)] = {
                    "tenant_id": e.tenant_id,
                    "person_id": p.person_id,
                    "metric": p.metric,
                    "period_kind": p.period_kind,
                    "period_start": p.period_start,
                    "target": p.target,  # as measured against (prorated for joiners, leavers)
                }
    if credits:
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
