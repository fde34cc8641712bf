"""The unit of work: one session, one transaction, and the events it causes (written to the outbox
in the same transaction — they are published only after commit, by the relay)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.db.messaging import MessagingTables
from shared.events.envelope import TOPIC_OF, EventBase, encode_event
from shared.observability.logs import annotate_request
from shared.observability.tracing import outgoing_headers


class UnitOfWork:
    def __init__(self, session: AsyncSession, messaging: MessagingTables, topic_prefix: str = ""):
        self.session = session
        self.messaging = messaging
        self.topic_prefix = topic_prefix
        self._events: list[EventBase] = []
        self._raw: list[dict[str, Any]] = []
        self._after_commit: list[Callable[[], None]] = []
        self.tenant_id: uuid.UUID | None = None

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the transaction committed (metrics that must not count what
        was rolled back)."""
        self._after_commit.append(callback)

    def emit(self, event: EventBase) -> None:
        """Collect an event; it reaches the outbox when the unit of work flushes. It carries the
        trace context it was emitted in (its record's headers on the bus)."""
        if not event.trace:
            event = event.model_copy(update={"trace": outgoing_headers()})
        self._events.append(event)

    def emit_raw(
        self,
        *,
        topic: str,
        key: str,
        value: bytes,
        event_id: uuid.UUID,
        tenant_id: uuid.UUID | None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Queue bytes for a topic as they are (dead letters keep the original bytes)."""
        self._raw.append(
            {
                "tenant_id": tenant_id,
                "event_id": event_id,
                "topic": topic,
                "key": key,
                "value": value,
                "headers": headers or {},
            }
        )

    async def set_tenant(self, tenant_id: uuid.UUID) -> None:
        """Scope what follows in this transaction to one tenant (row-level security reads it).

        Events the previous tenant caused are written to the outbox first, under its scope."""
        await self.flush_events()
        self.tenant_id = tenant_id
        await scope_to_tenant(self.session, tenant_id)

    async def system(self) -> None:
        """Infrastructure reads across tenants (e.g. which tenant a webhook source belongs to);
        ended by the next set_tenant."""
        await self.session.execute(
            select(
                func.set_config("app.system", "on", True),
                func.set_config("app.tenant_id", "", True),
            )
        )

    async def flush_events(self) -> int:
        rows = [
            {
                "tenant_id": e.tenant_id,
                "event_id": e.id,
                "topic": self.topic_prefix + TOPIC_OF[e.type].value,
                "key": e.key,
                "value": encode_event(e),
                "headers": e.trace,
            }
            for e in self._events
        ]
        rows.extend(self._raw)
        self._events.clear()
        self._raw.clear()
        if rows:
            # The outbox's statement trigger wakes the relay (NOTIFY is delivered at commit).
            await self.session.execute(insert(self.messaging.outbox), rows)
        await self.session.flush()
        return len(rows)

    async def discard(self) -> None:
        """Roll back everything done so far, events included (a dry run)."""
        self._events.clear()
        self._raw.clear()
        self._after_commit.clear()
        await self.session.rollback()

    async def commit(self) -> None:
        await self.flush_events()
        await self.session.commit()
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()


async def scope_to_tenant(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    annotate_request(tenant_id=str(tenant_id))
    await session.execute(
        select(
            func.set_config("app.tenant_id", str(tenant_id), True),
            func.set_config("app.system", "off", True),
        )
    )


@asynccontextmanager
async def tenant_session(
    sessions: async_sessionmaker[AsyncSession], tenant_id: uuid.UUID
) -> AsyncIterator[AsyncSession]:
    """A read-only use of the database, scoped to one tenant."""
    async with sessions() as session, session.begin():
        await scope_to_tenant(session, tenant_id)
        yield session


@asynccontextmanager
async def unit_of_work(
    sessions: async_sessionmaker[AsyncSession], messaging: MessagingTables, topic_prefix: str = ""
) -> AsyncIterator[UnitOfWork]:
    """Commit at the end, roll back on error."""
    async with sessions() as session:
        uow = UnitOfWork(session, messaging, topic_prefix)
        try:
            yield uow
            await uow.commit()
        except BaseException:
            await session.rollback()
            raise
