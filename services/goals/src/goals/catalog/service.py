"""A tenant's KPI catalog: the standard metrics, overridden or switched off per tenant, the
tenant's own metrics, the always-on ``<type>.count`` / ``<type>.amount``, and the dimension
variants that goals split by product line, region or customer type use."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from goals.catalog.definitions import (
    DIMENSIONS,
    Filter,
    MetricDefinition,
    split_variant,
    variant_key,
)
from goals.catalog.seeds import STANDARD_METRICS
from goals.models import Goal, Metric
from goals.totals.contributions import BUILTIN, Catalog


async def definitions(session: AsyncSession, tenant_id: uuid.UUID) -> dict[str, MetricDefinition]:
    """Every metric a goal may name, by key (without dimension variants)."""
    out = {m.key: m for m in BUILTIN}
    out.update({m.key: m for m in STANDARD_METRICS})
    for row in await session.scalars(select(Metric).where(Metric.tenant_id == tenant_id)):
        if row.enabled:
            out[row.key] = MetricDefinition.model_validate(row.definition)
        else:
            out.pop(row.key, None)
    return out


def variant(base: MetricDefinition, dimension: str, value: str) -> MetricDefinition:
    return base.with_filter(
        variant_key(base.key, dimension, value), Filter(field=DIMENSIONS[dimension], value=value)
    )


async def tenant_catalog(session: AsyncSession, tenant_id: uuid.UUID) -> Catalog:
    metrics = await definitions(session, tenant_id)
    variants: list[MetricDefinition] = []
    rows = await session.execute(
        select(Goal.metric, Goal.dimension)
        .where(Goal.tenant_id == tenant_id, Goal.dimension != "")
        .distinct()
    )
    for metric, dimension in rows:
        base = metrics.get(metric)
        _, dim, value = split_variant(f"{metric}|{dimension}")
        if base is None or not base.stored or dim not in DIMENSIONS or value is None:
            continue
        variants.append(variant(base, dim, value))
    return Catalog([*metrics.values(), *variants])
