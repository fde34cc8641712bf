"""Each CRM's real delivery shape, authenticated its own way, through the public API: accepted
deliveries become canonical events (actors through aliases), duplicates count once, wrong
authentication stores nothing, unmappable items are quarantined and replayed once fixed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from decimal import Decimal
from typing import Any

import httpx

from allinone.app import create_app
from shared.db.bootstrap import DatabaseUrls
from shared.settings import BaseServiceSettings
from tests.helpers import auth, create_tenant_and_source, eventually, make_settings, running, signed

ORG = "00D5e000000AbCdEAK"
SOAP = """<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>{org}</OrganizationId>
   <ActionId>04k5e000000XyZaAAK</ActionId>
   <SessionId xsi:nil="true"/>
   <EnterpriseUrl>https://example.my.salesforce.com/services/Soap/c/60.0/00D5e000000AbCd</EnterpriseUrl>
   <PartnerUrl>https://example.my.salesforce.com/services/Soap/u/60.0/00D5e000000AbCd</PartnerUrl>
   <Notification>
    <Id>04l5e00000ABCDEAA1</Id>
    <sObject xsi:type="sf:Opportunity" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
     <sf:Id>0065e00000QwErTAAZ</sf:Id>
     <sf:Amount>120000.0</sf:Amount>
     <sf:StageName>Closed Won</sf:StageName>
     <sf:IsWon>true</sf:IsWon>
     <sf:CloseDate>2026-03-05</sf:CloseDate>
     <sf:OwnerId>0055e000001RepAAA</sf:OwnerId>
     <sf:AccountId>0015e00000AccAAA</sf:AccountId>
    </sObject>
   </Notification>
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>"""


async def source_of(
    client: httpx.AsyncClient, admin: dict[str, str], **body: Any
) -> dict[str, Any]:
    r = await client.post("/v1/sources", json=body, headers=admin)
    assert r.status_code == 201, r.text
    return r.json()


async def person_with_alias(
    client: httpx.AsyncClient, admin: dict[str, str], source: dict[str, Any], alias: str
) -> None:
    r = await client.put(
        "/v1/org/people/p-1", json={"name": "Ann", "role": "sales_rep"}, headers=admin
    )
    assert r.status_code == 200
    r = await client.put(
        f"/v1/sources/{source['source_id']}/aliases/{alias}",
        json={"person_id": "p-1"},
        headers=admin,
    )
    assert r.status_code == 200


async def deals_won(
    client: httpx.AsyncClient, admin: dict[str, str], month: str = "2026-03"
) -> dict[str, Decimal]:
    r = await client.get("/v1/totals", params={"person_id": "p-1", "month": month}, headers=admin)
    return {t["metric"]: Decimal(t["actual"]) for t in r.json() if t["actual"] is not None}


def hubspot_headers(
    settings: BaseServiceSettings, secret: str, path: str, body: bytes, *, skew_ms: int = 0
) -> dict[str, str]:
    timestamp = str(int(time.time() * 1000) + skew_ms)
    uri = f"{settings.public_base_url.rstrip('/')}{path}"
    digest = hmac.new(
        secret.encode(), b"POST" + uri.encode() + body + timestamp.encode(), hashlib.sha256
    ).digest()
    return {
        "content-type": "application/json",
        "x-hubspot-signature-v3": base64.b64encode(digest).decode(),
        "x-hubspot-request-timestamp": timestamp,
    }


async def test_hubspot(database: DatabaseUrls) -> None:
    settings = make_settings(database)
    async with running(create_app(settings)) as client:
        tenant, _ = await create_tenant_and_source(client, settings)
        admin = auth(settings, tenant, "admin")
        secret = "hubspot-app-secret-1"
        source = await source_of(client, admin, kind="hubspot", name="HubSpot", secret=secret)
        await person_with_alias(client, admin, source, "501")
        path = f"/v1/webhooks/{source['source_id']}"
        owner = [
            {
                "eventId": 1000,
                "subscriptionId": 79,
                "portalId": 62515,
                "appId": 4321,
                "occurredAt": 1772620700000,
                "subscriptionType": "deal.propertyChange",
                "attemptNumber": 0,
                "objectId": 9001,
                "propertyName": "hubspot_owner_id",
                "propertyValue": "501",
                "changeSource": "CRM_UI",
            }
        ]
        body = json.dumps(owner).encode()
        r = await client.post(
            path, content=body, headers=hubspot_headers(settings, secret, path, body)
        )
        assert r.status_code == 207 and r.json()["ignored"] == 1, r.text
        example = [
            {
                "eventId": 1001,
                "subscriptionId": 77,
                "portalId": 62515,
                "appId": 4321,
                "occurredAt": 1772620800000,
                "subscriptionType": "deal.propertyChange",
                "attemptNumber": 0,
                "objectId": 9001,
                "propertyName": "dealstage",
                "propertyValue": "closedwon",
                "changeSource": "CRM_UI",
            },
            {
                "eventId": 1002,
                "subscriptionId": 78,
                "portalId": 62515,
                "appId": 4321,
                "occurredAt": 1772620860000,
                "subscriptionType": "deal.propertyChange",
                "attemptNumber": 0,
                "objectId": 9001,
                "propertyName": "amount",
                "propertyValue": "50000",
                "changeSource": "CRM_UI",
            },
            {
                "eventId": 1003,
                "subscriptionId": 77,
                "portalId": 62515,
                "appId": 4321,
                "occurredAt": 1772620900000,
                "subscriptionType": "deal.propertyChange",
                "attemptNumber": 0,
                "propertyName": "dealstage",
                "propertyValue": "closedwon",
            },  # no objectId: quarantined
        ]
        body = json.dumps(example).encode()
        # wrong secret, tampered body, timestamps 301 s off: refused, nothing stored
        for headers, content in (
            (hubspot_headers(settings, "wrong-secret", path, body), body),
            (hubspot_headers(settings, secret, path, body), body.replace(b"50000", b"90000")),
            (hubspot_headers(settings, secret, path, body, skew_ms=-301_000), body),
            (hubspot_headers(settings, secret, path, body, skew_ms=301_000), body),
        ):
            assert (await client.post(path, content=content, headers=headers)).status_code == 401
        assert (await client.get("/v1/quarantine", headers=admin)).json() == []
        for _ in range(3):  # delivered three times: one event
            r = await client.post(
                path, content=body, headers=hubspot_headers(settings, secret, path, body)
            )
            assert r.status_code == 207, r.text
        statuses = [x["status"] for x in r.json()["results"]]
        assert statuses == ["duplicate", "ignored", "unmappable"]
        quarantined = (await client.get("/v1/quarantine", headers=admin)).json()
        assert {q["reason"] for q in quarantined} == {"unmappable"} and len(quarantined) == 3

        async def won() -> bool:
            return (await deals_won(client, admin)).get("deals_won") == 1

        await eventually(won)


async def test_salesforce(database: DatabaseUrls) -> None:
    settings = make_settings(database)
    async with running(create_app(settings)) as client:
        tenant, _ = await create_tenant_and_source(client, settings)
        admin = auth(settings, tenant, "admin")
        source = await source_of(
            client, admin, kind="salesforce", name="SF", settings={"organization_id": ORG[:15]}
        )
        await person_with_alias(client, admin, source, "0055e000001RepAAA")
        url = source["webhook_url"].removeprefix(settings.public_base_url.rstrip("/"))
        body = SOAP.format(org=ORG).encode()
        xml = {"content-type": "text/xml; charset=utf-8"}
        assert (
            await client.post(url.rsplit("/", 1)[0] + "/wrong-token", content=body, headers=xml)
        ).status_code == 401
        wrong_org = SOAP.format(org="00D5e000000ZzZzEAK").encode()
        assert (await client.post(url, content=wrong_org, headers=xml)).status_code == 401
        for _ in range(2):
            r = await client.post(url, content=body, headers=xml)
            assert r.status_code == 200 and b"<Ack>true</Ack>" in r.content, r.text

        async def won() -> bool:
            got = await deals_won(client, admin)
            return got.get("deals_won") == 1 and got.get("deal_won.count") == 1

        await eventually(won)
        assert (await client.get("/v1/quarantine", headers=admin)).json() == []
        # The sources are listed without their secrets (the Salesforce path token included).
        r = await client.get("/v1/sources", headers=admin)
        assert r.status_code == 200, r.text
        listed = {x["source_id"]: x for x in r.json()}
        assert [x["kind"] for x in r.json()] == ["generic", "salesforce"]
        sf = listed[source["source_id"]]
        assert sf["name"] == "SF" and sf["webhook_url"].endswith("/{token}")
        assert source["secret"] not in r.text and "secret" not in sf
        rep = auth(settings, tenant, "rep", subject="p-1")
        assert (await client.get("/v1/sources", headers=rep)).status_code == 403


async def test_pipedrive(database: DatabaseUrls) -> None:
    settings = make_settings(database)
    async with running(create_app(settings)) as client:
        tenant, _ = await create_tenant_and_source(client, settings)
        admin = auth(settings, tenant, "admin")
        source = await source_of(
            client, admin, kind="pipedrive", name="PD", settings={"basic_user": "crm"}
        )
        await person_with_alias(client, admin, source, "345")
        payload = {
            "meta": {
                "action": "change",
                "entity": "deal",
                "entity_id": "4711",
                "company_id": "9012",
                "user_id": "345",
                "timestamp": "2026-03-05T10:00:00Z",
                "attempt": 1,
                "change_source": "app",
                "webhook_id": "88",
                "is_bulk_edit": False,
            },
            "data": {
                "id": 4711,
                "title": "ACME renewal",
                "value": 50000,
                "currency": "CNY",
                "status": "won",
                "owner_id": 345,
                "org_id": 12,
                "won_time": "2026-03-05T09:59:12Z",
                "custom_fields": {},
            },
            "previous": {"status": "open"},
        }
        path = f"/v1/webhooks/{source['source_id']}"

        def basic(user: str, password: str) -> dict[str, str]:
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            return {"authorization": f"Basic {token}", "content-type": "application/json"}

        assert (
            await client.post(path, json=payload, headers=basic("crm", "nope"))
        ).status_code == 401
        assert (
            await client.post(path, json=payload, headers={"content-type": "application/json"})
        ).status_code == 401
        assert (await client.get("/v1/quarantine", headers=admin)).json() == []  # nothing stored
        for attempt in (1, 2, 3):  # retried deliveries: one event
            payload["meta"]["attempt"] = attempt  # type: ignore[index]
            r = await client.post(path, json=payload, headers=basic("crm", source["secret"]))
            assert r.status_code == 207, r.text

        async def won() -> bool:
            return (await deals_won(client, admin)).get("deal_won.amount") == 50000

        await eventually(won)
        assert (await deals_won(client, admin))["deal_won.count"] == 1


async def test_a_tenant_mapping_from_test_to_replay(database: DatabaseUrls) -> None:
    settings = make_settings(database)
    async with running(create_app(settings)) as client:
        tenant, _ = await create_tenant_and_source(client, settings)
        admin = auth(settings, tenant, "admin")
        source = await source_of(client, admin, kind="mapping", name="纷享销客")
        mapping: dict[str, Any] = {
            "items": "$.data.records",
            "fields": {
                "id": {"path": "$['单据编号']"},
                "type": {"path": "$['阶段']", "map": {"赢单": "deal_won"}},
                "occurred_at": {"path": "$['成交时间']", "format": "epoch_ms"},
                "actor_id": {"path": "$['负责人']['员工编号']"},
                "amount.value": {"path": "$['金额']", "format": "decimal"},
                "amount.currency": {"value": "CNY"},
            },
        }
        broken = json.loads(json.dumps(mapping))
        broken["fields"]["occurred_at"]["path"] = "$.data[x"
        base = f"/v1/sources/{source['source_id']}/mapping"
        r = await client.put(base, json={"mapping": broken}, headers=admin)
        assert r.status_code == 422 and r.json()["errors"][0]["field"].startswith(
            "mapping.fields.occurred_at"
        )
        assert (await client.put(base, json={"mapping": mapping}, headers=admin)).status_code == 200
        record = {
            "单据编号": "FX-1001",
            "阶段": "赢单",
            "负责人": {"员工编号": "E-12"},
            "金额": 120000.5,
            "成交时间": 1772676000000,
        }
        other = record | {"单据编号": "FX-1002", "阶段": "谈判中"}
        sample = {"data": {"records": [record, other]}}
        r = await client.post(f"{base}/test", json={"sample": sample}, headers=admin)
        first, second = r.json()["results"]
        assert first["event"]["type"] == "deal_won" and first["event"]["amount"] == {
            "value": "120000.5",
            "currency": "CNY",
        }
        assert "谈判中" in second["error"]
        assert (await client.post(f"{base}/activate", headers=admin)).status_code == 200
        body, headers = signed(source["secret"], sample)
        r = await client.post(f"/v1/webhooks/{source['source_id']}", content=body, headers=headers)
        assert [x["status"] for x in r.json()["results"]] == ["accepted", "unmappable"], r.text
        qid = r.json()["results"][1]["quarantine_id"]
        # fix the mapping (the stage now maps), replay the quarantined item: exactly one event
        mapping["fields"]["type"]["map"]["谈判中"] = "quote_sent"
        assert (
            await client.put(base, json={"mapping": mapping, "activate": True}, headers=admin)
        ).status_code == 200
        for _ in range(2):
            r = await client.post(f"/v1/quarantine/{qid}/replay", json={}, headers=admin)
            assert r.status_code == 200, r.text
        event_id = r.json()["event_id"]
        r = await client.post(f"/v1/webhooks/{source['source_id']}", content=body, headers=headers)
        assert [x["status"] for x in r.json()["results"]] == ["duplicate", "duplicate"]
        assert r.json()["results"][1]["event_id"] == event_id

        async def both() -> bool:
            r = await client.get(
                "/v1/totals", params={"person_id": "E-12", "month": "2026-03"}, headers=admin
            )
            got = {t["metric"]: t["event_count"] for t in r.json()}
            return got.get("deal_won.count") == 1 and got.get("quote_sent.count") == 1

        await eventually(both)
