"""goals.progress.v1 → provisional item scores → scoring.scores.v1."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from scoring.calibration.service import close_period
from scoring.models import Score, ScoreItem, org
from scoring.people.service import apply_erasure
from scoring.score.maths import Direction, quantitative_score
from scoring.scorecards.handlers import apply_to_scorecards
from shared.bus.consumer import Handler
from shared.db.uow import UnitOfWork
from shared.events.envelope import (
    Event,
    PeriodClosed,
    ProgressUpdated,
    ScoreComputed,
    ScorePayload,
    new_event,
    person_key,
)
from shared.org import with_org_events
from shared.runtime import Runtime


async def apply_progress(uow: UnitOfWork, events: Sequence[Event]) -> None:
    progress = [e for e in events if isinstance(e, ProgressUpdated)]
    if not progress:
        return
    tenant_id = progress[0].tenant_id
    metrics = {e.payload.metric for e in progress}
    items = {
        i.metric: i
        for i in await uow.session.scalars(
            select(ScoreItem).where(ScoreItem.tenant_id == tenant_id, ScoreItem.metric.in_(metrics))
        )
    }
    # Progress carries absolute figures: the last one per key in the batch is the one that counts.
    latest: dict[tuple[str, object, str], ProgressUpdated] = {}
    for e in progress:
        p = e.payload
        # Scorecards are per person and month for now: team, company and other periods'
        # figures are for goals' own readers.
        if p.owner_kind != "person" or p.period_kind != "month" or p.actual is None:
            continue
        if p.metric in items and p.target is not None and p.target > 0:
            latest[(p.person_id, p.period_start, p.metric)] = e
    now = datetime.now(UTC)
    for (person_id, period_start, metric), e in sorted(latest.items(), key=lambda kv: str(kv[0])):
        item = items[metric]
        p = e.payload
        assert p.target is not None
        result = quantitative_score(
            weight=item.weight,
            target=p.target,
            actual=p.actual,
            direction=Direction(item.direction),
            cap=item.cap,
            floor=item.floor,
        )
        explanation = {
            "formula": "weight × min(max(ratio, 0), cap); 0 when ratio < floor",
            "weight": str(item.weight),
            "target": str(p.target),
            "actual": str(p.actual),
            "direction": item.direction,
            "ratio": str(result.ratio),
            "cap": str(item.cap),
            "floor": str(item.floor),
            "capped": result.capped,
            "below_floor": result.below_floor,
            "progress_event": str(e.id),
        }
        values = {
            "tenant_id": tenant_id,
            "person_id": person_id,
            "period_start": period_start,
            "metric": metric,
            "status": "provisional",
            "weight": item.weight,
            "target": p.target,
            "actual": p.actual,
            "ratio": result.ratio,
            "score": result.score,
            "explanation": explanation,
        }
        stmt = pg_insert(Score).values(values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[Score.tenant_id, Score.person_id, Score.period_start, Score.metric],
            set_={
                k: stmt.excluded[k]
                for k in values
                if k not in ("tenant_id", "person_id", "period_start", "metric")
            }
            | {"updated_at": func.now()},
        )
        await uow.session.execute(stmt)
        uow.emit(
            new_event(
                ScoreComputed,
                tenant_id=tenant_id,
                key=person_key(tenant_id, person_id),
                occurred_at=now,
                payload=ScorePayload(
                    person_id=person_id,
                    period_start=period_start,
                    metric=metric,
                    status="provisional",
                    weight=item.weight,
                    target=p.target,
                    actual=p.actual,
                    ratio=result.ratio,
                    score=result.score,
                ),
            )
        )


async def apply_all(uow: UnitOfWork, events: Sequence[Event]) -> None:
    await apply_progress(uow, events)
    await apply_to_scorecards(uow, events)
    for event in events:
        if isinstance(event, PeriodClosed):
            await close_period(uow, event)


def progress_handler(_rt: Runtime) -> Handler:
    return with_org_events(apply_all, org, apply_erasure)
