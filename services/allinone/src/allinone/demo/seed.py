"""Seed the Northwind demo tenant through the public HTTP API only, so the same loader can seed
any deployment (the in-process app of a test, `make demo`, or a server given by URL).

Idempotent where the API allows it: run again with the tenant (and source) it returned, it
changes nothing. People, teams, templates, alert settings and plan assignments are upserts;
goals and splits are read back first and only written when missing or different; targets are
imported after a dry run says something is new; a plan is only versioned when assigning to it
says it does not exist. Two things the API cannot look up are taken from the caller: the tenant
(there is no way to find a tenant by name) and the webhook source (there is no list of sources).
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from allinone.demo import company
from allinone.demo.company import DemoPerson, DemoTeam
from shared.auth.tokens import mint_token
from shared.settings import BaseServiceSettings

PLATFORM_TENANT = uuid.UUID(int=0)  # a platform operator's token names no real tenant
SEEDER = "demo-seed"  # who the audit log says configured the tenant
CONCURRENCY = 4  # requests in flight while decomposing goals person by person


class SeedError(RuntimeError):
    """The API refused a step of the seed (the message names the call and the answer)."""


class UnknownSource(SeedError):
    """The source the caller named does not exist (e.g. the database was reset)."""


@dataclass(frozen=True)
class DemoTenant:
    """What was seeded, and how to act as its people."""

    tenant_id: uuid.UUID
    name: str
    year: int
    quarter: str  # the scorecard periods: the current quarter and month of `year`
    month: str
    source_id: uuid.UUID
    secret: str
    teams: tuple[DemoTeam, ...]
    people: tuple[DemoPerson, ...]
    admin_token: str
    manager_id: str
    manager_token: str
    rep_id: str
    rep_token: str
    company_goal_id: uuid.UUID

    @property
    def webhook_path(self) -> str:
        return f"/v1/webhooks/{self.source_id}"

    def person(self, person_id: str) -> DemoPerson:
        return next(p for p in self.people if p.person_id == person_id)

    def token_for(self, settings: BaseServiceSettings, person_id: str) -> str:
        """A token for one of the people, with the roles of their job."""
        who = self.person(person_id)
        return mint_token(
            settings, tenant_id=self.tenant_id, subject=who.person_id, roles=who.token_roles
        )


class Api:
    """The calls of one principal, each checked against the status codes the route documents."""

    def __init__(self, client: httpx.AsyncClient, token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    async def call(
        self, method: str, path: str, *, expect: Iterable[int] = (200,), **kwargs: Any
    ) -> httpx.Response:
        headers = self.headers | kwargs.pop("headers", {})
        response = await self.client.request(method, path, headers=headers, **kwargs)
        if response.status_code not in tuple(expect):
            raise SeedError(f"{method} {path} → {response.status_code}: {response.text[:800]}")
        return response

    async def json(self, method: str, path: str, **kwargs: Any) -> Any:
        return (await self.call(method, path, **kwargs)).json()


def periods_of(year: int, today: date) -> tuple[str, str]:
    """The scorecard quarter and month: today's if `year` is this year, else its last ones."""
    day = today if today.year == year else date(year, 12, 31)
    return f"{year}-Q{(day.month - 1) // 3 + 1}", f"{year}-{day.month:02d}"


async def seed_demo(
    client: httpx.AsyncClient,
    settings: BaseServiceSettings,
    *,
    tenant_id: uuid.UUID | None = None,
    year: int | None = None,
    source_id: uuid.UUID | None = None,
) -> DemoTenant:
    """Create (or bring up to date) the Northwind demo tenant through the API of `client`.

    tenant_id: an existing tenant to seed (e.g. the one an earlier run returned); None creates one.
    source_id: that tenant's demo webhook source; a new secret is issued for it (the old one keeps
    verifying for a day). None registers a new source. Raises UnknownSource if it does not exist.
    """
    tz = ZoneInfo(company.TIMEZONE)
    today = datetime.now(tz).date()
    year = year or today.year
    quarter, month = periods_of(year, today)
    created_tenant = tenant_id is None
    if tenant_id is None:
        platform = Api(
            client,
            mint_token(
                settings, tenant_id=PLATFORM_TENANT, subject=SEEDER, roles=["platform_admin"]
            ),
        )
        created = await platform.json(
            "POST",
            "/v1/tenants",
            json={
                "name": company.COMPANY_NAME,
                "timezone": company.TIMEZONE,
                "currency": company.CURRENCY,
                "fiscal_year_start_month": 1,
            },
            expect=(201,),
        )
        tenant_id = uuid.UUID(created["tenant_id"])
    admin = Api(client, mint_token(settings, tenant_id=tenant_id, subject=SEEDER, roles=["admin"]))
    source = await ensure_source(admin, source_id)
    people = company.people(year)
    await ensure_org(admin, people)
    await admin.call("PUT", "/v1/alerts/settings", json=company.ALERT_SETTINGS)
    company_goal = await ensure_goal_trees(admin, people, year)
    await import_scorecard_targets(admin, people, quarter, month, check=not created_tenant)
    await ensure_scorecards(admin, people, quarter, month)
    await ensure_reviews(client, settings, admin, tenant_id, people, quarter)
    await ensure_plans(client, settings, admin, tenant_id, people, year)

    def token(person_id: str) -> str:
        who = next(p for p in people if p.person_id == person_id)
        return mint_token(settings, tenant_id=tenant_id, subject=person_id, roles=who.token_roles)

    manager, rep = company.TEAMS[0].manager_id, company.DEMO_REP_ID
    return DemoTenant(
        tenant_id=tenant_id,
        name=company.COMPANY_NAME,
        year=year,
        quarter=quarter,
        month=month,
        source_id=uuid.UUID(source["source_id"]),
        secret=source["secret"],
        teams=company.TEAMS,
        people=people,
        admin_token=mint_token(
            settings, tenant_id=tenant_id, subject="demo-admin", roles=["admin"]
        ),
        manager_id=manager,
        manager_token=token(manager),
        rep_id=rep,
        rep_token=token(rep),
        company_goal_id=uuid.UUID(company_goal["goal_id"]),
    )


async def ensure_source(admin: Api, source_id: uuid.UUID | None) -> dict[str, Any]:
    if source_id is None:
        return dict(
            await admin.json(
                "POST",
                "/v1/sources",
                json={"kind": "generic", "name": company.SOURCE_NAME},
                expect=(201,),
            )
        )
    # Secrets are shown once: the only way to sign for a known source again is a new one.
    response = await admin.call(
        "POST", f"/v1/sources/{source_id}/rotate", json={"grace_seconds": 86400}, expect=(200, 404)
    )
    if response.status_code == 404:
        raise UnknownSource(f"no webhook source {source_id} in this tenant")
    return dict(response.json())


async def ensure_org(admin: Api, people: Sequence[DemoPerson]) -> None:
    """Regions with their managers, then people with their manager and team. People already
    there as wanted are left alone: saving them again would re-date their team membership."""
    for team in company.TEAMS:
        await admin.call(
            "PUT",
            f"/v1/org/teams/{team.team_id}",
            json={"name": team.name, "parent_team_id": None, "manager_id": team.manager_id},
            expect=(204,),
        )
    existing = {p["person_id"]: p for p in await admin.json("GET", "/v1/org/people")}
    for person in people:
        body = {
            "name": person.name,
            "role": person.role,
            "email": person.email,
            "manager_id": person.manager_id,
            "active_from": person.active_from and person.active_from.isoformat(),
        }
        known = existing.get(person.person_id)
        if known is not None and all(known.get(k) == v for k, v in body.items()):
            continue
        if person.team_id is not None:
            body["team_id"] = person.team_id
        await admin.call("PUT", f"/v1/org/people/{person.person_id}", json=body)


# -- goals ---------------------------------------------------------------------------------------


async def ensure_goal(
    admin: Api, *, metric: str, owner_kind: str, owner_id: str, period: str, target: Decimal
) -> tuple[dict[str, Any], bool]:
    """The goal, created or changed only if it is not there with this target; and whether it
    was written (its children then need writing too)."""
    found = await admin.json(
        "GET",
        "/v1/goals",
        params={"owner_kind": owner_kind, "owner_id": owner_id, "period": period, "metric": metric},
    )
    mine = [g for g in found if g["dimension"] == ""]
    if mine and Decimal(mine[0]["target"]) == target:
        return mine[0], False
    saved = await admin.json(
        "POST",
        "/v1/goals",
        json={
            "metric": metric,
            "owner_kind": owner_kind,
            "owner_id": owner_id,
            "period": period,
            "target": str(target),
            "reason": f"{company.COMPANY_NAME} plan for {period}",
            "set_by_hand": owner_kind != "person",
        },
    )
    return saved, True


async def ensure_split(
    admin: Api, goal: dict[str, Any], body: dict[str, Any], expected: int, written: bool
) -> list[dict[str, Any]]:
    """The goal's children: split unless they are already there and add up."""
    if not written:
        children = await admin.json("GET", f"/v1/goals/{goal['goal_id']}/children")
        total = sum((Decimal(c["target"]) for c in children), Decimal(0))
        if len(children) == expected and total == Decimal(goal["target"]):
            return list(children)
    return list(await admin.json("POST", f"/v1/goals/{goal['goal_id']}/split", json=body))


async def ensure_goal_trees(admin: Api, people: Sequence[DemoPerson], year: int) -> dict[str, Any]:
    """Collected revenue: company year → regions → quota carriers → quarters (seasonal) →
    months. New customers and effective visits: company year → regions → people. Returns the
    company's collected-revenue goal."""
    carriers = {
        team.team_id: [
            p for p in people if p.team_id == team.team_id and p.title in company.QUOTA_WEIGHTS
        ]
        for team in company.TEAMS
    }
    reps = {t: [p for p in ps if p.role == "new_business_rep"] for t, ps in carriers.items()}
    trees = (
        ("collected_revenue", company.COMPANY_REVENUE_TARGET, carriers, True),
        ("new_customers", company.COMPANY_NEW_CUSTOMERS, reps, False),
        ("effective_visits", company.COMPANY_EFFECTIVE_VISITS, carriers, False),
    )
    people_goals: list[tuple[dict[str, Any], bool]] = []
    root: dict[str, Any] = {}
    for metric, target, members, by_time in trees:
        top, written = await ensure_goal(
            admin,
            metric=metric,
            owner_kind="company",
            owner_id="company",
            period=str(year),
            target=target,
        )
        root = root or top
        regions = await ensure_split(
            admin,
            top,
            {
                "along": "org",
                "rule": "weights",
                "owners": list(company.REGION_WEIGHTS),
                "weights": {k: str(v) for k, v in company.REGION_WEIGHTS.items()},
                "reason": "regional split of the company plan",
            },
            len(company.REGION_WEIGHTS),
            written,
        )
        for region in regions:
            team = members[region["owner_id"]]
            body = {
                "along": "org",
                "rule": "weights",
                "owners": [p.person_id for p in team],
                "weights": {p.person_id: str(company.QUOTA_WEIGHTS[p.title]) for p in team},
                "reason": "the regional manager's split",
            }
            kids = await ensure_split(admin, region, body, len(team), written)
            if by_time:
                people_goals += [(k, written) for k in kids]
    await decompose_in_time(admin, people_goals, year)
    return root


async def decompose_in_time(
    admin: Api, goals: list[tuple[dict[str, Any], bool]], year: int
) -> None:
    """Each person's year into quarters (seasonal weights), each quarter into months."""
    quarters = [f"{year}-Q{i}" for i in range(1, 5)]
    gate = asyncio.Semaphore(CONCURRENCY)

    async def person(goal: dict[str, Any], written: bool) -> None:
        async with gate:
            body = {
                "along": "time",
                "into": "quarter",
                "rule": "weights",
                "weights": {
                    q: str(w) for q, w in zip(quarters, company.QUARTER_WEIGHTS, strict=True)
                },
                "reason": "seasonality",
            }
            kids = await ensure_split(admin, goal, body, 4, written)
        for quarter in kids:
            async with gate:
                body = {"along": "time", "into": "month", "rule": "even"}
                if quarter["period"].endswith("Q1"):
                    months = [f"{year}-{m:02d}" for m in (1, 2, 3)]
                    weights = zip(months, company.Q1_MONTH_WEIGHTS, strict=True)
                    body = body | {"rule": "weights", "weights": {m: str(w) for m, w in weights}}
                await ensure_split(admin, quarter, body, 3, written)

    await asyncio.gather(*(person(g, w) for g, w in goals))


def _scorecard_target(metric: str, person: DemoPerson) -> Decimal | None:
    by = company.SCORECARD_TARGETS[metric]
    return by.get(person.title, by.get(person.role))


async def import_scorecard_targets(
    admin: Api, people: Sequence[DemoPerson], quarter: str, month: str, *, check: bool = True
) -> None:
    """The quarter's and the month's targets of the scorecard items, as HR would import them;
    a dry run first (unless the tenant is new), so nothing is versioned again when they are all
    there."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["metric", "owner_kind", "owner_id", "period", "target", "reason"])
    for metric in company.SCORECARD_TARGETS:
        for person in people:
            target = _scorecard_target(metric, person)
            if target is None:
                continue
            monthly = target
            if metric not in company.NON_ADDITIVE:
                monthly = max(Decimal(1), (target / 3).quantize(Decimal(1), ROUND_HALF_UP))
            for period, value in ((quarter, target), (month, monthly)):
                writer.writerow(
                    [metric, "person", person.person_id, period, value, "scorecard target"]
                )
    body = out.getvalue().encode()
    headers = {"Content-Type": "text/csv"}
    if check:
        dry = await admin.json(
            "POST", "/v1/imports/targets", params={"dry_run": "true"}, content=body, headers=headers
        )
        if not dry["created"]:
            return
    await admin.call("POST", "/v1/imports/targets", content=body, headers=headers)


# -- scorecards ----------------------------------------------------------------------------------


async def ensure_scorecards(
    admin: Api, people: Sequence[DemoPerson], quarter: str, month: str
) -> None:
    """Northwind's copies of the shipped role templates, and a scorecard for everyone in the
    regions for the quarter and the month (existing scorecards are kept)."""
    shipped = {t["key"]: t for t in await admin.json("GET", "/v1/scorecard-templates")}
    for key, (standard, name) in company.TEMPLATES.items():
        items = [
            item | {"cap": company.REVENUE_ITEM_CAP}
            if item.get("metric") in company.REVENUE_METRICS
            else item
            for item in shipped[standard]["items"]
        ]
        await admin.call(
            "PUT",
            f"/v1/scorecard-templates/{key}",
            json={
                "name": name,
                "items": items,
                "group_weights": shipped[standard]["group_weights"],
            },
        )
    for key, (standard, _name) in company.TEMPLATES.items():
        scored = [p.person_id for p in people if p.role == standard]
        for period in (quarter, month):
            await admin.call(
                "POST",
                "/v1/scorecards",
                json={"template": key, "period": period, "person_ids": scored},
                expect=(201,),
            )


def _draw(key: str, low: Decimal, high: Decimal, places: int = 0) -> Decimal:
    """A value in [low, high] fixed by the key (the same every run, different per person)."""
    fraction = Decimal(int(hashlib.sha256(key.encode()).hexdigest()[:8], 16)) / Decimal(0xFFFFFFFF)
    return (low + (high - low) * fraction).quantize(Decimal(1).scaleb(-places))


async def ensure_reviews(
    client: httpx.AsyncClient,
    settings: BaseServiceSettings,
    admin: Api,
    tenant_id: uuid.UUID,
    people: Sequence[DemoPerson],
    quarter: str,
) -> None:
    """The quarter's 360°: each manager has rated their people, a peer has been asked too (and
    not answered yet); HR has entered the regional managers' manual items. Scorecards already
    rated are left alone."""
    low, high = (Decimal(x) for x in company.MANAGER_RATINGS)
    for person in people:
        if person.role not in company.TEMPLATE_OF_ROLE or person.manager_id is None:
            continue
        card = await admin.json(
            "GET", "/v1/scorecards", params={"person_id": person.person_id, "period": quarter}
        )
        qualitative = [i["key"] for i in card["items"] if i["kind"] == "qualitative"]
        manual = [i for i in card["items"] if i["kind"] == "manual" and i["status"] == "waiting"]
        path = f"/v1/scorecards/{card['scorecard_id']}"
        for item in manual:
            target, (lowest, highest) = company.MANUAL_ITEMS[item["key"]]
            places = 3 if target < 1 else 0
            actual = _draw(f"{person.person_id}|{item['key']}", lowest, highest, places)
            await admin.call(
                "PUT",
                f"{path}/items/{item['key']}",
                json={"actual": str(actual), "target": str(target), "reason": "finance report"},
            )
        rated = any(i["status"] != "waiting" for i in card["items"] if i["kind"] == "qualitative")
        if not qualitative or rated:
            continue
        peers = [
            p.person_id
            for p in people
            if p.team_id == person.team_id and p.role == person.role and p != person
        ] or [p.person_id for p in people if p.role == person.role and p != person]
        raters = [{"rater_id": person.manager_id, "group": "manager"}]
        raters += [{"rater_id": peers[0], "group": "peer"}] if peers else []
        await admin.call("POST", f"{path}/reviews", json={"raters": raters}, expect=(201,))
        boss = next(p for p in people if p.person_id == person.manager_id)
        ratings = [
            {
                "item_key": key,
                "score": str(_draw(f"{person.person_id}|{key}", low, high)),
                "comment": "quarterly review",
            }
            for key in qualitative
        ]
        token = mint_token(
            settings, tenant_id=tenant_id, subject=boss.person_id, roles=boss.token_roles
        )
        await Api(client, token).call("POST", f"{path}/ratings", json={"ratings": ratings})


# -- pay -----------------------------------------------------------------------------------------


async def ensure_plans(
    client: httpx.AsyncClient,
    settings: BaseServiceSettings,
    admin: Api,
    tenant_id: uuid.UUID,
    people: Sequence[DemoPerson],
    year: int,
) -> None:
    """Each plan assigned to its roles from 1 January. A plan is only written when assigning to
    it says it does not exist (each write is a new version); its people then acknowledge it."""
    for key, (definition, assignment) in company.plans(year).items():
        assign = {"roles": assignment["roles"], "valid_from": date(year, 1, 1).isoformat()}
        response = await admin.call(
            "POST", f"/v1/plans/{key}/assign", json=assign, expect=(204, 422)
        )
        if response.status_code == 204:
            continue
        plan = await admin.json("PUT", f"/v1/plans/{key}", json=definition, expect=(201,))
        await admin.call("POST", f"/v1/plans/{key}/assign", json=assign, expect=(204,))
        for person in people:
            if (
                person.role in assignment["roles"]
                and person.person_id not in company.NOT_YET_ACCEPTED
            ):
                own = mint_token(
                    settings,
                    tenant_id=tenant_id,
                    subject=person.person_id,
                    roles=person.token_roles,
                )
                await Api(client, own).call(
                    "POST", f"/v1/plans/{plan['plan_id']}/accept", expect=(201,)
                )
