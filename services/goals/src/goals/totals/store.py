"""Loading a tenant's totals state for a batch, and writing back what the engine changed."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, or_, select, text, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from goals.models import (
    ClosedPeriod,
    Correction,
    DistinctKey,
    Fact,
    LateActivity,
    Tenant,
    Total,
    org,
)
from goals.totals import engine as eng
from goals.totals.contributions import RowKey
from shared.events.activity import ActivityEvent
from shared.periods import local_date

CHUNK = 2000


async def lock_tenant(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    """One writer of a tenant's totals at a time: the worker's batch, or a rebuild."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext('goals.totals'), hashtext(:tenant))"),
        {"tenant": str(tenant_id)},
    )


async def tenant_calendar(session: AsyncSession, tenant_id: uuid.UUID) -> tuple[str, int]:
    """The tenant's time zone and fiscal year start month (UTC / January if it is unknown)."""
    row = (
        await session.execute(
            select(Tenant.timezone, Tenant.fiscal_year_start_month).where(
                Tenant.tenant_id == tenant_id
            )
        )
    ).one_or_none()
    return ("UTC", 1) if row is None else (row[0], row[1])


async def closed_periods(session: AsyncSession, tenant_id: uuid.UUID) -> set[tuple[str, date]]:
    rows = await session.execute(
        select(ClosedPeriod.period_kind, ClosedPeriod.period_start).where(
            ClosedPeriod.tenant_id == tenant_id
        )
    )
    return {(r[0], r[1]) for r in rows}


async def org_view(
    session: AsyncSession, tenant_id: uuid.UUID, persons: Iterable[str] | None
) -> eng.OrgView:
    view = eng.OrgView()
    t = org.teams.c
    for team_id, parent in await session.execute(
        select(t.team_id, t.parent_team_id).where(t.tenant_id == tenant_id)
    ):
        view.parents[team_id] = parent
    m = org.memberships.c
    query = select(m.person_id, m.valid_from, m.valid_to, m.team_id).where(m.tenant_id == tenant_id)
    if persons is not None:
        query = query.where(m.person_id.in_(sorted(set(persons))))
    for person, start, end, team in await session.execute(query):
        view.memberships.setdefault(person, []).append((start, end, team))
    return view


def _fact_of(row: Fact) -> eng.Fact:
    effective = None if row.body is None else ActivityEvent.model_validate(row.body)
    return eng.Fact(row.source_id, row.external_id, row.event_id, effective, row.correction_key)


def _correction_of(row: Correction) -> eng.Correction:
    return eng.Correction(
        row.source_id, row.refers_to, row.external_id, row.kind, row.order_key, row.replacement
    )


async def load_known(
    session: AsyncSession,
    engine: eng.Engine,
    tenant_id: uuid.UUID,
    batch: list[tuple[uuid.UUID, ActivityEvent]],
) -> None:
    """Bring into the engine the facts and corrections the batch touches, and what pairs with it."""
    keys: set[tuple[uuid.UUID, str]] = set()
    request_ids: set[str] = set()
    for source_id, a in batch:
        keys.add((source_id, a.refers_to if a.type in eng.CORRECTIONS and a.refers_to else a.id))
        for version in (a, _replacement(a)):
            rid = eng.Engine._request_id(version)
            if rid is not None:
                request_ids.add(rid)
    for chunk in _chunks(sorted(keys)):
        for row in await session.scalars(
            select(Fact).where(
                Fact.tenant_id == tenant_id, tuple_(Fact.source_id, Fact.external_id).in_(chunk)
            )
        ):
            engine.register(_fact_of(row))
        for row in await session.scalars(
            select(Correction).where(
                Correction.tenant_id == tenant_id,
                tuple_(Correction.source_id, Correction.refers_to).in_(chunk),
            )
        ):
            engine.corrections[(row.source_id, row.refers_to)] = _correction_of(row)
    if request_ids:
        for row in await session.scalars(
            select(Fact).where(
                Fact.tenant_id == tenant_id, Fact.request_id.in_(sorted(request_ids))
            )
        ):
            if (row.source_id, row.external_id) not in engine.facts:
                engine.register(_fact_of(row))


def _replacement(a: ActivityEvent) -> ActivityEvent | None:
    raw = a.attributes.get("replacement")
    if a.type in eng.CORRECTIONS and isinstance(raw, dict) and a.refers_to:
        try:
            return ActivityEvent.model_validate({**raw, "id": a.refers_to})
        except ValueError:
            return None
    return None


def persons_of(engine: eng.Engine, batch: list[tuple[uuid.UUID, ActivityEvent]]) -> set[str]:
    versions: list[ActivityEvent | None] = [f.effective for f in engine.facts.values()]
    for _, a in batch:
        versions.extend((a, _replacement(a)))
    for c in engine.corrections.values():
        if c.replacement is not None:
            versions.append(_replacement_of(c))
    return eng.persons_in(versions)


def _replacement_of(c: eng.Correction) -> ActivityEvent | None:
    try:
        return eng.corrected(c.refers_to, c.kind, c.replacement)
    except ValueError:
        return None


def _chunks(items: list[Any], size: int = CHUNK) -> Iterable[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


async def save(
    session: AsyncSession, tenant_id: uuid.UUID, engine: eng.Engine
) -> dict[RowKey, tuple[date, Decimal, int]]:
    """Write facts, corrections, late records and totals; returns the touched totals rows as they
    now stand (deleted rows as zero)."""
    await _save_facts(session, tenant_id, engine)
    await _save_corrections(session, tenant_id, engine)
    if engine.late:
        rows = [
            {
                "tenant_id": tenant_id,
                "event_id": cause,
                "period_kind": kind,
                "period_start": start,
                "activity_id": activity_id,
            }
            for cause, kind, start, activity_id in sorted(engine.late, key=str)
        ]
        for chunk in _chunks(rows):
            await session.execute(pg_insert(LateActivity).values(chunk).on_conflict_do_nothing())
    return await _save_totals(session, tenant_id, engine)


async def _save_facts(session: AsyncSession, tenant_id: uuid.UUID, engine: eng.Engine) -> None:
    rows = []
    for f in engine.facts.values():
        if not f.dirty:
            continue
        a = f.effective
        rows.append(
            {
                "tenant_id": tenant_id,
                "source_id": f.source_id,
                "external_id": f.external_id,
                "event_id": f.event_id,
                "type": None if a is None else a.type.value,
                "actor_id": None if a is None else a.actor_id,
                "occurred_at": None if a is None else a.occurred_at,
                "local_day": None if a is None else local_date(a.occurred_at, engine.timezone),
                "deal_id": None if a is None else a.deal_id,
                "request_id": eng.Engine._request_id(a),
                "correction_key": f.correction_key,
                "body": None if a is None else a.model_dump(mode="json", exclude_none=True),
            }
        )
    rows.sort(key=lambda r: (str(r["source_id"]), r["external_id"]))
    for chunk in _chunks(rows):
        stmt = pg_insert(Fact).values(chunk)
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[Fact.tenant_id, Fact.source_id, Fact.external_id],
                set_={
                    k: stmt.excluded[k]
                    for k in (
                        "event_id",
                        "type",
                        "actor_id",
                        "occurred_at",
                        "local_day",
                        "deal_id",
                        "request_id",
                        "correction_key",
                        "body",
                    )
                }
                | {"updated_at": func.now()},
            )
        )


async def _save_corrections(
    session: AsyncSession, tenant_id: uuid.UUID, engine: eng.Engine
) -> None:
    rows = [
        {
            "tenant_id": tenant_id,
            "source_id": c.source_id,
            "refers_to": c.refers_to,
            "external_id": c.external_id,
            "kind": c.kind,
            "order_key": c.order_key,
            "replacement": c.replacement,
        }
        for c in engine.corrections.values()
        if c.dirty
    ]
    rows.sort(key=lambda r: (str(r["source_id"]), r["refers_to"]))
    for chunk in _chunks(rows):
        stmt = pg_insert(Correction).values(chunk)
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[Correction.tenant_id, Correction.source_id, Correction.refers_to],
                set_={
                    k: stmt.excluded[k] for k in ("external_id", "kind", "order_key", "replacement")
                }
                | {"updated_at": func.now()},
                # The latest correction wins, whichever transaction stores it.
                where=Correction.order_key < stmt.excluded.order_key,
            )
        )


async def _save_totals(
    session: AsyncSession, tenant_id: uuid.UUID, engine: eng.Engine
) -> dict[RowKey, tuple[date, Decimal, int]]:
    out = engine.out
    deltas: dict[RowKey, list[Any]] = {k: [Decimal(v[0]), int(v[1])] for k, v in out.rows.items()}
    # Distinct counts: the value moves when a key's reference count crosses zero.
    if out.distinct:
        refs_rows = [
            {
                "tenant_id": tenant_id,
                "owner_kind": k[0],
                "owner_id": k[1],
                "metric": k[2],
                "period_kind": k[3],
                "period_start": k[4],
                "value": value,
                "refs": refs,
            }
            for (k, value), refs in sorted(
                out.distinct.items(), key=lambda kv: (kv[0][0], kv[0][1])
            )
            if refs != 0
        ]
        for chunk in _chunks(refs_rows):
            stmt = pg_insert(DistinctKey).values(chunk)
            stmt = stmt.on_conflict_do_update(
                index_elements=[
                    DistinctKey.tenant_id,
                    DistinctKey.owner_kind,
                    DistinctKey.owner_id,
                    DistinctKey.metric,
                    DistinctKey.period_kind,
                    DistinctKey.period_start,
                    DistinctKey.value,
                ],
                set_={"refs": DistinctKey.refs + stmt.excluded.refs},
            ).returning(
                DistinctKey.owner_kind,
                DistinctKey.owner_id,
                DistinctKey.metric,
                DistinctKey.period_kind,
                DistinctKey.period_start,
                DistinctKey.value,
                DistinctKey.refs,
            )
            for r in await session.execute(stmt):
                key: RowKey = (r[0], r[1], r[2], r[3], r[4])
                after = r[6]
                before = after - out.distinct[(key, r[5])]
                step = (1 if after > 0 else 0) - (1 if before > 0 else 0)
                if step:
                    deltas.setdefault(key, [Decimal(0), 0])[0] += step
        await session.execute(
            delete(DistinctKey).where(DistinctKey.tenant_id == tenant_id, DistinctKey.refs <= 0)
        )
    rows = [
        {
            "tenant_id": tenant_id,
            "owner_kind": k[0],
            "owner_id": k[1],
            "metric": k[2],
            "period_kind": k[3],
            "period_start": k[4],
            "period_end": out.period_end[k],
            "value": v[0],
            "event_count": v[1],
        }
        for k, v in sorted(deltas.items())  # fixed key order: batches never deadlock
        if v[0] != 0 or v[1] != 0
    ]
    touched: dict[RowKey, tuple[date, Decimal, int]] = {}
    for chunk in _chunks(rows):
        stmt = pg_insert(Total).values(chunk)
        stmt = stmt.on_conflict_do_update(
            index_elements=[
                Total.tenant_id,
                Total.owner_kind,
                Total.owner_id,
                Total.metric,
                Total.period_kind,
                Total.period_start,
            ],
            set_={
                "value": Total.value + stmt.excluded.value,
                "event_count": Total.event_count + stmt.excluded.event_count,
                "updated_at": func.now(),
            },
        ).returning(
            Total.owner_kind,
            Total.owner_id,
            Total.metric,
            Total.period_kind,
            Total.period_start,
            Total.period_end,
            Total.value,
            Total.event_count,
        )
        for r in await session.execute(stmt):
            touched[(r[0], r[1], r[2], r[3], r[4])] = (r[5], r[6], r[7])
    if any(count == 0 for _, _, count in touched.values()):
        # Nothing survives in these rows any more (every event was retracted).
        await session.execute(
            delete(Total).where(Total.tenant_id == tenant_id, Total.event_count == 0)
        )
    return touched


async def clear_open(
    session: AsyncSession, tenant_id: uuid.UUID, closed: set[tuple[str, date]]
) -> None:
    """Before a rebuild: drop the derived state, except the frozen totals of closed periods."""
    await session.execute(delete(Fact).where(Fact.tenant_id == tenant_id))
    await session.execute(delete(Correction).where(Correction.tenant_id == tenant_id))
    for table in (Total, DistinctKey):
        frozen = [
            (table.period_kind == kind) & (table.period_start == start) for kind, start in closed
        ]
        query = delete(table).where(table.tenant_id == tenant_id)
        if frozen:
            query = query.where(~or_(*frozen))
        await session.execute(query)
