"""A CRM correction of a payment reaches pay as it reaches the goal totals: the latest correction
(by when it happened in the CRM) replaces the payment's credits or removes them, an older one is
ignored, one that arrives before its original waits for it — the statement's base always equals
the person's collected revenue."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

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


def updated(fix: str, of: str, at: str, **replacement: Any) -> dict[str, Any]:
    return activity(
        fix,
        type="record_updated",
        amount=None,
        refers_to=of,
        occurred_at=at,
        attributes={"replacement": activity(of, **replacement)},
    )


def deleted(fix: str, of: str, at: str) -> dict[str, Any]:
    return activity(fix, type="record_deleted", amount=None, refers_to=of, occurred_at=at)


async def test_corrections_of_payments_move_pay_like_the_totals(database: DatabaseUrls) -> None:
    settings = make_settings(database)
    async with running(create_app(settings)) as client:
        tenant, source = await create_tenant_and_source(client, settings)
        finance = auth(settings, tenant, "finance")
        admin = auth(settings, tenant, "admin")
        flat = {
            "name": "reps",
            "effective_from": "2026-01-01",
            "components": [{"type": "flat", "rate": "0.05", "name": "commission"}],
        }
        assert (await client.put("/v1/plans/reps", json=flat, headers=finance)).status_code == 201
        body = {"person_ids": ["p-1", "p-2"], "valid_from": "2026-01-01"}
        assert (
            await client.post("/v1/plans/reps/assign", json=body, headers=finance)
        ).status_code == 204

        async def post(*events: dict[str, Any]) -> None:
            body, headers = signed(source["secret"], list(events))
            r = await client.post(
                f"/v1/webhooks/{source['source_id']}", content=body, headers=headers
            )
            assert r.status_code == 207, r.text
            assert all(x["status"] == "accepted" for x in r.json()["results"]), r.text

        async def pay_and_total(person: str) -> tuple[str, str, Decimal]:
            r = await client.get(
                "/v1/statements", params={"person_id": person, "period": "2026-03"}, headers=finance
            )
            assert r.status_code == 200, r.text
            t = await client.get(
                "/v1/totals", params={"person_id": person, "month": "2026-03"}, headers=admin
            )
            revenue = {x["metric"]: Decimal(x["actual"]) for x in t.json()}.get(
                "collected_revenue", Decimal(0)
            )
            return r.json()["base"], r.json()["total"], revenue

        async def settles(person: str, base: str, total: str) -> None:
            async def check() -> bool:
                got = await pay_and_total(person)
                assert got == (base, total, Decimal(base)), got
                return True

            await eventually(check)

        march = "2026-03-{:02d}T10:00:00+08:00".format
        await post(
            activity("pay-a", amount="1000.00", occurred_at=march(5)),
            activity("pay-b", amount="2000.00", occurred_at=march(10)),
        )
        await settles("p-1", "3000.00", "150.00")

        # The amount of pay-a corrected in the CRM.
        await post(updated("fix-a1", "pay-a", march(20), amount="1500.00", occurred_at=march(5)))
        await settles("p-1", "3500.00", "175.00")
        # An older correction arriving late changes nothing: the latest wins.
        await post(updated("fix-a0", "pay-a", march(15), amount="9999.00", occurred_at=march(5)))
        # pay-b deleted in the CRM.
        await post(deleted("del-b", "pay-b", march(21)))
        await settles("p-1", "1500.00", "75.00")

        # A correction that arrives before its original waits for it, then decides it.
        await post(updated("fix-c", "pay-c", march(22), amount="700.00", occurred_at=march(12)))
        await post(activity("pay-c", amount="400.00", occurred_at=march(12)))
        await settles("p-1", "2200.00", "110.00")

        # A correction that credits the payment to someone else moves the pay with it.
        await post(
            updated(
                "fix-a2", "pay-a", march(25), actor="p-2", amount="1500.00", occurred_at=march(5)
            )
        )
        await settles("p-1", "700.00", "35.00")
        await settles("p-2", "1500.00", "75.00")
        # A deleted record restored by a later correction counts again.
        await post(updated("fix-b", "pay-b", march(26), amount="2000.00", occurred_at=march(10)))
        await settles("p-1", "2700.00", "135.00")
