"""goals.progress.v1 → the quantitative items of provisional scorecards → scoring.scores.v1."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select, tuple_

from scoring.models import Scorecard
from scoring.scorecards.service import quantitative, refresh_total, save_item
from shared.db.uow import UnitOfWork
from shared.events.envelope import (
    Event,
    ProgressUpdated,
    ScoreComputed,
    ScorePayload,
    new_event,
    person_key,
)


async def apply_to_scorecards(uow: UnitOfWork, events: Sequence[Event]) -> None:
    latest: dict[tuple[str, str, object, str], ProgressUpdated] = {}
    for e in events:
        if isinstance(e, ProgressUpdated) and e.payload.owner_kind == "person":
            p = e.payload
            latest[(p.person_id, p.period_kind, p.period_start, p.metric)] = e
    if not latest:
        return
    tenant_id = next(iter(latest.values())).tenant_id
    keys = sorted({(k[0], k[1], k[2]) for k in latest}, key=str)
    cards = list(
        await uow.session.scalars(
            select(Scorecard)
            .where(
                Scorecard.tenant_id == tenant_id,
                Scorecard.status == "provisional",
                tuple_(Scorecard.person_id, Scorecard.period_kind, Scorecard.period_start).in_(
                    keys
                ),
            )
            .with_for_update()
        )
    )
    now = datetime.now(UTC)
    for card in sorted(cards, key=lambda c: str(c.scorecard_id)):
        moved = False
        for item in card.items:
            if item["kind"] != "quantitative":
                continue
            e = latest.get((card.person_id, card.period_kind, card.period_start, item["metric"]))
            if e is None:
                continue
            p = e.payload
            target = Decimal(item["target"]) if item.get("target") else p.target
            result = quantitative(item, p.actual, target)
            result["explanation"]["progress_event"] = str(e.id)
            await save_item(uow.session, card, item, result)
            moved = True
            if result["status"] == "scored":
                uow.emit(
                    new_event(
                        ScoreComputed,
                        tenant_id=tenant_id,
                        key=person_key(tenant_id, card.person_id),
                        occurred_at=now,
                        payload=ScorePayload(
                            person_id=card.person_id,
                            period_start=card.period_start,
                            metric=item["metric"],
                            status="provisional",
                            weight=Decimal(item["weight"]),
                            target=result["target"],
                            actual=result["actual"],
                            ratio=result["ratio"],
                            score=result["score"],
                        ),
                    )
                )
        if moved:
            await uow.session.flush()
            await refresh_total(uow.session, card)
