"""Backfill: historical activities in bulk (NDJSON, or CSV with the canonical columns), streamed
and applied in chunks through the same validation, actor resolution and idempotency as webhooks.
Each chunk commits on its own, so progress is visible (GET /v1/backfills/{id}) and a re-run adds
nothing: every row's id is its idempotency key. Backfilled activities never raise late-entry
alerts. Finance / ERP systems send payments, refunds and invoices the same way."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update

from goals.ingest import service
from goals.models import Backfill, messaging
from shared.db.uow import unit_of_work
from shared.runtime import Runtime

CHUNK = 1000
CSV_FIELDS = {
    "customer_id": ("customer", "id"),
    "customer_segment": ("customer", "segment"),
    "customer_region": ("customer", "region"),
    "amount": ("amount", "value"),
    "currency": ("amount", "currency"),
}


async def lines(stream: AsyncIterator[bytes]) -> AsyncIterator[str]:
    """Text lines of a streamed body, without holding the body in memory."""
    pending = b""
    async for chunk in stream:
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for line in complete:
            yield line.decode("utf-8-sig").rstrip("\r")
    if pending:
        yield pending.decode("utf-8-sig").rstrip("\r")


def csv_event(row: dict[str, str]) -> dict[str, Any]:
    """A CSV row with canonical column names (customer_id, amount, currency, attributes.<x>...)."""
    event: dict[str, Any] = {}
    for name, raw in row.items():
        if name is None or raw is None or raw.strip() == "":
            continue
        value = raw.strip()
        if name in CSV_FIELDS:
            outer, inner = CSV_FIELDS[name]
            event.setdefault(outer, {})[inner] = value
        elif name.startswith("attributes."):
            event.setdefault("attributes", {})[name[11:]] = value
        else:
            event[name] = value
    return event


async def records(
    stream: AsyncIterator[bytes], content_type: str
) -> AsyncIterator[tuple[int, Any]]:
    """(line number, event or the raw text when unreadable) for each non-blank record."""
    is_csv = "csv" in content_type
    header: list[str] | None = None
    number = 0
    async for line in lines(stream):
        number += 1
        if not line.strip():
            continue
        if is_csv:
            cells = next(csv.reader(io.StringIO(line)))
            if header is None:
                header = [c.strip() for c in cells]
                continue
            yield number, csv_event(dict(zip(header, cells, strict=False)))
            continue
        try:
            yield number, json.loads(line)
        except ValueError:
            yield number, line


async def run(
    rt: Runtime,
    source: service.SourceInfo,
    backfill_id: uuid.UUID,
    stream: AsyncIterator[bytes],
    content_type: str,
) -> Backfill:
    totals = {"rows_read": 0, "accepted": 0, "duplicates": 0, "quarantined": 0}
    chunk: list[Any] = []

    async def flush() -> None:
        async with unit_of_work(rt.sessions, messaging, rt.settings.topic_prefix) as uow:
            await uow.set_tenant(source.tenant_id)
            outcomes = await service.accept_events(
                uow, source, chunk, pseudonym_key=rt.settings.pseudonym_key, backfill=True
            )
            totals["rows_read"] += len(chunk)
            totals["accepted"] += sum(o.status == "accepted" for o in outcomes)
            totals["duplicates"] += sum(o.status == "duplicate" for o in outcomes)
            totals["quarantined"] += sum(o.quarantine_id is not None for o in outcomes)
            await uow.session.execute(
                update(Backfill).where(Backfill.backfill_id == backfill_id).values(**totals)
            )
        chunk.clear()

    error = None
    try:
        async for _, record in records(stream, content_type):
            chunk.append(record)
            if len(chunk) >= CHUNK:
                await flush()
        if chunk:
            await flush()
    except Exception as exc:  # the rows so far are in; the report says where it stopped
        error = f"{type(exc).__name__}: {exc}"
    async with unit_of_work(rt.sessions, messaging, rt.settings.topic_prefix) as uow:
        await uow.set_tenant(source.tenant_id)
        await uow.session.execute(
            update(Backfill)
            .where(Backfill.backfill_id == backfill_id)
            .values(
                status="failed" if error else "done",
                finished_at=datetime.now(UTC),
                error=error,
                **totals,
            )
        )
        found = await uow.session.get(Backfill, backfill_id)
        assert found is not None
        return found
