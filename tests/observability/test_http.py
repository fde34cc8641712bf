"""Requests are measured and logged by route template (never the raw path, which holds ids)."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest
from fastapi import Depends, FastAPI
from starlette.staticfiles import StaticFiles

from shared.observability.http import ObservabilityMiddleware
from shared.observability.logs import annotate_request
from shared.observability.metrics import HTTP_LATENCY


def count(method: str, route: str, status: str) -> float:
    for metric in HTTP_LATENCY.collect():
        for s in metric.samples:
            if s.name.endswith("_count") and s.labels == {
                "method": method,
                "route": route,
                "status": status,
            }:
                return s.value
    return 0.0


async def test_requests_are_labelled_by_route_template(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "index.html").write_text("<p>hi</p>")
    app = FastAPI()

    @app.get("/v1/people/{person_id}")
    async def person(person_id: str) -> dict[str, str]:
        return {"id": person_id}

    def tenant_of_request() -> str:  # a sync dependency: FastAPI runs it in a thread pool
        annotate_request(tenant_id="t-9")
        return "t-9"

    @app.get("/v1/mine")
    async def mine(tenant: str = Depends(tenant_of_request)) -> dict[str, str]:
        return {"tenant": tenant}

    app.mount("/static", StaticFiles(directory=tmp_path, html=True))
    app.add_middleware(ObservabilityMiddleware)
    before = (
        count("GET", "/v1/people/{person_id}", "200"),
        count("GET", "/static/*", "200"),
        count("GET", "unmatched", "404"),
        count("GET", "/healthz", "404"),
    )
    caplog.set_level(logging.INFO, logger="quotient.http")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        for person in ("p-101", "p-102"):
            assert (await client.get(f"/v1/people/{person}")).status_code == 200
        assert (await client.get("/static/")).status_code == 200
        assert (await client.get("/nowhere/p-103")).status_code == 404
        await client.get("/healthz")  # probes are neither measured nor logged
        assert (await client.get("/v1/mine")).status_code == 200
    after = (
        count("GET", "/v1/people/{person_id}", "200"),
        count("GET", "/static/*", "200"),
        count("GET", "unmatched", "404"),
        count("GET", "/healthz", "404"),
    )
    assert [a - b for a, b in zip(after, before, strict=True)] == [2, 1, 1, 0]
    routes = [r.__dict__["route"] for r in caplog.records if r.name == "quotient.http"]
    assert routes == ["/v1/people/{person_id}"] * 2 + ["/static/*", "unmatched", "/v1/mine"]
    # The tenant a handler resolved is on its request's line, and only there.
    tenants = [r.__dict__.get("tenant_id") for r in caplog.records if r.name == "quotient.http"]
    assert tenants == [None] * 4 + ["t-9"]
    assert not any("p-10" in r.getMessage() + str(r.__dict__) for r in caplog.records)
