"""The KPI catalog: standard metrics and role templates shipped as data, editable per tenant; a
changed definition re-derives the figures from the recorded activities."""

from __future__ import annotations

from decimal import Decimal

from allinone.app import create_app
from goals.catalog.seeds import ROLE_TEMPLATES
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


async def test_metrics_and_templates_are_editable_per_tenant(database: DatabaseUrls) -> None:
    settings = make_settings(database)
    async with running(create_app(settings)) as client:
        tenant, source = await create_tenant_and_source(client, settings)
        admin = auth(settings, tenant, "admin")
        rep = auth(settings, tenant, "rep", subject="p-1")
        listed = {
            m["definition"]["key"]: m for m in (await client.get("/v1/metrics", headers=rep)).json()
        }
        assert (
            listed["collected_revenue"]["origin"] == "standard"
            and listed["collected_revenue"]["additive"]
        )
        assert (
            listed["collection_rate"]["definition"]["kind"] == "rate"
            and not listed["collection_rate"]["additive"]
        )
        assert "visit.count" not in listed
        r = await client.get("/v1/metrics", params={"include_builtin": "true"}, headers=rep)
        assert any(
            m["definition"]["key"] == "visit.count" and m["origin"] == "builtin" for m in r.json()
        )

        events = [
            activity("v-1", type="visit", amount=None, attributes={"duration_minutes": 45}),
            activity("v-2", type="visit", amount=None, attributes={"duration_minutes": 90}),
            activity("p-1", amount="500.00"),
            activity("p-2", amount="5000.00"),
        ]
        body, headers = signed(source["secret"], events)
        assert (
            await client.post(f"/v1/webhooks/{source['source_id']}", content=body, headers=headers)
        ).status_code == 207

        async def figures() -> dict[str, Decimal]:
            r = await client.get(
                "/v1/totals", params={"person_id": "p-1", "month": "2026-03"}, headers=rep
            )
            got = {t["metric"]: Decimal(t["actual"]) for t in r.json() if t["actual"] is not None}
            assert got.get("collected_revenue") == 5500, got
            return got

        assert (await eventually(figures))["effective_visits"] == 2
        # the tenant's own metric counts the history it already has
        big = {
            "name": "Big payments",
            "kind": "count",
            "event_types": ["payment_received"],
            "filters": [{"field": "amount.value", "op": "gte", "value": 1000}],
        }
        r = await client.put("/v1/metrics/big_payments", json=big, headers=admin)
        assert r.status_code == 200 and r.json()["origin"] == "tenant", r.text
        # an override of a standard metric re-derives the past: effective visits now ≥ 60 minutes
        stricter = listed["effective_visits"]["definition"] | {
            "filters": [{"field": "attributes.duration_minutes", "op": "gte", "value": 60}]
        }
        stricter.pop("key")
        r = await client.put("/v1/metrics/effective_visits", json=stricter, headers=admin)
        assert r.status_code == 200 and r.json()["origin"] == "override"
        got = await figures()
        assert (got["big_payments"], got["effective_visits"]) == (1, 1)
        # bad definitions name the field
        r = await client.put(
            "/v1/metrics/odd",
            json={"name": "x", "kind": "ratio", "numerator": "nope", "denominator": "visits"},
            headers=admin,
        )
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "numerator"
        r = await client.put(
            "/v1/metrics/loop",
            json={"name": "x", "kind": "ratio", "numerator": "loop", "denominator": "visits"},
            headers=admin,
        )
        assert r.status_code == 422
        r = await client.put(
            "/v1/metrics/odd",
            json={
                "name": "x",
                "kind": "sum",
                "event_types": ["payment_received"],
                "filters": [{"field": "nonsense"}],
            },
            headers=admin,
        )
        assert r.status_code == 422 and "filters" in r.json()["errors"][0]["field"]
        r = await client.put("/v1/metrics/visit.count", json=big, headers=admin)
        assert r.status_code == 422
        assert (await client.put("/v1/metrics/mine", json=big, headers=rep)).status_code == 403
        # switching off: refused while a goal uses it
        goal = {"metric": "big_payments", "owner_kind": "company", "period": "2026", "target": "10"}
        assert (await client.post("/v1/goals", json=goal, headers=admin)).status_code == 200
        assert (await client.delete("/v1/metrics/big_payments", headers=admin)).status_code == 409
        assert (await client.delete("/v1/metrics/deals_won", headers=admin)).status_code == 204
        keys = {
            m["definition"]["key"] for m in (await client.get("/v1/metrics", headers=rep)).json()
        }
        assert "deals_won" not in keys and "big_payments" in keys

        # templates: the five role templates of the spec, each adding up to 100
        r = await client.get("/v1/templates", headers=rep)
        standard = {t["key"]: t for t in r.json() if t["origin"] == "standard"}
        assert set(standard) == set(ROLE_TEMPLATES)
        for t in standard.values():
            assert sum(Decimal(str(i["weight"])) for i in t["items"]) == 100
        assert Decimal(standard["new_business_rep"]["quantitative_share"]) == 88
        r = await client.post("/v1/templates/new_business_rep/copy", headers=admin)
        assert r.status_code == 201 and r.json()["origin"] == "tenant"
        items = r.json()["items"]
        items[0]["weight"] = 20  # 90 in all
        r = await client.put(
            "/v1/templates/new_business_rep", json={"name": "NB rep", "items": items}, headers=admin
        )
        assert r.status_code == 422 and "100" in r.text
        items[1]["weight"] = 35
        r = await client.put(
            "/v1/templates/new_business_rep", json={"name": "NB rep", "items": items}, headers=admin
        )
        assert r.status_code == 200 and r.json()["copied_from"] == "new_business_rep"
        mine = [
            t
            for t in (await client.get("/v1/templates", headers=rep)).json()
            if t["origin"] == "tenant"
        ]
        assert [t["name"] for t in mine] == ["NB rep"]
