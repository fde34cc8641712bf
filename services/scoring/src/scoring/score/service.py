from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from scoring.models import Score, ScoreItem, audit_log
from scoring.score.schemas import ScoreItemIn
from shared.db import audit


async def set_item(
    session: AsyncSession, tenant_id: uuid.UUID, metric: str, item: ScoreItemIn, actor: str
) -> None:
    prior = await session.get(ScoreItem, (tenant_id, metric))
    before = (
        None
        if prior is None
        else {
            "weight": str(prior.weight),
            "direction": prior.direction,
            "cap": str(prior.cap),
            "floor": str(prior.floor),
        }
    )
    values = {"tenant_id": tenant_id, "metric": metric, **item.model_dump(mode="python")}
    values["direction"] = item.direction.value
    stmt = pg_insert(ScoreItem).values(values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[ScoreItem.tenant_id, ScoreItem.metric],
        set_={k: stmt.excluded[k] for k in ("weight", "direction", "cap", "floor")},
    )
    await session.execute(stmt)
    after = {
        "weight": str(item.weight),
        "direction": item.direction.value,
        "cap": str(item.cap),
        "floor": str(item.floor),
    }
    await audit.record(
        session,
        audit_log,
        tenant_id=tenant_id,
        actor=actor,
        action="score_item.set" if before is None else "score_item.changed",
        target_type="score_item",
        target_key=metric,
        before=before,
        after=after,
    )


async def person_scores(
    session: AsyncSession, tenant_id: uuid.UUID, person_id: str, period_start: date
) -> list[Score]:
    rows = await session.scalars(
        select(Score)
        .where(
            Score.tenant_id == tenant_id,
            Score.person_id == person_id,
            Score.period_start == period_start,
        )
        .order_by(Score.metric)
    )
    return list(rows)
