"""The small demo tenant `make run` creates directly in the database (one generic source, a flat
commission rate), so anyone can post a first event by hand. The realistic demo (`make demo`) is
seeded through the public API instead: see `allinone.demo.seed`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from fastapi import FastAPI
from sqlalchemy import select

from goals.ingest.service import create_source
from goals.models import Source
from goals.models import messaging as goals_messaging
from goals.tenant.service import create_tenant, get_tenant
from incentives.commission.service import set_flat_rate
from incentives.models import messaging as incentives_messaging
from scoring.models import messaging as scoring_messaging
from scoring.score.schemas import ScoreItemIn
from scoring.score.service import set_item
from shared.auth.tokens import mint_token
from shared.db.uow import unit_of_work
from shared.runtime import Runtime

DEMO_TENANT = uuid.UUID("0d3e1a7c-5b1f-4c2e-9a8d-000000000001")


@dataclass(frozen=True)
class Demo:
    tenant_id: uuid.UUID
    source_id: uuid.UUID
    secret: str
    admin_token: str


async def ensure_demo_data(rt: Runtime) -> Demo:
    async with unit_of_work(rt.sessions, goals_messaging) as uow:
        await uow.set_tenant(DEMO_TENANT)
        if await get_tenant(uow.session, DEMO_TENANT) is None:
            await create_tenant(
                uow.session,
                name="Demo Co.",
                timezone="Asia/Shanghai",
                currency="CNY",
                tenant_id=DEMO_TENANT,
            )
        source = await uow.session.scalar(
            select(Source).where(Source.tenant_id == DEMO_TENANT, Source.kind == "generic").limit(1)
        )
        if source is None:
            source = await create_source(uow.session, DEMO_TENANT, kind="generic", name="demo CRM")
    async with unit_of_work(rt.sessions, scoring_messaging) as uow:
        await uow.set_tenant(DEMO_TENANT)
        await set_item(
            uow.session,
            DEMO_TENANT,
            "collected_revenue",
            ScoreItemIn(weight=Decimal(30)),
            actor="demo",
        )
    async with unit_of_work(rt.sessions, incentives_messaging) as uow:
        await uow.set_tenant(DEMO_TENANT)
        await set_flat_rate(uow.session, DEMO_TENANT, Decimal("0.03"), "demo")
    token = mint_token(rt.settings, tenant_id=DEMO_TENANT, subject="demo-admin", roles=["admin"])
    return Demo(DEMO_TENANT, source.source_id, source.secret, token)


async def ensure_demo(app: FastAPI) -> None:
    app.state.demo = await ensure_demo_data(app.state.runtime)
