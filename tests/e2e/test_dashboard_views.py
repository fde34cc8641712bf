"""Each role's own view of the dashboard, in Simplified Chinese and English, in headless Chromium
(Debian's package, driven by Playwright) on the Northwind demo tenant (seeded through the public
API, a year's history posted through the signed webhook).

- The language: the browser's chooses (zh-CN → 中文), the switch overrides and is remembered;
  money in ¥, dates and numbers formatted for the locale.
- No missing glyphs: the Chinese names and labels on screen render in the CJK font the page ships
  (document.fonts loaded it; no character draws as the missing-glyph box). This machine has no CJK
  font of its own, so without the shipped font they would all be boxes.
- A regional manager lands on the team view: pace and who is behind (agreeing with the API),
  the team's open alerts (actionable first), leaderboard, funnel, grades, pending work.
- Finance lands on the period's statements: prepares one, sees it wait for someone else's
  approval, downloads the payroll export; an admin approves it from the same view.

Screenshots: /tmp/dashboard-{rep,manager,finance}-{zh,en}.png."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Page, expect

from allinone.demo import seed_demo, stream_events
from allinone.demo.company import TIMEZONE
from shared.db.bootstrap import DatabaseUrls
from tests.e2e.browser import browser_context, collect_errors
from tests.e2e.test_dashboard_browser import VIEWPORT, serve
from tests.helpers import eventually, graphql, make_settings

STATIC = (
    Path(__file__).resolve().parents[2] / "services/allinone/src/allinone/dashboard/static/fonts"
)
FONT = "noto-sans-sc-chinese-simplified-400-normal.woff2"
TEAM_BOARD = """query($p: String!, $t: String!) {
  leaderboard(metric: "collected_revenue", period: $p, teamId: $t, limit: 50) {
    personId name actual target attainment } }"""

# Every CJK character on the page (or under a selector): is the shipped face loaded, and does
# each character draw as something other than the missing-glyph box? The box is what a code
# point no font has (U+E000, private use) draws as; a blank is what a space draws as.
GLYPHS = """async (selector) => {
  await document.fonts.ready;
  const text = [...document.querySelectorAll(selector)].map((n) => n.textContent).join("");
  const chars = [...new Set(text.match(/[\\u3400-\\u9fff\\uff00-\\uffef\\u3000-\\u303f]/g) || [])];
  await document.fonts.load('32px "Quotient CJK"', chars.join(""));
  const faces = [...document.fonts].filter((f) => f.family.replace(/["']/g, "") === "Quotient CJK");
  const canvas = document.createElement("canvas");
  canvas.width = 48;
  canvas.height = 48;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  const draw = (ch, family) => {
    ctx.clearRect(0, 0, 48, 48);
    ctx.font = `36px ${family}`;
    ctx.fillText(ch, 4, 38);
    return ctx.getImageData(0, 0, 48, 48).data.join(",");
  };
  const ours = '"Quotient CJK", sans-serif';
  // On the page itself: each visible text with CJK in it must be as wide as the same text set
  // with the shipped face first (a missing-glyph box has another width than a CJK glyph).
  const probe = document.createElement("span");
  probe.style.cssText = "position:absolute;left:-9999px;top:0;white-space:pre";
  document.body.append(probe);
  const walker = document.createTreeWalker(document.querySelector(selector), NodeFilter.SHOW_TEXT);
  const unlike = [];
  let checked = 0;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const owner = node.parentElement;
    if (!/[\\u3400-\\u9fff]/.test(node.textContent) || !owner || owner.closest("[hidden], option, script, title")) continue;
    if (owner.closest("svg")) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    const shown = range.getBoundingClientRect().width;
    if (!shown || range.getClientRects().length > 1) continue; // wrapped: widths do not compare
    const css = getComputedStyle(owner);
    probe.style.fontSize = css.fontSize;
    probe.style.fontWeight = css.fontWeight;
    probe.style.fontStyle = css.fontStyle;
    probe.style.fontFamily = `"Quotient CJK", ${css.fontFamily}`;
    probe.style.letterSpacing = css.letterSpacing;
    probe.style.textTransform = css.textTransform;
    probe.textContent = node.textContent.replace(/\\s+/g, " ");
    const range2 = document.createRange();
    range2.selectNodeContents(probe);
    checked += 1;
    if (Math.abs(range2.getBoundingClientRect().width - shown) > 1.5 && !/\\n/.test(node.textContent.trim())) {
      unlike.push([node.textContent.trim().slice(0, 30), shown, range2.getBoundingClientRect().width]);
    }
  }
  probe.remove();
  const box = draw("\\ue000", ours);
  const blank = draw(" ", ours);
  return {
    loaded: faces.map((f) => f.status),
    checked,
    unlike,
    check: document.fonts.check('16px "Quotient CJK"', chars.join("")),
    count: chars.length,
    missing: chars.filter((ch) => [box, blank].includes(draw(ch, ours))),
    // Without the shipped face (no CJK font on this machine) the same characters are boxes.
    without: chars.filter((ch) => [draw("\\ue000", "monospace"), blank].includes(draw(ch, "monospace"))).length,
  };
}"""


async def no_missing_glyphs(page: Page, selector: str = "body", at_least: int = 10) -> int:
    found: dict[str, Any] = await page.evaluate(GLYPHS, selector)
    assert "loaded" in found["loaded"] and found["check"], found
    assert found["count"] >= at_least, found
    assert found["missing"] == [], found
    assert found["checked"] >= 3 and found["unlike"] == [], found
    assert found["without"] == found["count"], found  # the machine has no CJK font: ours draws them
    return int(found["count"])


async def test_each_role_lands_on_its_view_in_chinese_and_english(
    database: DatabaseUrls, chromium: Path
) -> None:
    # The font the page ships is the package's file, byte for byte (fonts/README.md).
    data = (STATIC / FONT).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    assert digest == "95e3633b6a98f764ba3adfb54504a0cd4799328c009adf9081d6c1850f9c4c78"
    assert digest in (STATIC / "README.md").read_text() and (STATIC / "OFL.txt").exists()

    settings = make_settings(database)
    async with serve(settings) as base, httpx.AsyncClient(base_url=base, timeout=60) as client:
        demo = await seed_demo(client, settings)
        await stream_events(
            client, demo.source_id, demo.secret, demo.people, rate=0, count=0, backfill=400, seed=3
        )
        r = await client.get(f"/dashboard/fonts/{FONT}")
        assert r.status_code == 200 and r.content == data
        assert r.headers["content-type"] == "font/woff2"
        manager = {"Authorization": f"Bearer {demo.manager_token}"}
        team = next(t for t in demo.teams if t.manager_id == demo.manager_id)

        async def board_settled() -> list[dict[str, Any]]:
            rows = (await graphql(client, manager, TEAM_BOARD, p=demo.month, t=team.team_id))[
                "leaderboard"
            ]
            return rows if len(rows) >= 5 else []

        board = await eventually(board_settled, timeout=120, interval=1)
        finance_token = demo.token_for(settings, "p-1002")

        async with browser_context(
            chromium, locale="zh-CN", timezone_id=TIMEZONE, viewport=VIEWPORT
        ) as browser:
            expect.set_options(timeout=30_000)

            # --- the rep, in Chinese (the browser's language) ------------------------------
            page = await browser.new_page()
            errors = collect_errors(page)
            await page.goto(f"{base}/dashboard/#token={demo.rep_token}")
            await expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
            await expect(page.locator("body")).to_have_attribute("data-view", "rep")
            await expect(page.get_by_test_id("views")).to_be_hidden()  # one view: no tabs
            await expect(page.locator("#progress-h")).to_contain_text("我的进度")
            await expect(page.get_by_test_id("who-name")).to_have_text(
                demo.person(demo.rep_id).name
            )
            rows = page.get_by_test_id("leaderboard-row")
            await expect(rows.first).to_be_visible()
            await expect(page.get_by_test_id("pay-total")).to_have_text(_yuan())  # ¥, zh-CN
            await expect(page.get_by_test_id("live-status")).to_contain_text("实时")
            await no_missing_glyphs(page)
            await page.screenshot(path="/tmp/dashboard-rep-zh.png", full_page=True)
            assert not errors, errors

            # --- the manager, in Chinese: the team view ------------------------------------
            page = await browser.new_page()
            errors = collect_errors(page)
            await page.goto(f"{base}/dashboard/#token={demo.manager_token}")
            await expect(page.locator("body")).to_have_attribute("data-view", "manager")
            await expect(page.locator("#team-h")).to_contain_text("团队进度")
            await expect(page.locator("#team-name")).to_contain_text(team.name)
            behind = page.get_by_test_id("behind-row")
            with_targets = [b for b in board if b["target"] is not None]
            await expect(behind).to_have_count(len(with_targets))
            # Who is behind and by how much: furthest behind first, and each gap agrees with the
            # API (target × elapsed − actual, to the cent).
            gaps = await behind.evaluate_all(
                "rows => rows.map(r => [r.dataset.personId, r.dataset.gap])"
            )
            assert [Decimal(g) for _, g in gaps] == sorted(
                (Decimal(g) for _, g in gaps), reverse=True
            )
            context = (await client.get("/dashboard/api/context", headers=manager)).json()
            assert [t["team_id"] for t in context["teams"]] == [team.team_id]
            assert all("email" not in m for t in context["teams"] for m in t["members"])
            members = {m["person_id"]: m["name"] for m in context["teams"][0]["members"]}
            assert context["people"] == members  # a manager is told their team's names only
            elapsed = Decimal(context["periods"][0]["elapsed"])
            api = {b["personId"]: b for b in with_targets}
            for person, gap in gaps:
                want = Decimal(api[person]["target"]) * elapsed - Decimal(api[person]["actual"])
                # The page read the elapsed fraction moments earlier: a few minutes' pace at most.
                slack = Decimal(api[person]["target"]) / 10_000 + Decimal("0.01")
                assert abs(Decimal(gap) - want) <= slack, (person, gap, want)
            first_gap = Decimal(gaps[0][1])
            words = "落后" if first_gap > 0 else "领先"
            await expect(behind.first.get_by_test_id("behind-gap")).to_contain_text(words)
            await expect(behind.first.get_by_test_id("behind-gap")).to_contain_text("¥")
            await expect(
                page.get_by_test_id("attainment-bars").get_by_test_id("bar")
            ).to_have_count(len(with_targets))
            await expect(
                page.get_by_test_id("team-leaderboard").get_by_test_id("leaderboard-row")
            ).to_have_count(len(board))
            funnel = (
                await client.get(
                    "/v1/funnel",
                    params={"team_id": team.team_id, "period": demo.month},
                    headers=manager,
                )
            ).json()
            if any(stage["deals"] for stage in funnel["stages"]):
                stages = page.get_by_test_id("funnel-chart").get_by_test_id("funnel-stage")
                await expect(stages).to_have_count(len(funnel["stages"]))
                got = await stages.evaluate_all("g => g.map(s => Number(s.dataset.deals))")
                assert got == [stage["deals"] for stage in funnel["stages"]]
            else:
                await expect(page.locator("#funnel-empty")).to_be_visible()
            await expect(page.locator("#pending-h")).to_contain_text("待办评价与申诉")
            # Team alerts: the API's open alerts of the team, actionable first.
            alerts = (
                await client.get(
                    "/v1/alerts",
                    params={"team_id": team.team_id, "status": "active", "limit": "200"},
                    headers=manager,
                )
            ).json()
            shown = page.get_by_test_id("team-alerts").get_by_test_id("alert")
            await expect(shown).to_have_count(len(alerts))
            if alerts:
                order = await shown.evaluate_all(
                    "items => items.map(i => [i.dataset.status, i.dataset.evidence, i.dataset.severity])"
                )
                # Open first, then those asking for evidence, then the most severe.
                rank = {"critical": 0, "warning": 1, "info": 2}
                keys = [(s != "open", e != "true", rank[v]) for s, e, v in order]
                assert keys == sorted(keys), order
            await no_missing_glyphs(page, at_least=40)
            await page.screenshot(path="/tmp/dashboard-manager-zh.png", full_page=True)

            # The switch overrides the browser's language, and is remembered.
            await page.get_by_test_id("language-select").select_option("en")
            await expect(page.locator("html")).to_have_attribute("lang", "en")
            await expect(page.locator("#team-h")).to_contain_text("Team pace")
            await expect(page.locator("#pending-h")).to_contain_text("Pending reviews and appeals")
            assert await page.evaluate("localStorage.getItem('quotient.dashboard.lang')") == "en"
            await page.reload()
            await expect(page.locator("#team-h")).to_contain_text("Team pace")
            await expect(behind).to_have_count(len(with_targets))
            words = "behind by" if first_gap > 0 else "ahead by"
            await expect(behind.first.get_by_test_id("behind-gap")).to_contain_text(words)
            await no_missing_glyphs(page, at_least=10)  # the names and the team stay Chinese
            await page.screenshot(path="/tmp/dashboard-manager-en.png", full_page=True)
            # The manager also has their own view, one tab away.
            await page.locator('[data-testid="view-tab"][data-view="rep"]').click()
            await expect(page.locator("body")).to_have_attribute("data-view", "rep")
            await expect(page.locator("#progress-h")).to_contain_text("My progress")
            assert not errors, errors

            # --- finance, in English (remembered in this browser), then in Chinese -----------
            page = await browser.new_page()
            errors = collect_errors(page)
            await page.goto(f"{base}/dashboard/#token={finance_token}")
            await expect(page.locator("body")).to_have_attribute("data-view", "finance")
            await expect(page.locator("#finance-h")).to_contain_text("Statements of the period")
            finance_rows = page.get_by_test_id("finance-row")
            await expect(finance_rows.first).to_be_visible()
            listed = await finance_rows.evaluate_all("rows => rows.map(r => r.dataset.personId)")
            # People, by name: a plan assigned to a role lists the people with that role.
            assert listed and not any(p.startswith("role:") for p in listed), listed
            assert demo.rep_id in listed
            names = await page.get_by_test_id("finance-name").all_text_contents()
            assert demo.person(demo.rep_id).name in names
            assert demo.person("p-1000").name in names  # not in a team, named all the same
            await expect(page.get_by_test_id("live-status")).to_contain_text("alerts: live")
            first = finance_rows.first
            person = await first.get_attribute("data-person-id")
            await expect(first).to_have_attribute("data-status", "open")
            await first.get_by_test_id("prepare").click()
            row = page.locator(f'[data-testid="finance-row"][data-person-id="{person}"]')
            await expect(row).to_have_attribute("data-status", "draft")
            await expect(row).to_contain_text("someone else approves")
            await expect(page.get_by_test_id("finance-to-approve")).to_contain_text("1 to approve")
            await expect(page.get_by_test_id("finance-earned")).to_contain_text("¥")
            await page.get_by_test_id("language-select").select_option("zh-CN")
            await expect(page.locator("#finance-h")).to_contain_text("本期间薪酬单")
            await expect(page.get_by_test_id("finance-to-approve")).to_contain_text("1 份待审批")
            await expect(page.get_by_test_id("live-status")).to_contain_text("预警推送")
            await no_missing_glyphs(page, at_least=20)
            await page.screenshot(path="/tmp/dashboard-finance-zh.png", full_page=True)
            assert not errors, errors

            # An admin approves it (maker ≠ checker), then finance downloads the payroll export.
            page = await browser.new_page()
            errors = collect_errors(page)
            await page.goto(f"{base}/dashboard/#token={demo.admin_token}")
            await expect(page.locator("body")).to_have_attribute("data-view", "manager")
            await page.locator('[data-testid="view-tab"][data-view="finance"]').click()
            row = page.locator(f'[data-testid="finance-row"][data-person-id="{person}"]')
            await row.get_by_test_id("approve").click()
            await expect(row).to_have_attribute("data-status", "approved")
            async with page.expect_download() as info:
                await page.get_by_test_id("export-xlsx").click()
            download = await info.value
            assert download.suggested_filename == f"payroll-{demo.month}.xlsx"
            saved = Path("/tmp") / download.suggested_filename
            await download.save_as(saved)
            from openpyxl import load_workbook

            sheet = load_workbook(saved)[f"Payroll {demo.month}"]
            names = {r[1] for r in sheet.iter_rows(min_row=2, values_only=True)}
            assert names == {demo.person(person or "").name}
            await page.get_by_test_id("language-select").select_option("en")
            await expect(row).to_contain_text("approved")  # re-rendered in English
            await expect(row.get_by_test_id("mark-paid")).to_have_text("Mark paid")
            await expect(page.get_by_test_id("last-updated")).not_to_have_text("never")
            await page.screenshot(path="/tmp/dashboard-finance-en.png", full_page=True)
            assert not errors, errors

        async with browser_context(
            chromium, locale="en-US", timezone_id=TIMEZONE, viewport=VIEWPORT
        ) as browser:
            page = await browser.new_page()
            await page.goto(f"{base}/dashboard/#token={demo.rep_token}")
            await expect(page.locator("html")).to_have_attribute("lang", "en")
            await expect(page.locator("#progress-h")).to_contain_text("My progress")
            await expect(page.get_by_test_id("leaderboard-row").first).to_be_visible()
            await no_missing_glyphs(page)
            await page.screenshot(path="/tmp/dashboard-rep-en.png", full_page=True)


def _yuan() -> Any:
    import re

    return re.compile(r"^¥[\d,]+\.\d{2}$")
