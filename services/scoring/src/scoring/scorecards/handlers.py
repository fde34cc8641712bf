"""goals.progress.v1 → the quantitative items of provisional scorecards → scoring.scores.v1."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select, tuple_

from scoring.models import Scorecard, org
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


async def managers_of(uow: UnitOfWork, tenant_id: object, teams: set[str]) -> dict[str, str]:
    """Team → its manager, for the teams given (the reporting lines scoring keeps a copy of)."""
    t = org.teams
    rows = await uow.session.execute(
        select(t.c.team_id, t.c.manager_id).where(
            t.c.tenant_id == tenant_id, t.c.team_id.in_(sorted(teams)), t.c.manager_id.is_not(None)
        )
    )
    return {r.team_id: r.manager_id for r in rows}


async def apply_to_scorecards(uow: UnitOfWork, events: Sequence[Event]) -> None:
    # A person's own figures score their items; an item bound to the team (``owner: team``, e.g.
    # a regional manager's regional attainment) is scored from the figures of the team the
    # scorecard's person manages.
    latest: dict[tuple[str, str, object, str], ProgressUpdated] = {}
    team_latest: dict[tuple[str, str, object, str], ProgressUpdated] = {}
    for e in events:
        if isinstance(e, ProgressUpdated) and e.payload.owner_kind in ("person", "team"):
            p = e.payload
            into = latest if p.owner_kind == "person" else team_latest
            into[(p.person_id, p.period_kind, p.period_start, p.metric)] = e
    if not latest and not team_latest:
        return
    tenant_id = next(iter((latest or team_latest).values())).tenant_id
    managed: dict[tuple[str, str, object, str], ProgressUpdated] = {}
    if team_latest:
        managers = await managers_of(uow, tenant_id, {k[0] for k in team_latest})
        for (team, kind, start, metric), e in sorted(team_latest.items(), key=str):
            if team in managers:
                managed[(managers[team], kind, start, metric)] = e
    keys = sorted({(k[0], k[1], k[2]) for k in (*latest, *managed)}, key=str)
    if not keys:
        return
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
            source = managed if item.get("owner") == "team" else latest
            found = source.get(
                (card.person_id, card.period_kind, card.period_start, item["metric"])
            )
            if found is None:
                continue
            p = found.payload
            target = Decimal(item["target"]) if item.get("target") else p.target
            result = quantitative(item, p.actual, target)
            result["explanation"]["progress_event"] = str(found.id)
            if item.get("owner") == "team":
                result["explanation"]["team"] = p.person_id
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
