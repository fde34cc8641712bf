"""GraphQL reads of goals: the goal tree (a goal with its children, as deep as the client asks) and
leaderboards (recognition: people ranked by attainment).

No N+1: a tree is resolved level by level through two per-request DataLoaders kept in
``info.context.loaders`` — the children of every goal of a level in one SELECT, and the figures
(actual, attainment, pace) of every goal of a level in one ``goal_figures`` call — so a level of 500
people costs the same few statements as a level of 5. Which children a manager may see is worked
out once per request (the teams they manage and those teams' memberships), not per child."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

import strawberry
from sqlalchemy import Exists, and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from goals.catalog.service import tenant_catalog
from goals.models import Goal, Person, Total, org
from goals.targets.endpoints import goal_figures, parse_label
from goals.targets.schemas import GoalFigureOut
from goals.targets.service import invalid
from goals.totals import figures
from goals.totals.progress import period_from
from goals.totals.store import tenant_calendar
from shared.auth.access import TENANT_READERS, may_see_owner
from shared.auth.tokens import Principal
from shared.db.uow import tenant_session
from shared.graphql import Context
from shared.http.problems import Problem
from shared.periods import Period

OWNER_KINDS = ("company", "team", "person")
MAX_LEADERBOARD = 500
BATCH = 1000  # goals per loader batch: keeps IN lists well under PostgreSQL's parameter limit

CHILDREN = "goals.tree.children"
FIGURES = "goals.tree.figures"
VISIBILITY = "goals.tree.visibility"


# --- Who may see which goal ----------------------------------------------------------------------


@dataclass(frozen=True)
class Visibility:
    """What the caller may see, decided once per request: everything (tenant readers), or their own
    goals plus, for a manager, the teams they manage (and sub-teams) and those teams' people for the
    days they were there — the same rule as ``may_see_owner``, without a query per goal."""

    subject: str
    everything: bool = False
    teams: frozenset[str] = frozenset()
    stints: dict[str, list[tuple[date, date | None]]] = field(default_factory=dict)

    def sees(self, owner_kind: str, owner_id: str, start: date, end: date) -> bool:
        if self.everything:
            return True
        if owner_kind == "person" and owner_id == self.subject:
            return True
        if owner_kind == "team":
            return owner_id in self.teams
        if owner_kind == "person":
            return any(
                since <= end and (until is None or until >= start)
                for since, until in self.stints.get(owner_id, ())
            )
        return False


async def load_visibility(
    session: AsyncSession, who: Principal, runtime_org: object | None
) -> Visibility:
    if who.has(*TENANT_READERS):
        return Visibility(who.subject, everything=True)
    if not who.has("manager") or runtime_org is None:
        return Visibility(who.subject)
    t, m = org.teams, org.memberships
    managed = (
        select(t.c.team_id)
        .where(t.c.tenant_id == who.tenant_id, t.c.manager_id == who.subject)
        .cte("managed", recursive=True)
    )
    below = t.alias("below")
    managed = managed.union(
        select(below.c.team_id)
        .join(managed, below.c.parent_team_id == managed.c.team_id)
        .where(below.c.tenant_id == who.tenant_id)
    )
    rows = await session.execute(
        select(managed.c.team_id, m.c.person_id, m.c.valid_from, m.c.valid_to).select_from(
            managed.outerjoin(
                m, and_(m.c.tenant_id == who.tenant_id, m.c.team_id == managed.c.team_id)
            )
        )
    )
    teams: set[str] = set()
    stints: dict[str, list[tuple[date, date | None]]] = defaultdict(list)
    for team_id, person_id, since, until in rows:
        teams.add(team_id)
        if person_id is not None:
            stints[person_id].append((since, until))
    return Visibility(who.subject, teams=frozenset(teams), stints=dict(stints))


async def visibility(context: Context, session: AsyncSession) -> Visibility:
    """The caller's Visibility, computed on first use and kept for the rest of the request."""
    loaders = context.loaders
    lock: asyncio.Lock = loaders.setdefault(VISIBILITY + ".lock", asyncio.Lock())
    async with lock:
        if VISIBILITY not in loaders:
            loaders[VISIBILITY] = await load_visibility(
                session, context.principal, context.runtime.extras.get("org")
            )
    seen: Visibility = loaders[VISIBILITY]
    return seen


# --- The per-request loaders ---------------------------------------------------------------------


def has_children() -> Exists:
    """A column: does the goal selected have child goals? (A leaf then costs no children query.)"""
    kid = aliased(Goal)
    return exists().where(kid.tenant_id == Goal.tenant_id, kid.parent_id == Goal.goal_id)


def children_loader(info: Info[Context, None]) -> DataLoader[uuid.UUID, list[tuple[Goal, bool]]]:
    """Goal id → its child goals the caller may see (and whether they have children in turn): one
    SELECT for all the goals of a level."""
    context = info.context
    loaders = context.loaders
    if CHILDREN not in loaders:
        who = context.principal
        sessions = context.runtime.sessions

        async def load(parent_ids: list[uuid.UUID]) -> list[list[tuple[Goal, bool]]]:
            async with tenant_session(sessions, who.tenant_id) as session:
                kids = list(
                    await session.execute(
                        select(Goal, has_children())
                        .where(Goal.tenant_id == who.tenant_id, Goal.parent_id.in_(parent_ids))
                        .order_by(Goal.period_start, Goal.dimension, Goal.owner_kind, Goal.owner_id)
                    )
                )
                seen = await visibility(context, session) if kids else None
            by_parent: dict[uuid.UUID, list[tuple[Goal, bool]]] = defaultdict(list)
            for k, more in kids:
                assert k.parent_id is not None and seen is not None
                if seen.sees(k.owner_kind, k.owner_id, k.period_start, k.period_end):
                    by_parent[k.parent_id].append((k, more))
            return [by_parent.get(p, []) for p in parent_ids]

        loaders[CHILDREN] = DataLoader(load_fn=load, max_batch_size=BATCH)
    loader: DataLoader[uuid.UUID, list[tuple[Goal, bool]]] = loaders[CHILDREN]
    return loader


def figures_loader(info: Info[Context, None]) -> DataLoader[Goal, GoalFigureOut]:
    """Goal → actual, attainment and pace: one ``goal_figures`` call for all the goals of a level."""
    loaders = info.context.loaders
    if FIGURES not in loaders:
        who = info.context.principal
        sessions = info.context.runtime.sessions

        async def load(goals: list[Goal]) -> list[GoalFigureOut]:
            async with tenant_session(sessions, who.tenant_id) as session:
                return await goal_figures(session, who.tenant_id, goals, datetime.now(UTC))

        loaders[FIGURES] = DataLoader(
            load_fn=load, max_batch_size=BATCH, cache_key_fn=lambda g: g.goal_id
        )
    loader: DataLoader[Goal, GoalFigureOut] = loaders[FIGURES]
    return loader


# --- The goal tree -------------------------------------------------------------------------------


@strawberry.type(
    description="A goal with its figures and its child goals (those the caller may see)"
)
class GoalNode:
    goal: strawberry.Private[Goal]
    fiscal_start: strawberry.Private[int]
    has_children: strawberry.Private[bool]

    async def _figures(self, info: Info[Context, None]) -> GoalFigureOut:
        return await figures_loader(info).load(self.goal)

    @strawberry.field
    def goal_id(self) -> uuid.UUID:
        return self.goal.goal_id

    @strawberry.field
    def metric(self) -> str:
        return self.goal.metric

    @strawberry.field(description='"" or a dimension value, e.g. "product_line=saas"')
    def dimension(self) -> str:
        return self.goal.dimension

    @strawberry.field
    def owner_kind(self) -> str:
        return self.goal.owner_kind

    @strawberry.field
    def owner_id(self) -> str:
        return self.goal.owner_id

    @strawberry.field(description='The period label, e.g. "2026-Q1"')
    def period(self) -> str:
        g = self.goal
        return period_from(g.period_kind, g.period_start, g.period_end, self.fiscal_start).label

    @strawberry.field
    def period_start(self) -> date:
        return self.goal.period_start

    @strawberry.field
    def period_end(self) -> date:
        return self.goal.period_end

    @strawberry.field(description="The target as set")
    def target(self) -> Decimal:
        return self.goal.target

    @strawberry.field
    def version(self) -> int:
        return self.goal.version

    @strawberry.field(description="The target prorated by a joiner's or leaver's active days")
    async def effective_target(self, info: Info[Context, None]) -> Decimal:
        return (await self._figures(info)).effective_target

    @strawberry.field
    async def actual(self, info: Info[Context, None]) -> Decimal | None:
        return (await self._figures(info)).actual

    @strawberry.field(description="actual / effective target (inverted for lower-is-better)")
    async def attainment(self, info: Info[Context, None]) -> Decimal | None:
        return (await self._figures(info)).attainment

    @strawberry.field(description="The fraction of the period gone")
    async def elapsed(self, info: Info[Context, None]) -> Decimal:
        return (await self._figures(info)).elapsed

    @strawberry.field(description="Where the actual should be by now on a straight line")
    async def expected(self, info: Info[Context, None]) -> Decimal | None:
        return (await self._figures(info)).expected

    @strawberry.field
    async def projected_attainment(self, info: Info[Context, None]) -> Decimal | None:
        return (await self._figures(info)).projected_attainment

    @strawberry.field(description="The sum of the children's targets (null without children)")
    async def children_total(self, info: Info[Context, None]) -> Decimal | None:
        return (await self._figures(info)).children_total

    @strawberry.field(description="children total − target: 0 when the children add up")
    async def children_difference(self, info: Info[Context, None]) -> Decimal | None:
        return (await self._figures(info)).children_difference

    @strawberry.field(description="The child goals the caller may see (org, time or dimension)")
    async def children(self, info: Info[Context, None]) -> list[GoalNode]:
        if not self.has_children:
            return []
        kids = await children_loader(info).load(self.goal.goal_id)
        return [GoalNode(goal=k, fiscal_start=self.fiscal_start, has_children=m) for k, m in kids]


# --- Leaderboards --------------------------------------------------------------------------------


@strawberry.type(description="A place on a leaderboard (competition ranking: 1, 2, 2, 4)")
class LeaderboardEntry:
    rank: int
    person_id: str
    name: str | None
    actual: Decimal | None
    target: Decimal | None
    attainment: Decimal | None


async def team_people(
    session: AsyncSession, tenant_id: uuid.UUID, team_id: str | None, period: Period
) -> set[str]:
    """The people in the team (and its sub-teams) at any day of the period; with no team, the
    people in any team. An unknown team is a 404."""
    t, m = org.teams, org.memberships
    if team_id is None:
        rows = await session.execute(
            select(m.c.person_id)
            .where(
                m.c.tenant_id == tenant_id,
                m.c.valid_from <= period.end,
                or_(m.c.valid_to.is_(None), m.c.valid_to >= period.start),
            )
            .distinct()
        )
        return {r[0] for r in rows}
    scope = (
        select(t.c.team_id)
        .where(t.c.tenant_id == tenant_id, t.c.team_id == team_id)
        .cte("scope", recursive=True)
    )
    below = t.alias("below")
    scope = scope.union(
        select(below.c.team_id)
        .join(scope, below.c.parent_team_id == scope.c.team_id)
        .where(below.c.tenant_id == tenant_id)
    )
    rows = await session.execute(
        select(scope.c.team_id, m.c.person_id).select_from(
            scope.outerjoin(
                m,
                and_(
                    m.c.tenant_id == tenant_id,
                    m.c.team_id == scope.c.team_id,
                    m.c.valid_from <= period.end,
                    or_(m.c.valid_to.is_(None), m.c.valid_to >= period.start),
                ),
            )
        )
    )
    found = list(rows)
    if not found:
        raise Problem(404, "Not found", f"no team {team_id}")
    return {r[1] for r in found if r[1] is not None}


def rank_key(
    attainment: Decimal | None, actual: Decimal | None, direction: str
) -> tuple[int, Decimal]:
    """People with an attainment first (best first), then the rest by actual, then nobody."""
    if attainment is not None:
        return (0, -attainment)
    if actual is not None:
        return (1, actual if direction == "lower" else -actual)
    return (2, Decimal(0))


@strawberry.type
class GoalsQuery:
    @strawberry.field(
        description="An owner's goal for a metric and period with its children, as deep as asked; "
        "null when there is none. Children the caller may not see are left out."
    )
    async def goal_tree(
        self,
        info: Info[Context, None],
        owner_kind: str,
        period: str,
        metric: str,
        owner_id: str = "company",
        dimension: str = "",
    ) -> GoalNode | None:
        who = info.context.principal
        rt = info.context.runtime
        if owner_kind not in OWNER_KINDS:
            raise invalid("ownerKind", f"one of {', '.join(OWNER_KINDS)}")
        if owner_kind == "company":
            owner_id = "company"
        async with tenant_session(rt.sessions, who.tenant_id) as session:
            _, fiscal_start = await tenant_calendar(session, who.tenant_id)
            p = parse_label(period, fiscal_start)
            found = (
                await session.execute(
                    select(Goal, has_children()).where(
                        Goal.tenant_id == who.tenant_id,
                        Goal.metric == metric,
                        Goal.dimension == dimension,
                        Goal.owner_kind == owner_kind,
                        Goal.owner_id == owner_id,
                        Goal.period_kind == p.kind.value,
                        Goal.period_start == p.start,
                    )
                )
            ).one_or_none()
        if not await may_see_owner(rt, who, owner_kind, owner_id, p.start, p.end):
            raise Problem(
                403, "Forbidden", "forbidden: you may see your own goals and your teams' only"
            )
        if found is None:
            return None
        root, more = found
        return GoalNode(goal=root, fiscal_start=fiscal_start, has_children=more)

    @strawberry.field(
        description="People ranked by attainment of their goal for the metric and period (people "
        "without a goal after them, by actual); a team and its sub-teams, or the whole company. "
        "Competition ranking: equal attainments share a rank and the next rank is skipped."
    )
    async def leaderboard(
        self,
        info: Info[Context, None],
        metric: str,
        period: str,
        team_id: str | None = None,
        limit: int = 20,
    ) -> list[LeaderboardEntry]:
        who = info.context.principal  # anyone in the tenant: recognition is public in the company
        if not 1 <= limit <= MAX_LEADERBOARD:
            raise invalid("limit", f"between 1 and {MAX_LEADERBOARD}")
        async with tenant_session(info.context.runtime.sessions, who.tenant_id) as session:
            _, fiscal_start = await tenant_calendar(session, who.tenant_id)
            p = parse_label(period, fiscal_start)
            catalog = await tenant_catalog(session, who.tenant_id)
            definition = catalog.get(metric)
            if definition is None:
                raise invalid("metric", f"unknown metric {metric}")
            members = await team_people(session, who.tenant_id, team_id, p)
            goals_q = select(Goal).where(
                Goal.tenant_id == who.tenant_id,
                Goal.metric == metric,
                Goal.dimension == "",
                Goal.owner_kind == "person",
                Goal.period_kind == p.kind.value,
                Goal.period_start == p.start,
            )
            totals_q = select(Total).where(
                Total.tenant_id == who.tenant_id,
                Total.owner_kind == "person",
                Total.metric.in_(sorted(figures.components(definition, catalog.get))),
                Total.period_kind == p.kind.value,
                Total.period_start == p.start,
            )
            if team_id is not None:
                goals_q = goals_q.where(Goal.owner_id.in_(sorted(members)))
                totals_q = totals_q.where(Total.owner_id.in_(sorted(members)))
            goals = {g.owner_id: g for g in await session.scalars(goals_q)}
            rows = {(t.owner_id, t.metric): t for t in await session.scalars(totals_q)}
            everyone = members | set(goals) | {person for person, _ in rows}
            people_q = select(
                Person.person_id, Person.name, Person.active_from, Person.active_to
            ).where(Person.tenant_id == who.tenant_id)
            if team_id is not None:
                people_q = people_q.where(Person.person_id.in_(sorted(everyone)))
            people = {r[0]: (r[1], r[2], r[3]) for r in await session.execute(people_q)}
        scored: list[tuple[tuple[int, Decimal], str, LeaderboardEntry]] = []
        for person in everyone:

            def row_of(key: str, person: str = person) -> tuple[Decimal, int] | None:
                t = rows.get((person, key))
                return None if t is None else (t.value, t.event_count)

            actual = figures.actual_of(definition, row_of, catalog.get)
            name, active_from, active_to = people.get(person, (None, None, None))
            goal = goals.get(person)
            target = (
                None
                if goal is None
                else figures.effective_target(
                    goal.target,
                    p,
                    set_by_hand=goal.set_by_hand,
                    active_from=active_from,
                    active_to=active_to,
                ).effective
            )
            attainment = figures.attainment(actual, target, definition.direction)
            entry = LeaderboardEntry(
                rank=0,
                person_id=person,
                name=name,
                actual=actual,
                target=target,
                attainment=attainment,
            )
            scored.append((rank_key(attainment, actual, definition.direction), person, entry))
        scored.sort(key=lambda s: (s[0], s[1]))
        out: list[LeaderboardEntry] = []
        previous: tuple[int, Decimal] | None = None
        for position, (key, _, entry) in enumerate(scored, start=1):
            entry.rank = position if key != previous else out[-1].rank
            previous = key
            out.append(entry)
        return out[:limit]
