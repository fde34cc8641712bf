"""The rep dashboard in a real browser: the all-in-one app under uvicorn on loopback (workers
running, real PostgreSQL), a tenant seeded through the public API and signed webhooks, and headless
Chromium (the Debian package, installed here when missing) driven by Playwright.

It checks what a rep sees: who is signed in, the leaderboard, their actual against pace, their pay
with its lines; then that one more webhook updates actual, rank and pay in place (no reload), that a
late entry arrives as a live alert over the GraphQL subscription, and that errors are shown."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from playwright.async_api import Page, expect

from allinone.app import create_app
from shared.db.bootstrap import DatabaseUrls
from shared.periods import PeriodKind, local_date, period_of
from shared.settings import BaseServiceSettings
from tests.e2e.browser import browser_context, collect_errors
from tests.helpers import (
    activity,
    auth,
    create_tenant_and_source,
    eventually,
    free_port,
    graphql,
    make_settings,
    signed,
    token,
)

TIMEZONE = "Asia/Shanghai"
SCREENSHOT = Path("/tmp/dashboard.png")
VIEWPORT = {"width": 1360, "height": 1000}
PEOPLE = {"p-ada": "Ada Lovelace", "p-grace": "Grace Hopper", "p-alan": "Alan Turing"}
TARGET = "100000"
RATE = "0.05"
BONUS = "500"
# Collected this month before the page opens: attainment 42 %, 65 %, 20 % of the 100,000 goals.
PAID = {"p-ada": ["30000.00", "12000.00"], "p-grace": ["65000.00"], "p-alan": ["20000.00"]}
STATEMENT = "query($p: String!, $m: String!) { statement(personId: $p, period: $m) }"
BOARD = """query($m: String!) { leaderboard(metric: "collected_revenue", period: $m) {
  rank personId attainment } }"""


@asynccontextmanager
async def serve(settings: BaseServiceSettings) -> AsyncIterator[str]:
    """The all-in-one app under a real uvicorn server (lifespan on: migrations and workers)."""
    port = free_port()
    config = uvicorn.Config(
        create_app(settings),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # startup failed: raise its error
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


async def ok(response: httpx.Response, *codes: int) -> httpx.Response:
    assert response.status_code in codes, f"{response.request.url}: {response.text}"
    return response


async def seed(
    client: httpx.AsyncClient, settings: BaseServiceSettings, month: str, year_start: date
) -> tuple[uuid.UUID, dict[str, Any]]:
    """A tenant with a source, one team of three reps with a goal each for the month, and a pay
    plan (5 % commission on collections plus a 500 bonus), all through the public API."""
    tenant, source = await create_tenant_and_source(client, settings, timezone=TIMEZONE)
    hr = auth(settings, tenant, "hr", subject="hr-1")
    admin = auth(settings, tenant, "admin", subject="admin-1")
    finance = auth(settings, tenant, "finance", subject="fin-1")
    await ok(
        await client.put(
            "/v1/org/teams/east", json={"name": "East", "manager_id": "m-east"}, headers=hr
        ),
        204,
    )
    for person, name in PEOPLE.items():
        body = {
            "name": name,
            "role": "sales_rep",
            "team_id": "east",
            "active_from": year_start.isoformat(),
        }
        await ok(await client.put(f"/v1/org/people/{person}", json=body, headers=hr), 200)
        goal = {
            "metric": "collected_revenue",
            "owner_kind": "person",
            "owner_id": person,
            "period": month,
            "target": TARGET,
        }
        await ok(await client.post("/v1/goals", json=goal, headers=admin), 200)
    plan = {
        "name": "Field sales",
        "effective_from": year_start.isoformat(),
        "components": [
            {"type": "flat", "rate": RATE, "name": "commission"},
            {"type": "fixed_bonus", "amount": BONUS, "name": "monthly bonus"},
        ],
    }
    await ok(await client.put("/v1/plans/field", json=plan, headers=finance), 201)
    assign = {"person_ids": list(PEOPLE), "valid_from": year_start.isoformat()}
    await ok(await client.post("/v1/plans/field/assign", json=assign, headers=finance), 204)
    return tenant, source


async def post(client: httpx.AsyncClient, source: dict[str, Any], events: list[Any]) -> None:
    body, headers = signed(source["secret"], events)
    await ok(
        await client.post(f"/v1/webhooks/{source['source_id']}", content=body, headers=headers),
        202,
        207,
    )


async def attribute(page: Page, test_id: str, name: str) -> str | None:
    return await page.get_by_test_id(test_id).get_attribute(name)


async def test_dashboard_shows_live_figures_in_a_real_browser(
    database: DatabaseUrls, chromium: Path
) -> None:
    settings = make_settings(database)
    now = datetime.now(UTC).replace(microsecond=0)
    today = local_date(now, TIMEZONE)
    month = period_of(PeriodKind.MONTH, today).label
    # Payments at the start of this minute: this month in the tenant's time zone, and not late.
    paid_at = now.replace(second=0)
    async with serve(settings) as base, httpx.AsyncClient(base_url=base, timeout=30) as client:
        tenant, source = await seed(client, settings, month, date(today.year, 1, 1))
        events = [
            activity(f"{person}-{i}", actor=person, amount=amount, occurred_at=paid_at.isoformat())
            for person, amounts in PAID.items()
            for i, amount in enumerate(amounts)
        ]
        await post(client, source, events)
        rep_token = token(settings, tenant, ["rep"], subject="p-ada")
        rep = {"Authorization": f"Bearer {rep_token}"}

        async def pay_is(total: str) -> bool:
            data = await graphql(client, rep, STATEMENT, p="p-ada", m=month)
            return data["statement"] is not None and data["statement"]["total"] == total

        async def board_complete() -> bool:
            rows = (await graphql(client, rep, BOARD, m=month))["leaderboard"]
            return [r["personId"] for r in rows] == ["p-grace", "p-ada", "p-alan"]

        # The pipeline settled before the page opens, so what it first shows is deterministic.
        await eventually(lambda: pay_is("2600.00"))  # 42,000 × 5 % + 500
        await eventually(board_complete)
        r = await ok(await client.get("/dashboard/api/context", headers=rep), 200)
        context = r.json()
        assert context["tenant"]["timezone"] == TIMEZONE and context["tenant"]["currency"] == "CNY"
        assert context["me"] == {"person_id": "p-ada", "name": "Ada Lovelace", "roles": ["rep"]}
        assert context["teams"] == []  # a rep opens no team view
        elapsed = Decimal(context["periods"][0].pop("elapsed"))
        assert 0 < elapsed <= 1
        assert context["periods"][0] == {
            "kind": "month",
            "label": month,
            "start": period_of(PeriodKind.MONTH, today).start.isoformat(),
            "end": period_of(PeriodKind.MONTH, today).end.isoformat(),
            "current": True,
        }
        assert (await client.get("/dashboard/api/context")).status_code == 401
        r = await client.get("/dashboard", follow_redirects=False)
        assert r.status_code == 308 and r.headers["location"] == "/dashboard/"
        r = await ok(await client.get("/dashboard/"), 200)
        assert r.headers["content-type"].startswith("text/html") and 'id="main"' in r.text
        assert r.headers["cache-control"] == "no-cache"
        r = await ok(await client.get("/dashboard/app.js"), 200)
        assert "javascript" in r.headers["content-type"]  # a module script needs a JS type

        async with browser_context(
            chromium, locale="en-US", timezone_id=TIMEZONE, viewport=VIEWPORT
        ) as browser:
            page = await browser.new_page()
            page_errors = collect_errors(page)
            # /dashboard redirects to /dashboard/; the fragment (the token) survives it
            await page.goto(f"{base}/dashboard#token={rep_token}")
            expect.set_options(timeout=30_000)

            # Signed in: the token is out of the address bar, kept for this tab only.
            who = page.get_by_test_id("whoami")
            await expect(who).to_have_attribute("data-subject", "p-ada")
            await expect(who).to_have_attribute("data-tenant", str(tenant))
            await expect(who).to_contain_text("Ada Lovelace")
            assert page.url == f"{base}/dashboard/", page.url
            stored = await page.evaluate("sessionStorage.getItem('quotient.dashboard.token')")
            assert stored == rep_token
            await expect(page.get_by_test_id("period-select")).to_have_value(month)

            # The leaderboard: names and attainment, best first (competition ranking).
            rows = page.get_by_test_id("leaderboard-row")
            await expect(rows).to_have_count(3)
            await expect(rows.get_by_test_id("leaderboard-name")).to_have_text(
                ["Grace Hopper", "Ada Lovelace", "Alan Turing"]
            )
            await expect(page.locator("tr.me")).to_have_attribute("data-person-id", "p-ada")
            await expect(rows.get_by_test_id("leaderboard-attainment")).to_have_text(
                ["65%", "42%", "20%"]
            )

            # My progress: actual, target, attainment and where pace says I should be.
            await expect(page.get_by_test_id("my-actual")).to_have_text("¥42,000.00")
            assert Decimal(await attribute(page, "my-actual", "data-value") or "") == 42000
            await expect(page.get_by_test_id("my-target")).to_have_text("¥100,000.00")
            await expect(page.get_by_test_id("my-attainment")).to_have_text("42%")
            expected = Decimal(await attribute(page, "my-expected", "data-value") or "-1")
            assert 0 < expected <= Decimal(TARGET)
            await expect(page.get_by_test_id("pace-bar-actual")).to_have_count(1)
            await expect(page.get_by_test_id("pace-line").locator("svg path")).to_have_count(1)

            # My pay: the statement's total and lines, each with its explanation.
            total = page.get_by_test_id("pay-total")
            await expect(total).to_have_attribute("data-value", "2600.00")
            await expect(total).to_have_text("¥2,600.00")
            lines = page.get_by_test_id("pay-line")
            await expect(lines).to_have_count(2)
            commission = page.locator('[data-testid="pay-line"][data-component="commission"]')
            await expect(commission).to_have_attribute("data-amount", "2100.00")
            await expect(commission).to_contain_text("base × rate")
            await expect(commission).to_contain_text("rate: 5%")
            await expect(commission).to_contain_text("2 events")
            bonus = page.locator('[data-testid="pay-line"][data-component="monthly bonus"]')
            await expect(bonus).to_have_attribute("data-amount", "500.00")

            # Alerts follow the subscription; no errors so far.
            await expect(page.get_by_test_id("live-status")).to_have_attribute("data-state", "live")
            await expect(page.get_by_test_id("last-updated")).not_to_have_text("never")
            await expect(page.get_by_test_id("errors")).to_be_hidden()

            # One more payment: the page updates in place (the marker survives: no reload).
            await page.evaluate("window.__sameDocument = true")
            more = activity(
                "p-ada-more", actor="p-ada", amount="30000.00", occurred_at=paid_at.isoformat()
            )
            await post(client, source, [more])
            await expect(total).to_have_attribute("data-value", "4100.00", timeout=60_000)
            await expect(page.get_by_test_id("my-actual")).to_have_text("¥72,000.00")
            await expect(commission).to_have_attribute("data-amount", "3600.00")
            await expect(rows.first).to_have_attribute("data-person-id", "p-ada")
            await expect(page.get_by_test_id("my-attainment")).to_have_text("72%")
            assert await page.evaluate("window.__sameDocument") is True

            # A visit entered 30 hours after it happened: a late-entry alert, pushed live.
            late = activity(
                "p-ada-late-visit",
                type="visit",
                actor="p-ada",
                amount=None,
                occurred_at=(now - timedelta(hours=30)).isoformat(),
                recorded_at=datetime.now(UTC).isoformat(),
            )
            await post(client, source, [late])
            alert = page.locator('[data-testid="alert"][data-rule="late_entry"]')
            await expect(alert).to_have_attribute("data-live", "true", timeout=60_000)
            await expect(alert).to_contain_text("Late data entry")
            await expect(alert).to_contain_text("after it happened (limit 24 h)")
            events = await attribute(page, "live-status", "data-events")
            assert int(events or 0) >= 1
            assert await page.evaluate("window.__sameDocument") is True
            await expect(page.get_by_test_id("errors")).to_be_hidden()
            await page.screenshot(path=str(SCREENSHOT), full_page=True)
            assert not page_errors, page_errors

            # The quarter: no quarterly goal (said so), pay for the quarter's collections.
            quarter = context["periods"][1]["label"]
            await page.get_by_test_id("period-select").select_option(quarter)
            await expect(page.locator("#progress-empty")).to_be_visible()
            await expect(page.locator("#pay-status")).to_contain_text(quarter)
            await expect(total).to_have_attribute("data-value", "4100.00")
            # A period the API refuses: its GraphQL errors are shown, and go once it is fixed.
            await page.evaluate(
                "() => document.getElementById('period').append(new Option('bad', '2026-Q9'))"
            )
            await page.get_by_test_id("period-select").select_option("2026-Q9")
            refused = page.locator('[data-testid="error"][data-source="graphql"]')
            await expect(refused).to_be_visible()
            await expect(refused).to_contain_text("leaderboard")
            await page.get_by_test_id("period-select").select_option(month)
            await expect(page.get_by_test_id("errors")).to_be_hidden()
            await expect(page.get_by_test_id("my-actual")).to_have_text("¥72,000.00")

            # Without a token the page explains how to open it.
            bare = await browser.new_page()
            await bare.goto(f"{base}/dashboard/")
            await expect(bare.get_by_test_id("signin")).to_be_visible()

            # A token the server does not accept: the page says so, visibly.
            forged = token(
                make_settings(database, jwt_secret="not-the-server-secret-" + "x" * 32),
                tenant,
                ["rep"],
                subject="p-ada",
            )
            other = await browser.new_page()
            await other.goto(f"{base}/dashboard/#token={forged}")
            errors = other.get_by_test_id("errors")
            await expect(errors).to_be_visible()
            await expect(errors).to_contain_text("401")


GOAL = """query($me: String!, $p: String!) { goalTree(ownerKind: "person", ownerId: $me,
  period: $p, metric: "collected_revenue") { actual } }"""


async def test_dashboard_shows_the_demo_tenant(database: DatabaseUrls, chromium: Path) -> None:
    """What `python -m allinone.demo` opens: the Northwind tenant (seed_demo) with simulated CRM
    traffic (stream_events). Every panel renders, agrees with the API, and no error shows."""
    from allinone.demo import seed_demo, stream_events

    settings = make_settings(database)
    async with serve(settings) as base, httpx.AsyncClient(base_url=base, timeout=60) as client:
        demo = await seed_demo(client, settings)
        stats = await stream_events(
            client, demo.source_id, demo.secret, demo.people, rate=0, count=40, spread=False, seed=7
        )
        rep = {"Authorization": f"Bearer {demo.rep_token}"}
        async with browser_context(
            chromium, locale="en-US", timezone_id=TIMEZONE, viewport=VIEWPORT
        ) as browser:
            page = await browser.new_page()
            page_errors = collect_errors(page)
            await page.goto(f"{base}/dashboard/#token={demo.rep_token}")
            await expect(page.get_by_test_id("whoami")).to_have_attribute(
                "data-subject", demo.rep_id
            )
            await expect(page.get_by_test_id("period-select")).to_have_value(demo.month)
            await expect(page.get_by_test_id("live-status")).to_have_attribute(
                "data-state", "live", timeout=30_000
            )

            async def page_agrees_with_the_api() -> bool:
                data = await graphql(client, rep, STATEMENT, p=demo.rep_id, m=demo.month)
                goal = await graphql(client, rep, GOAL, me=demo.rep_id, p=demo.month)
                board = await graphql(client, rep, BOARD, m=demo.month)
                shown_total = await attribute(page, "pay-total", "data-value")
                shown_actual = await attribute(page, "my-actual", "data-value")
                shown_board = await page.get_by_test_id("leaderboard-row").evaluate_all(
                    "rows => rows.map(r => r.dataset.personId)"
                )
                assert data["statement"] is not None and goal["goalTree"] is not None
                assert shown_total == data["statement"]["total"], (shown_total, data)
                assert shown_actual == goal["goalTree"]["actual"], (shown_actual, goal)
                assert shown_board == [r["personId"] for r in board["leaderboard"]]
                return len(shown_board) >= 2

            await eventually(page_agrees_with_the_api, timeout=60, interval=1)
            await expect(page.get_by_test_id("pay-line").first).to_be_visible()
            await expect(page.get_by_test_id("errors")).to_be_hidden()
            await page.screenshot(path="/tmp/dashboard-demo.png", full_page=True)
            assert stats is not None
            assert not page_errors, page_errors
