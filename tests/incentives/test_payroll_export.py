"""Payroll exports that read well (issue 18): each row names the person (name and id, as goals
announced them on goals.org.v1), their team, the period, the component, the amount and the
currency; the XLSX has a named sheet, money formats, a bold frozen header and fitted widths."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import httpx
from openpyxl import load_workbook

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

PEOPLE = {
    "p-zhang": ("张伟", "east", "180000.00"),
    "p-ada": ("Ada Lovelace", "north", "45000.50"),
}
TEAMS = {"east": "华东区 East", "north": "North"}


async def ok(response: httpx.Response, *codes: int) -> Any:
    assert response.status_code in codes, f"{response.request.url}: {response.text}"
    return response.json() if response.content else None


async def test_payroll_exports_name_people_and_teams_with_money_formats(
    database: DatabaseUrls,
) -> None:
    settings = make_settings(database)
    async with running(create_app(settings)) as client:
        tenant, source = await create_tenant_and_source(client, settings, timezone="Asia/Shanghai")
        hr = auth(settings, tenant, "hr", subject="hr-1")
        admin = auth(settings, tenant, "admin", subject="admin-1")
        finance = auth(settings, tenant, "finance", subject="fin-1")
        for team, name in TEAMS.items():
            await ok(
                await client.put(f"/v1/org/teams/{team}", json={"name": name}, headers=hr), 204
            )
        for person, (name, team, _) in PEOPLE.items():
            body = {
                "name": name,
                "role": "sales_rep",
                "team_id": team,
                "active_from": "2026-01-01",
            }
            await ok(await client.put(f"/v1/org/people/{person}", json=body, headers=hr), 200)
        plan = {
            "name": "Field sales",
            "effective_from": "2026-01-01",
            "components": [
                {"type": "flat", "rate": "0.05", "name": "commission"},
                {"type": "fixed_bonus", "amount": "1000", "name": "monthly bonus"},
            ],
        }
        await ok(await client.put("/v1/plans/field", json=plan, headers=finance), 201)
        assign = {"person_ids": list(PEOPLE), "valid_from": "2026-01-01"}
        await ok(await client.post("/v1/plans/field/assign", json=assign, headers=finance), 204)
        events = [
            activity(f"{p}-pay", actor=p, amount=amount, occurred_at="2026-03-05T10:00:00+08:00")
            for p, (_, _, amount) in PEOPLE.items()
        ]
        body, headers = signed(source["secret"], events)
        r = await client.post(f"/v1/webhooks/{source['source_id']}", content=body, headers=headers)
        assert r.status_code == 207, r.text

        async def settled() -> bool:
            r = await client.get(
                "/v1/statements",
                params={"person_id": "p-zhang", "period": "2026-03"},
                headers=finance,
            )
            return r.status_code == 200 and r.json()["total"] == "10000.00"  # 9,000 + 1,000

        await eventually(settled)
        for person in PEOPLE:
            prepared = await ok(
                await client.post(
                    "/v1/statements/prepare",
                    json={"person_id": person, "period": "2026-03"},
                    headers=finance,
                ),
                201,
            )
            await ok(
                await client.post(
                    f"/v1/statements/{prepared['statement_id']}/approve", headers=admin
                ),
                200,
            )

        expected = [
            ["p-ada", "Ada Lovelace", "north", "North", "2026-03", "approved", "commission",
             "2250.03", "CNY", "3250.03"],
            ["p-ada", "Ada Lovelace", "north", "North", "2026-03", "approved", "monthly bonus",
             "1000.00", "CNY", "3250.03"],
            ["p-zhang", "张伟", "east", "华东区 East", "2026-03", "approved", "commission",
             "9000.00", "CNY", "10000.00"],
            ["p-zhang", "张伟", "east", "华东区 East", "2026-03", "approved", "monthly bonus",
             "1000.00", "CNY", "10000.00"],
        ]  # fmt: skip

        r = await client.get("/v1/statements/export", params={"period": "2026-03"}, headers=finance)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        assert 'filename="payroll-2026-03.csv"' in r.headers["content-disposition"]
        rows = list(csv.reader(io.StringIO(r.content.decode("utf-8"))))
        assert rows[0] == [
            "person_id", "person_name", "team_id", "team_name", "period", "status",
            "component", "amount", "currency", "statement_total",
        ]  # fmt: skip
        assert rows[1:] == expected

        r = await client.get(
            "/v1/statements/export", params={"period": "2026-03", "format": "xlsx"}, headers=finance
        )
        assert r.status_code == 200, r.text
        assert 'filename="payroll-2026-03.xlsx"' in r.headers["content-disposition"]
        book = load_workbook(io.BytesIO(r.content))
        assert book.sheetnames == ["Payroll 2026-03"]
        sheet = book["Payroll 2026-03"]
        values = [list(row) for row in sheet.iter_rows(values_only=True)]
        assert values[0] == rows[0]
        # Money is a number (not text) in a two-decimal thousands format; the rest is text.
        for got, want in zip(values[1:], expected, strict=True):
            assert [*got[:7], got[8]] == [*want[:7], want[8]]
            assert isinstance(got[7], int | float) and Decimal(str(got[7])) == Decimal(want[7])
            assert Decimal(str(got[9])) == Decimal(want[9])
        for row in sheet.iter_rows(min_row=2):
            assert row[7].number_format == "#,##0.00" and row[9].number_format == "#,##0.00"
            assert row[0].number_format == "General"
        # A bold header, frozen above the rows, with a filter over the table.
        assert all(cell.font.bold for cell in sheet[1])
        assert not any(cell.font.bold for cell in sheet[2])
        assert sheet.freeze_panes == "A2"
        assert sheet.auto_filter.ref == "A1:J5"
        # Widths fit what the cells hold (a CJK character counts double), within reason.
        widths = {c: sheet.column_dimensions[c].width for c in "ABCDEFGHIJ"}
        assert widths["B"] >= len("Ada Lovelace") + 1  # person_name
        assert widths["D"] >= len("华东区 East") + 3 + 1  # three wide characters
        assert widths["G"] >= len("monthly bonus") + 1
        assert widths["J"] >= len("statement_total") + 1
        assert all(8 <= w <= 62 for w in widths.values()), widths

        # Without approved statements the export is a header alone (and still well formed).
        r = await client.get(
            "/v1/statements/export", params={"period": "2026-04", "format": "xlsx"}, headers=finance
        )
        empty = load_workbook(io.BytesIO(r.content))["Payroll 2026-04"]
        assert [list(row) for row in empty.iter_rows(values_only=True)] == [values[0]]
        # A rep may not export payroll.
        rep = auth(settings, tenant, "rep", subject="p-ada")
        r = await client.get("/v1/statements/export", params={"period": "2026-03"}, headers=rep)
        assert r.status_code == 403
