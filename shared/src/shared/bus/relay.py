"""The outbox relay: publishes what a service's transactions wrote to its outbox, in order.

One relay per service is active at a time (a PostgreSQL advisory lock); others wait as standbys.
A row is deleted only after the bus acknowledged it, so a crash can publish a row twice but never
lose one; consumers skip the duplicate by its event id.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import asyncpg
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.bus.base import Bus, OutgoingRecord
from shared.db.messaging import MessagingTables
from shared.db.notify import PgNotifier
from shared.observability.metrics import EVENTS_PUBLISHED, OUTBOX_BACKLOG

log = logging.getLogger(__name__)


class OutboxRelay:
    def __init__(
        self,
        *,
        bus: Bus,
        sessions: async_sessionmaker[AsyncSession],
        messaging: MessagingTables,
        dsn: str,
        notifier: PgNotifier,
        poll_seconds: float = 0.2,
        batch_size: int = 1000,
        linger: float = 0.0,
    ):
        self._bus = bus
        self._sessions = sessions
        self._messaging = messaging
        self._dsn = dsn
        self._notifier = notifier
        self._poll = poll_seconds
        self._batch = batch_size
        self._linger = linger
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        lock_conn: Any = await asyncpg.connect(self._dsn)
        try:
            await lock_conn.execute(
                "SELECT pg_advisory_lock(hashtextextended($1, 0))",
                f"outbox-relay:{self._messaging.schema}",
            )
            channel = self._messaging.notify_channel
            await self._notifier.listen(channel)
            while not self._stopping.is_set():
                sent = await self.relay_once()
                if sent < self._batch:
                    await self._notifier.wait(channel, self._poll)
                    if self._linger > 0:
                        await asyncio.sleep(self._linger)  # let a burst gather into one publish
        finally:
            try:
                await lock_conn.close()
            except Exception:
                pass

    async def relay_once(self) -> int:
        outbox = self._messaging.outbox
        async with self._sessions() as session, session.begin():
            # The relay is infrastructure: it reads every tenant's rows (row-level security).
            await session.execute(select(func.set_config("app.system", "on", True)))
            rows = (
                await session.execute(
                    select(
                        outbox.c.id, outbox.c.topic, outbox.c.key, outbox.c.value, outbox.c.headers
                    )
                    .order_by(outbox.c.id)
                    .limit(self._batch)
                )
            ).all()
            if not rows:
                OUTBOX_BACKLOG.labels(self._messaging.schema).set(0)
                return 0
            await self._bus.publish(
                [OutgoingRecord(r.topic, r.key, bytes(r.value), r.headers or {}) for r in rows]
            )
            # Exactly the rows read: a row with a lower id may commit later and is not sent yet.
            await session.execute(delete(outbox).where(outbox.c.id.in_([r.id for r in rows])))
            for r in rows:
                EVENTS_PUBLISHED.labels(self._messaging.schema, r.topic).inc()
            if len(rows) == self._batch:
                backlog = await session.scalar(select(func.count()).select_from(outbox))
                OUTBOX_BACKLOG.labels(self._messaging.schema).set(backlog or 0)
            return len(rows)
