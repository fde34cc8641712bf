"""Helpers the tests share: settings per test, signed webhooks, GraphQL calls, polling."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from shared.auth.tokens import mint_token
from shared.db.bootstrap import DatabaseUrls
from shared.settings import BaseServiceSettings
from shared.signing import sign_headers

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "deploy" / "local"))
from kafka_broker import free_port

__all__ = ["free_port"]


def make_settings(
    urls: DatabaseUrls, *, kafka: str | None = None, **overrides: object
) -> BaseServiceSettings:
    """Settings for one test: its own database, its own topic namespace."""
    values: dict[str, object] = {
        "env": "test",
        "database_url": urls.app_url,
        "database_owner_url": urls.owner_url,
        "topic_prefix": f"t{uuid.uuid4().hex[:10]}.",
        "bus": "kafka" if kafka else "embedded",
        "kafka_bootstrap_servers": kafka,
        "kafka_partitions": 3,
        "outbox_poll_seconds": 0.05,
        "database_pool_size": 5,
    }
    values.update(overrides)
    return BaseServiceSettings(**values)  # type: ignore[arg-type]


async def eventually(check, *, timeout: float = 60.0, interval: float = 0.1):  # type: ignore[no-untyped-def]
    """Poll an async check until it returns a truthy value (a generous timeout, not a speed test)."""
    deadline = asyncio.get_running_loop().time() + timeout
    last: object = None
    while True:
        try:
            last = await check()
            if last:
                return last
        except AssertionError as exc:
            last = exc
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last: {last!r}")
        await asyncio.sleep(interval)


def token(
    settings: BaseServiceSettings, tenant_id: uuid.UUID, roles: list[str], subject: str = "tester"
) -> str:
    return mint_token(settings, tenant_id=tenant_id, subject=subject, roles=roles)


def auth(
    settings: BaseServiceSettings, tenant_id: uuid.UUID, *roles: str, subject: str = "tester"
) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {token(settings, tenant_id, list(roles) or ['admin'], subject)}"
    }


def signed(secret: str, payload: Any, *, now: float | None = None) -> tuple[bytes, dict[str, str]]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = sign_headers(secret, body, now=now)
    headers["Content-Type"] = "application/json"
    return body, headers


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan (workers included when the app has them), and a client on it."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test", timeout=30
        ) as client:
            yield client


async def graphql(
    client: httpx.AsyncClient, headers: dict[str, str], query: str, **variables: Any
) -> Any:
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert not body.get("errors"), body["errors"]
    return body["data"]


async def create_tenant_and_source(
    client: httpx.AsyncClient, settings: BaseServiceSettings, *, timezone: str = "Asia/Shanghai"
) -> tuple[uuid.UUID, dict[str, Any]]:
    """Through the public API: a platform operator creates a tenant, its admin a generic source."""
    operator = auth(settings, uuid.uuid4(), "platform_admin", subject="operator")
    r = await client.post(
        "/v1/tenants", json={"name": "Acme", "timezone": timezone}, headers=operator
    )
    assert r.status_code == 201, r.text
    tenant_id = uuid.UUID(r.json()["tenant_id"])
    r = await client.post(
        "/v1/sources",
        json={"kind": "generic", "name": "crm"},
        headers=auth(settings, tenant_id, "admin"),
    )
    assert r.status_code == 201, r.text
    return tenant_id, r.json()


def activity(
    event_id: str,
    *,
    type: str = "payment_received",
    actor: str = "p-1",
    amount: str | None = "100.00",
    occurred_at: str = "2026-03-05T10:00:00+08:00",
    **extra: Any,
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "id": event_id,
        "type": type,
        "occurred_at": occurred_at,
        "actor_id": actor,
    }
    if amount is not None:
        event["amount"] = {"value": amount, "currency": "CNY"}
    event.update(extra)
    return event
