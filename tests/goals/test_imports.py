"""HR lives in spreadsheets: teams, people and targets imported from CSV and XLSX. Errors name the
row and column; a file with any bad row changes nothing."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

from openpyxl import Workbook

from allinone.app import create_app
from shared.db.bootstrap import DatabaseUrls
from tests.helpers import (
    activity,
    auth,
    create_tenant_and_source,
    eventually,
    make_settings,
    running,
    signed,
)

CSV = {"content-type": "text/csv"}
XLSX = {"content-type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def test_import_teams_people_and_targets(database: DatabaseUrls) -> None:
    settings = make_settings(database)
    async with running(create_app(settings)) as client:
        tenant, source = await create_tenant_and_source(client, settings)
        hr = auth(settings, tenant, "hr")
        teams = "team_id,name,parent_team_id,manager_id\neast,East,,m-east\neast-a,East A,east,m-a\nwest,West,,m-west\n"
        r = await client.post("/v1/imports/teams", content=teams.encode(), headers=hr | CSV)
        assert r.status_code == 200, r.text
        assert r.json() == {"rows": 3, "created": 3, "updated": 0, "dry_run": False}

        people = xlsx(
            [
                ["Person ID", "Name", "Role", "Manager ID", "Active From", "Active To", "Team ID"],
                ["m-east", "王经理", "regional_manager", None, date(2025, 1, 1), None, "east"],
                ["p-1", "张伟", "new_business_rep", "m-east", date(2026, 1, 1), None, "east-a"],
                [
                    "p-2",
                    "李娜",
                    "account_manager",
                    "m-east",
                    date(2026, 2, 1),
                    date(2026, 2, 28),
                    "west",
                ],
            ]
        )
        r = await client.post("/v1/imports/people", content=people, headers=hr | XLSX)
        assert r.status_code == 200, r.text
        assert (r.json()["rows"], r.json()["created"]) == (3, 3)
        listed = {
            p["person_id"]: p for p in (await client.get("/v1/org/people", headers=hr)).json()
        }
        assert listed["p-1"]["name"] == "张伟" and listed["p-2"]["active_to"] == "2026-02-28"
        assert listed["p-1"]["manager_id"] == "m-east"

        # the imported memberships credit teams: p-1's payment counts for East A and East
        body, headers = signed(
            source["secret"],
            [
                activity(
                    "e-1", actor="p-1", amount="500.00", occurred_at="2026-02-10T10:00:00+08:00"
                )
            ],
        )
        assert (
            await client.post(f"/v1/webhooks/{source['source_id']}", content=body, headers=headers)
        ).status_code == 207

        async def team_total() -> bool:
            r = await client.get(
                "/v1/totals", params={"team_id": "east", "period": "2026-02"}, headers=hr
            )
            return any(
                t["metric"] == "collected_revenue" and Decimal(t["actual"]) == 500 for t in r.json()
            )

        await eventually(team_total)

        targets = (
            "metric,owner_kind,owner_id,period,target,reason\n"
            'collected_revenue,person,p-1,2026-02,"1,000",plan\n'
            "collected_revenue,person,p-2,2026-02,1000,plan\n"
            "collected_revenue,team,east,2026-Q1,30000,plan\n"
            "visits,company,,2026,1200,plan\n"
        )
        r = await client.post("/v1/imports/targets", content=targets.encode(), headers=hr | CSV)
        assert r.status_code == 200, r.text
        assert r.json()["created"] == 4
        r = await client.get(
            "/v1/goals",
            params={"owner_kind": "person", "owner_id": "p-1", "period": "2026-02"},
            headers=hr,
        )
        (g,) = r.json()
        assert (Decimal(g["target"]), Decimal(g["actual"]), Decimal(g["attainment"])) == (
            Decimal(1000),
            Decimal(500),
            Decimal("0.5"),
        )
        # p-2 was active 1–28 February only: the whole month, so no proration
        r = await client.get(
            "/v1/goals",
            params={"owner_kind": "person", "owner_id": "p-2", "period": "2026-02"},
            headers=hr,
        )
        assert Decimal(r.json()[0]["effective_target"]) == Decimal(1000)
        # a leaver's target prorates by active days: p-2 left on 14 February
        fix = "person_id,name,role,active_from,active_to\np-2,李娜,account_manager,2026-02-01,2026-02-14\n"
        assert (
            await client.post("/v1/imports/people", content=fix.encode(), headers=hr | CSV)
        ).status_code == 200
        r = await client.get(
            "/v1/goals",
            params={"owner_kind": "person", "owner_id": "p-2", "period": "2026-02"},
            headers=hr,
        )
        assert (
            Decimal(r.json()[0]["effective_target"]) == Decimal(500)
            and r.json()[0]["active_days"] == 14
        )


async def test_a_file_with_bad_rows_changes_nothing(database: DatabaseUrls) -> None:
    settings = make_settings(database)
    async with running(create_app(settings)) as client:
        tenant, _source = await create_tenant_and_source(client, settings)
        hr = auth(settings, tenant, "hr")
        teams = "team_id,name\neast,East\n"
        assert (
            await client.post("/v1/imports/teams", content=teams.encode(), headers=hr | CSV)
        ).status_code == 200
        people = (
            "person_id,name,role,team_id,active_from,active_to\n"
            "p-1,Ann,new_business_rep,east,2026-01-01,\n"
            "p-2,Bob,wizard,east,2026-01-01,\n"
            "p-3,Cid,sales_rep,north,2026-03-01,2026-02-01\n"
            "p-1,Ann again,sales_rep,east,,\n"
        )
        r = await client.post("/v1/imports/people", content=people.encode(), headers=hr | CSV)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        found = {(e["row"], e["column"]) for e in r.json()["errors"]}
        assert found == {(3, "role"), (4, "team_id"), (4, "active_to"), (5, "person_id")}, r.json()
        assert (await client.get("/v1/org/people", headers=hr)).json() == []  # not even p-1

        targets = xlsx(
            [
                ["metric", "owner_id", "period", "target"],
                ["collected_revenue", "p-1", "2026-03", 1000],
                ["no_such_metric", "p-1", "2026-03", 1000],
                ["collected_revenue", "p-1", "2026-Q5", 1000],
                ["visits", "p-1", "2026-03", "abc"],
            ]
        )
        r = await client.post("/v1/imports/targets", content=targets, headers=hr | XLSX)
        assert r.status_code == 422
        found = {(e["row"], e["column"]) for e in r.json()["errors"]}
        assert found == {(3, "metric"), (4, "period"), (5, "target")}, r.json()
        r = await client.get(
            "/v1/goals",
            params={"owner_kind": "person", "owner_id": "p-1", "period": "2026-03"},
            headers=hr,
        )
        assert r.json() == []
        # a dry run checks a good file without applying it
        good = "metric,owner_id,period,target\ncollected_revenue,p-1,2026-03,1000\n"
        r = await client.post(
            "/v1/imports/targets?dry_run=true", content=good.encode(), headers=hr | CSV
        )
        assert r.status_code == 200 and r.json()["dry_run"] is True
        r = await client.get(
            "/v1/goals",
            params={"owner_kind": "person", "owner_id": "p-1", "period": "2026-03"},
            headers=hr,
        )
        assert r.json() == []
        # not a spreadsheet at all
        r = await client.post("/v1/imports/targets", content=b"\x00\x01binary", headers=hr | CSV)
        assert r.status_code == 422
        # only admin / hr import
        r = await client.post(
            "/v1/imports/targets",
            content=good.encode(),
            headers=auth(settings, tenant, "rep") | CSV,
        )
        assert r.status_code == 403
