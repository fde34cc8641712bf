"""crm.activities.v1 payments and refunds → commission lines → incentives.payouts.v1."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from incentives.commission.maths import credit_lines, flat_commission
from incentives.models import CommissionLine, CommissionTotal, FlatRatePlan, org
from incentives.people.service import apply_erasure
from incentives.statements.handlers import keep_credits_and_quotas
from shared.bus.consumer import Handler
from shared.db.uow import UnitOfWork
from shared.events.envelope import (
    ActivityRecorded,
    CommissionComputed,
    CommissionPayload,
    Event,
    new_event,
    person_key,
)
from shared.org import with_org_events
from shared.periods import month_of
from shared.runtime import Runtime


async def apply_payments(uow: UnitOfWork, events: Sequence[Event]) -> None:
    activities = [e for e in events if isinstance(e, ActivityRecorded)]
    if not activities:
        return
    tenant_id = activities[0].tenant_id
    rate = await uow.session.scalar(
        select(FlatRatePlan.rate).where(FlatRatePlan.tenant_id == tenant_id)
    )
    if rate is None:
        return
    lines = []
    for e in activities:
        activity = e.payload.activity
        period_start, _ = month_of(activity.occurred_at, e.payload.timezone)
        for credit in credit_lines(activity):
            commission = flat_commission(credit.base, rate)
            lines.append(
                {
                    "tenant_id": tenant_id,
                    "event_id": e.id,
                    "person_id": credit.person_id,
                    "period_start": period_start,
                    "activity_id": activity.id,
                    "activity_type": activity.type.value,
                    "currency": credit.currency,
                    "base": credit.base,
                    "rate": rate,
                    "commission": commission,
                    "explanation": {
                        "rule": "flat rate on collected revenue",
                        "activity": activity.id,
                        "type": activity.type.value,
                        "amount": str(activity.amount.value) if activity.amount else None,
                        "share": str(credit.share),
                        "base": str(credit.base),
                        "rate": str(rate),
                        "commission": str(commission),
                    },
                }
            )
    if not lines:
        return
    inserted = (
        await uow.session.execute(
            pg_insert(CommissionLine)
            .values(lines)
            .on_conflict_do_nothing()
            .returning(
                CommissionLine.person_id,
                CommissionLine.period_start,
                CommissionLine.currency,
                CommissionLine.base,
                CommissionLine.commission,
            )
        )
    ).all()
    sums: dict[tuple[str, object, str], list[Decimal | int]] = {}
    for r in inserted:
        acc = sums.setdefault(
            (r.person_id, r.period_start, r.currency), [Decimal(0), Decimal(0), 0]
        )
        acc[0] += r.base
        acc[1] += r.commission
        acc[2] += 1
    if not sums:
        return
    rows = [
        {
            "tenant_id": tenant_id,
            "person_id": p,
            "period_start": d,
            "currency": c,
            "base_total": v[0],
            "commission_total": v[1],
            "line_count": v[2],
        }
        for (p, d, c), v in sorted(sums.items(), key=lambda kv: str(kv[0]))
    ]
    stmt = pg_insert(CommissionTotal).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=[
            CommissionTotal.tenant_id,
            CommissionTotal.person_id,
            CommissionTotal.period_start,
            CommissionTotal.currency,
        ],
        set_={
            "base_total": CommissionTotal.base_total + stmt.excluded.base_total,
            "commission_total": CommissionTotal.commission_total + stmt.excluded.commission_total,
            "line_count": CommissionTotal.line_count + stmt.excluded.line_count,
            "updated_at": func.now(),
        },
    ).returning(CommissionTotal)
    now = datetime.now(UTC)
    for t in (await uow.session.execute(stmt)).scalars():
        uow.emit(
            new_event(
                CommissionComputed,
                tenant_id=tenant_id,
                key=person_key(tenant_id, t.person_id),
                occurred_at=now,
                payload=CommissionPayload(
                    person_id=t.person_id,
                    period_start=t.period_start,
                    currency=t.currency,
                    base_total=t.base_total,
                    commission_total=t.commission_total,
                    line_count=t.line_count,
                ),
            )
        )


async def apply_all(uow: UnitOfWork, events: Sequence[Event]) -> None:
    await apply_payments(uow, events)
    await keep_credits_and_quotas(uow, events)


def payments_handler(_rt: Runtime) -> Handler:
    return with_org_events(apply_all, org, apply_erasure)
