"""Reporting lines, as every service needs them for access decisions: teams (with a parent and a
manager) and people's team memberships over time. Goals owns them and announces changes on
goals.org.v1; scoring and incentives keep the same tables as a projection.

A manager sees the figures of everyone in the teams they manage and in those teams' sub-teams,
transitively, as of the period asked about (someone who moved mid-quarter is visible to each
manager for the days they were in that manager's teams)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Column, Date, MetaData, Table, Text, Uuid, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db.uow import UnitOfWork
from shared.events.envelope import Event, MembershipSet, PersonErased, TeamSet


@dataclass(frozen=True)
class OrgTables:
    teams: Table
    memberships: Table


def add_org_tables(metadata: MetaData) -> OrgTables:
    teams = Table(
        "teams",
        metadata,
        Column("tenant_id", Uuid, primary_key=True),
        Column("team_id", Text, primary_key=True),
        Column("name", Text, nullable=False),
        Column("parent_team_id", Text, nullable=True),
        Column("manager_id", Text, nullable=True),
    )
    memberships = Table(
        "memberships",
        metadata,
        Column("tenant_id", Uuid, primary_key=True),
        Column("person_id", Text, primary_key=True),
        Column("valid_from", Date, primary_key=True),
        Column("team_id", Text, nullable=False),
        Column("valid_to", Date, nullable=True),  # inclusive; NULL = still there
    )
    return OrgTables(teams, memberships)


async def set_team(
    session: AsyncSession, org: OrgTables, tenant_id: uuid.UUID, event: TeamSet
) -> None:
    p = event.payload
    stmt = pg_insert(org.teams).values(
        tenant_id=tenant_id,
        team_id=p.team_id,
        name=p.name,
        parent_team_id=p.parent_team_id,
        manager_id=p.manager_id,
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[org.teams.c.tenant_id, org.teams.c.team_id],
            set_={k: stmt.excluded[k] for k in ("name", "parent_team_id", "manager_id")},
        )
    )


async def set_membership(
    session: AsyncSession, org: OrgTables, tenant_id: uuid.UUID, event: MembershipSet
) -> None:
    """The person is in team_id from valid_from on; an open earlier membership ends the day before.
    Idempotent: applying the same event twice changes nothing."""
    p = event.payload
    m = org.memberships.c
    await session.execute(
        update(org.memberships)
        .where(
            m.tenant_id == tenant_id,
            m.person_id == p.person_id,
            m.valid_from < p.valid_from,
            or_(m.valid_to.is_(None), m.valid_to >= p.valid_from),
        )
        .values(valid_to=p.valid_from - timedelta(days=1))
    )
    # A later membership already known bounds this one.
    following = await session.scalar(
        select(func.min(m.valid_from)).where(
            m.tenant_id == tenant_id, m.person_id == p.person_id, m.valid_from > p.valid_from
        )
    )
    valid_to = following - timedelta(days=1) if following else None
    stmt = pg_insert(org.memberships).values(
        tenant_id=tenant_id,
        person_id=p.person_id,
        valid_from=p.valid_from,
        team_id=p.team_id,
        valid_to=valid_to,
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[m.tenant_id, m.person_id, m.valid_from],
            set_={"team_id": stmt.excluded.team_id, "valid_to": stmt.excluded.valid_to},
        )
    )


async def manages(
    session: AsyncSession,
    org: OrgTables,
    tenant_id: uuid.UUID,
    manager_id: str,
    person_id: str,
    start: date,
    end: date,
) -> bool:
    """Was the person, at any day from start to end, in a team the manager manages (transitively)?"""
    schema = org.teams.schema
    found = await session.scalar(
        text(
            f"""
            WITH RECURSIVE managed(team_id) AS (
                SELECT team_id FROM "{schema}".teams WHERE tenant_id = :tenant AND manager_id = :manager
                UNION
                SELECT c.team_id FROM "{schema}".teams c JOIN managed p ON c.parent_team_id = p.team_id
                WHERE c.tenant_id = :tenant
            )
            SELECT EXISTS (
                SELECT 1 FROM "{schema}".memberships ms JOIN managed USING (team_id)
                WHERE ms.tenant_id = :tenant AND ms.person_id = :person
                  AND ms.valid_from <= :end AND (ms.valid_to IS NULL OR ms.valid_to >= :start)
            )
            """
        ),
        {
            "tenant": tenant_id,
            "manager": manager_id,
            "person": person_id,
            "start": start,
            "end": end,
        },
    )
    return bool(found)


async def independent_of(
    session: AsyncSession,
    org: OrgTables,
    tenant_id: uuid.UUID,
    decider: str,
    person_id: str,
    start: date,
    end: date,
) -> bool:
    """May `decider` decide on the person's appeal: neither the person nor their manager over
    the period in question?"""
    if decider == person_id:
        return False
    return not await manages(session, org, tenant_id, decider, person_id, start, end)


async def manages_team(
    session: AsyncSession, org: OrgTables, tenant_id: uuid.UUID, manager_id: str, team_id: str
) -> bool:
    """Does the manager manage the team, or a team above it?"""
    schema = org.teams.schema
    found = await session.scalar(
        text(
            f"""
            WITH RECURSIVE above(team_id, parent_team_id, manager_id, depth) AS (
                SELECT team_id, parent_team_id, manager_id, 0 FROM "{schema}".teams
                WHERE tenant_id = :tenant AND team_id = :team
                UNION ALL
                SELECT p.team_id, p.parent_team_id, p.manager_id, a.depth + 1
                FROM "{schema}".teams p JOIN above a ON p.team_id = a.parent_team_id
                WHERE p.tenant_id = :tenant AND a.depth < 64
            )
            SELECT EXISTS (SELECT 1 FROM above WHERE manager_id = :manager)
            """
        ),
        {"tenant": tenant_id, "team": team_id, "manager": manager_id},
    )
    return bool(found)


OrgEvent = PersonErased | TeamSet | MembershipSet


def with_org_events(
    apply: Callable[[UnitOfWork, Sequence[Event]], Awaitable[None]],
    org: OrgTables,
    erase: Callable[[UnitOfWork, PersonErased], Awaitable[None]],
) -> Callable[[UnitOfWork, list[Event]], Awaitable[None]]:
    """A consumer's handler that also keeps the service's copy of the reporting lines and applies
    erasures, in bus order: an org event between two domain events applies between them."""

    async def handle(uow: UnitOfWork, events: list[Event]) -> None:
        run: list[Event] = []
        for event in events:
            if not isinstance(event, OrgEvent):
                run.append(event)
                continue
            await apply(uow, run)
            run = []
            if isinstance(event, PersonErased):
                await erase(uow, event)
            elif isinstance(event, TeamSet):
                await set_team(uow.session, org, event.tenant_id, event)
            else:
                await set_membership(uow.session, org, event.tenant_id, event)
        await apply(uow, run)

    return handle
