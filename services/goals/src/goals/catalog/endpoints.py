"""The KPI catalog over REST: metric definitions (standard, overridden, the tenant's own) and the
role templates a tenant copies and edits."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from goals.catalog.definitions import MetricDefinition
from goals.catalog.seeds import ROLE_TEMPLATES, STANDARD_BY_KEY
from goals.catalog.service import definitions
from goals.models import Goal, Metric, Template, audit_log, messaging
from goals.totals.contributions import BUILTIN
from goals.totals.replay import rebuild
from shared.auth.access import principal, requires
from shared.auth.tokens import Principal
from shared.db import audit
from shared.db.uow import tenant_session, unit_of_work
from shared.http.problems import Problem
from shared.http.problems import invalid_field as invalid
from shared.runtime import Runtime
from shared.service import runtime_of

router = APIRouter(tags=["catalog"])
EDITORS = ("admin", "hr")
BUILTIN_KEYS = frozenset(m.key for m in BUILTIN)
KEY = Path(pattern=r"^[a-z][a-z0-9_.]{0,79}$")


class MetricOut(BaseModel):
    origin: Literal["builtin", "standard", "override", "tenant"]
    additive: bool
    definition: dict[str, Any]


@router.get("/v1/metrics", response_model=list[MetricOut])
async def list_metrics(
    who: Annotated[Principal, Depends(principal)],
    rt: Annotated[Runtime, Depends(runtime_of)],
    include_builtin: bool = False,
) -> list[MetricOut]:
    """The tenant's catalog: standard metrics (as overridden), its own, and on request the
    always-on ``<type>.count`` / ``<type>.amount``."""
    async with tenant_session(rt.sessions, who.tenant_id) as session:
        metrics = await definitions(session, who.tenant_id)
        own = {
            r[0]
            for r in await session.execute(
                select(Metric.key).where(Metric.tenant_id == who.tenant_id)
            )
        }
    out = []
    for key, m in sorted(metrics.items()):
        if key in BUILTIN_KEYS:
            if not include_builtin:
                continue
            origin = "builtin"
        elif key in own:
            origin = "override" if key in STANDARD_BY_KEY else "tenant"
        else:
            origin = "standard"
        out.append(
            MetricOut(origin=origin, additive=m.additive, definition=m.model_dump(mode="json"))
        )  # type: ignore[arg-type]
    return out


async def check_components(
    session: AsyncSession, tenant_id: uuid.UUID, definition: MetricDefinition
) -> None:
    if definition.stored:
        return
    known = await definitions(session, tenant_id)
    known[definition.key] = definition
    for field in ("numerator", "denominator"):
        key = getattr(definition, field)
        if key not in known:
            raise invalid(field, f"unknown metric {key!r}")
    # No metric may be made of itself, however indirectly.
    seen: set[str] = set()
    stack = [p for p in (definition.numerator, definition.denominator) if p]
    while stack:
        key = stack.pop()
        if key == definition.key:
            raise invalid("numerator", "a metric cannot be made of itself")
        m = known.get(key)
        if key in seen or m is None or m.stored:
            continue
        seen.add(key)
        stack.extend(p for p in (m.numerator, m.denominator) if p)


@router.put("/v1/metrics/{key}", response_model=MetricOut)
async def put_metric(
    key: Annotated[str, KEY],
    body: dict[str, Any],
    who: Annotated[Principal, Depends(requires(*EDITORS))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> MetricOut:
    """Define a metric (or override a standard one). Totals are re-derived from the recorded
    activities, so the figures follow the new definition for the past too."""
    if key in BUILTIN_KEYS:
        raise invalid("key", f"{key} is built in; define a metric under another key")
    try:
        definition = MetricDefinition.model_validate({**body, "key": key})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise invalid(where, first["msg"]) from exc
    async with unit_of_work(rt.sessions, messaging, rt.settings.topic_prefix) as uow:
        await uow.set_tenant(who.tenant_id)
        session = uow.session
        await check_components(session, who.tenant_id, definition)
        prior = await session.scalar(
            select(Metric).where(Metric.tenant_id == who.tenant_id, Metric.key == key)
        )
        stmt = pg_insert(Metric).values(
            tenant_id=who.tenant_id,
            key=key,
            definition=definition.model_dump(mode="json"),
            enabled=True,
            version=1,
            updated_by=who.subject,
        )
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[Metric.tenant_id, Metric.key],
                set_={
                    "definition": stmt.excluded.definition,
                    "enabled": True,
                    "version": Metric.version + 1,
                    "updated_by": stmt.excluded.updated_by,
                    "updated_at": func.now(),
                },
            )
        )
        await audit.record(
            session,
            audit_log,
            tenant_id=who.tenant_id,
            actor=who.subject,
            action="metric.set",
            target_type="metric",
            target_key=key,
            before=None if prior is None else prior.definition,
            after=definition.model_dump(mode="json"),
        )
        await rebuild(uow, who.tenant_id)
    origin = "override" if key in STANDARD_BY_KEY else "tenant"
    return MetricOut(
        origin=origin, additive=definition.additive, definition=definition.model_dump(mode="json")
    )  # type: ignore[arg-type]


@router.delete("/v1/metrics/{key}", status_code=204)
async def switch_off_metric(
    key: Annotated[str, KEY],
    who: Annotated[Principal, Depends(requires(*EDITORS))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> None:
    """Switch a metric off (standard or the tenant's own); refused while goals or ratios use it."""
    async with unit_of_work(rt.sessions, messaging, rt.settings.topic_prefix) as uow:
        await uow.set_tenant(who.tenant_id)
        session = uow.session
        known = await definitions(session, who.tenant_id)
        if key not in known or key in BUILTIN_KEYS:
            raise Problem(404, "Not found", f"no metric {key!r} to switch off")
        used = await session.scalar(
            select(func.count())
            .select_from(Goal)
            .where(Goal.tenant_id == who.tenant_id, Goal.metric == key)
        )
        users = sorted(k for k, m in known.items() if key in (m.numerator, m.denominator))
        if used or users:
            raise Problem(
                409,
                "Metric in use",
                f"{key} is used by {used} goal(s) and by {users or 'no'} ratio(s)",
                kind="conflict",
            )
        stmt = pg_insert(Metric).values(
            tenant_id=who.tenant_id,
            key=key,
            definition=known[key].model_dump(mode="json"),
            enabled=False,
            version=1,
            updated_by=who.subject,
        )
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[Metric.tenant_id, Metric.key],
                set_={"enabled": False, "version": Metric.version + 1, "updated_by": who.subject},
            )
        )
        await audit.record(
            session,
            audit_log,
            tenant_id=who.tenant_id,
            actor=who.subject,
            action="metric.switched_off",
            target_type="metric",
            target_key=key,
            before=known[key].model_dump(mode="json"),
            after=None,
        )
        await rebuild(uow, who.tenant_id)


class TemplateItem(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str = Field(min_length=1, max_length=200)
    weight: Decimal = Field(gt=0, le=100)
    kind: Literal["quantitative", "qualitative"]
    metric: str | None = None

    @model_validator(mode="after")
    def _bound(self) -> TemplateItem:
        if (
            self.kind == "quantitative"
            and not self.metric
            and self.model_extra
            and self.model_extra.get("source") != "manual"
        ):
            raise ValueError("a quantitative item names its metric (or source: manual)")
        return self


class TemplateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    items: list[TemplateItem] = Field(min_length=1)

    @model_validator(mode="after")
    def _weights(self) -> TemplateIn:
        total = sum((i.weight for i in self.items), Decimal(0))
        if total != 100:
            raise ValueError(f"the weights add up to {total}, not 100")
        return self


class TemplateOut(BaseModel):
    key: str
    name: str
    origin: Literal["standard", "tenant"]
    copied_from: str | None = None
    quantitative_share: Decimal
    items: list[dict[str, Any]]


def template_out(
    key: str, name: str, items: list[dict[str, Any]], origin: str, copied_from: str | None = None
) -> TemplateOut:
    share = sum(
        (Decimal(str(i["weight"])) for i in items if i.get("kind") == "quantitative"), Decimal(0)
    )
    return TemplateOut(
        key=key,
        name=name,
        origin=origin,
        copied_from=copied_from,
        quantitative_share=share,
        items=items,
    )  # type: ignore[arg-type]


@router.get("/v1/templates", response_model=list[TemplateOut])
async def list_templates(
    who: Annotated[Principal, Depends(principal)],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> list[TemplateOut]:
    """The standard role templates (PRODUCT.md §1) and the tenant's own copies."""
    out = [template_out(k, t["name"], t["items"], "standard") for k, t in ROLE_TEMPLATES.items()]
    async with tenant_session(rt.sessions, who.tenant_id) as session:
        for t in await session.scalars(
            select(Template).where(Template.tenant_id == who.tenant_id).order_by(Template.key)
        ):
            out.append(template_out(t.key, t.name, t.items, "tenant", t.copied_from))
    return out


async def _save_template(
    rt: Runtime,
    who: Principal,
    key: str,
    name: str,
    items: list[dict[str, Any]],
    copied_from: str | None,
) -> TemplateOut:
    async with unit_of_work(rt.sessions, messaging, rt.settings.topic_prefix) as uow:
        await uow.set_tenant(who.tenant_id)
        known = await definitions(uow.session, who.tenant_id)
        for i, item in enumerate(items):
            if item.get("metric") and item["metric"] not in known:
                raise invalid(f"items.{i}.metric", f"unknown metric {item['metric']!r}")
        prior = await uow.session.scalar(
            select(Template).where(Template.tenant_id == who.tenant_id, Template.key == key)
        )
        stmt = pg_insert(Template).values(
            tenant_id=who.tenant_id,
            key=key,
            name=name,
            items=items,
            copied_from=copied_from,
            updated_by=who.subject,
        )
        await uow.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[Template.tenant_id, Template.key],
                set_={
                    "name": name,
                    "items": items,
                    "updated_by": who.subject,
                    "updated_at": func.now(),
                },
            )
        )
        await audit.record(
            uow.session,
            audit_log,
            tenant_id=who.tenant_id,
            actor=who.subject,
            action="template.set",
            target_type="template",
            target_key=key,
            before=None if prior is None else {"name": prior.name, "items": prior.items},
            after={"name": name, "items": items},
        )
        return template_out(key, name, items, "tenant", prior.copied_from if prior else copied_from)


@router.post("/v1/templates/{key}/copy", response_model=TemplateOut, status_code=201)
async def copy_template(
    key: Annotated[str, KEY],
    who: Annotated[Principal, Depends(requires(*EDITORS))],
    rt: Annotated[Runtime, Depends(runtime_of)],
    as_key: Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9_.]{0,79}$")] = None,
) -> TemplateOut:
    """Copy a standard role template into the tenant's catalog, to edit there."""
    standard = ROLE_TEMPLATES.get(key)
    if standard is None:
        raise Problem(404, "Not found", f"no standard template {key!r}")
    return await _save_template(rt, who, as_key or key, standard["name"], standard["items"], key)


@router.put("/v1/templates/{key}", response_model=TemplateOut)
async def put_template(
    key: Annotated[str, KEY],
    body: TemplateIn,
    who: Annotated[Principal, Depends(requires(*EDITORS))],
    rt: Annotated[Runtime, Depends(runtime_of)],
) -> TemplateOut:
    """Edit the tenant's template: the weights must add up to 100."""
    items = [i.model_dump(mode="json", exclude_none=False) for i in body.items]
    for i in items:
        i["weight"] = str(Decimal(i["weight"]).normalize())
    return await _save_template(rt, who, key, body.name, items, None)
