"""The consuming side of exactly-once effects (the transactional inbox).

A batch is applied in ONE database transaction that also records the consumed event ids (inbox)
and the next positions (consumer_offsets); only then are offsets committed to the bus. A crash at
any point either replays the batch — its events are found in the inbox and skipped — or finds it
applied. Records that cannot be decoded, or whose handler fails on its own, go to the group's
dead-letter topic (through the outbox, in the same transaction as the position that skips them).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from itertools import groupby

from opentelemetry import trace
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.bus.base import Bus, BusConsumer, Record, TopicPartition
from shared.db.messaging import MessagingTables
from shared.db.uow import UnitOfWork, unit_of_work
from shared.events.envelope import Event, decode_event, derived_event_id
from shared.events.topics import dead_letter_topic
from shared.observability.logs import bound
from shared.observability.metrics import (
    CONSUMER_LAG,
    EVENTS_CONSUMED,
    EVENTS_DEAD_LETTERED,
    EVENTS_DUPLICATE,
    RECALCULATION_SECONDS,
)
from shared.observability.tracing import context_from, origin, origin_of, tracer

log = logging.getLogger(__name__)

Handler = Callable[[UnitOfWork, list[Event]], Awaitable[None]]

# Inbox rows of records that belong to no tenant we could read (dead letters).
NO_TENANT = uuid.UUID(int=0)

# SQLSTATEs worth retrying: serialization failure, deadlock, and connection classes.
_TRANSIENT_SQLSTATES = {"40001", "40P01", "57P01", "57P02", "57P03", "53300"}


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, OperationalError | InterfaceError | OSError | asyncio.TimeoutError):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        code = getattr(exc.orig, "sqlstate", None) or getattr(
            getattr(exc.orig, "__cause__", None), "sqlstate", None
        )
        if code in _TRANSIENT_SQLSTATES or (code or "").startswith("08"):
            return True
    return False


def _failure_summary(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        where = ", ".join(".".join(map(str, e["loc"])) + f" ({e['type']})" for e in exc.errors())
        return f"ValidationError at {where}"[:500]
    return type(exc).__name__


class SqlOffsetStore:
    """Consumer positions kept in the consuming service's own schema."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], messaging: MessagingTables):
        self._sessions = sessions
        self._table = messaging.consumer_offsets

    async def load(
        self, group: str, partitions: Sequence[TopicPartition]
    ) -> dict[TopicPartition, int]:
        t = self._table
        async with self._sessions() as session:
            rows = await session.execute(
                select(t.c.topic, t.c.partition, t.c.next_offset).where(
                    t.c.consumer_group == group, t.c.topic.in_({tp.topic for tp in partitions})
                )
            )
            wanted = set(partitions)
            return {
                TopicPartition(r.topic, r.partition): int(r.next_offset)
                for r in rows
                if TopicPartition(r.topic, r.partition) in wanted
            }

    async def save(
        self, session: AsyncSession, group: str, positions: dict[TopicPartition, int]
    ) -> None:
        if not positions:
            return
        t = self._table
        stmt = pg_insert(t).values(
            [
                {
                    "consumer_group": group,
                    "topic": tp.topic,
                    "partition": tp.partition,
                    "next_offset": o,
                }
                for tp, o in sorted(positions.items())
            ]
        )
        # A member that lost its partitions mid-batch must never move a position backwards.
        stmt = stmt.on_conflict_do_update(
            index_elements=[t.c.consumer_group, t.c.topic, t.c.partition],
            set_={
                "next_offset": func.greatest(t.c.next_offset, stmt.excluded.next_offset),
                "updated_at": func.now(),
            },
        )
        await session.execute(stmt)


def next_positions(records: Sequence[Record]) -> dict[TopicPartition, int]:
    positions: dict[TopicPartition, int] = {}
    for r in records:
        positions[r.tp] = max(positions.get(r.tp, 0), r.offset + 1)
    return positions


class ConsumerLoop:
    """Consume topics as one group and apply batches through a handler, exactly once."""

    def __init__(
        self,
        *,
        group: str,
        topics: Sequence[str],
        bus: Bus,
        sessions: async_sessionmaker[AsyncSession],
        messaging: MessagingTables,
        handler: Handler,
        topic_prefix: str = "",
        batch_size: int = 500,
        linger: float = 0.0,
        service: str = "quotient",
        lag_interval: float = 2.0,
    ):
        self.group = group
        self.service = service
        self._tracer = tracer(service)
        self._lag_interval = lag_interval
        self._lag_at = 0.0
        self.topics = list(topics)
        self._bus = bus
        self._sessions = sessions
        self._messaging = messaging
        self._handler = handler
        self._prefix = topic_prefix
        self._batch_size = batch_size
        self._linger = linger
        self._offsets = SqlOffsetStore(sessions, messaging)
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        consumer = self._bus.consumer(self.group, self.topics, self._offsets)
        await consumer.start()
        try:
            while not self._stopping.is_set():
                records = await consumer.getmany(timeout=0.5, max_records=self._batch_size)
                if records and len(records) < self._batch_size and self._linger > 0:
                    # Under load, a short wait gathers a bigger batch: one transaction for many
                    # events instead of one each (latency +linger, throughput several times).
                    await asyncio.sleep(self._linger)
                    records += await consumer.getmany(
                        timeout=0, max_records=self._batch_size - len(records)
                    )
                if records:
                    await self._traced(consumer, records)
                await self._report_lag(consumer)
        finally:
            await consumer.stop()

    async def _traced(self, consumer: BusConsumer, records: list[Record]) -> None:
        """Apply a batch inside one consumer span: the child of the first record's trace, linked
        to the other records' traces; events it emits continue that trace."""
        first = records[0].headers
        links: list[trace.Link] = []
        seen = {first.get("traceparent")}
        for r in records[1:]:
            parent = r.headers.get("traceparent")
            if parent and parent not in seen and len(links) < 32:
                seen.add(parent)
                span_context = trace.get_current_span(context_from(r.headers)).get_span_context()
                if span_context.is_valid:
                    links.append(trace.Link(span_context))
        topics = sorted({r.topic for r in records})
        with (
            self._tracer.start_as_current_span(
                f"{self.group} process",
                context=context_from(first),
                kind=trace.SpanKind.CONSUMER,
                links=links,
                attributes={
                    "messaging.system": self._bus.kind,
                    "messaging.operation.type": "process",
                    "messaging.consumer.group.name": self.group,
                    "messaging.destination.name": ",".join(topics),
                    "messaging.batch.message_count": len(records),
                },
            ),
            origin(origin_of(first)),
            bound(consumer_group=self.group),
        ):
            await self._process(consumer, records)

    async def _report_lag(self, consumer: BusConsumer) -> None:
        """Records not applied yet, per partition (at most every lag_interval seconds)."""
        now = asyncio.get_running_loop().time()
        if now - self._lag_at < self._lag_interval:
            return
        self._lag_at = now
        try:
            lag = await consumer.lag()
        except Exception as exc:  # monitoring must never stop consumption
            log.debug("%s: lag unavailable: %s", self.group, exc)
            return
        for tp, behind in lag.items():
            CONSUMER_LAG.labels(self.group, tp.topic, str(tp.partition)).set(behind)

    async def _process(self, consumer: BusConsumer, records: list[Record]) -> None:
        backoff = 0.2
        while True:
            try:
                await self._apply(records)
                break
            except Exception as exc:
                if is_transient(exc):
                    log.warning("%s: transient failure, retrying the batch: %s", self.group, exc)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 5.0)
                    continue
                if len(records) == 1:
                    await self._dead_letter(records[0], exc)
                    break
                log.warning(
                    "%s: batch failed (%s); applying its records one by one", self.group, exc
                )
                for record in records:
                    await self._process(consumer, [record])
                break
        await consumer.committed(next_positions(records))

    async def _apply(self, records: list[Record]) -> None:
        async with unit_of_work(self._sessions, self._messaging, self._prefix) as uow:
            decoded: list[tuple[Record, Event]] = []
            poison: list[tuple[Record, ValidationError]] = []
            for record in records:
                try:
                    decoded.append((record, decode_event(record.value)))
                except ValidationError as invalid:
                    poison.append((record, invalid))
            if poison:
                await uow.set_tenant(NO_TENANT)
                fresh = await self._claim(
                    uow.session, [(self._dead_letter_id(r), NO_TENANT) for r, _ in poison]
                )
                for record, error in poison:
                    if self._dead_letter_id(record) in fresh:
                        self._queue_dead_letter(uow, record, error)
            # Tenants in first-seen order, each tenant's events in bus order; the inbox is claimed
            # and the handler run under that tenant's scope (row-level security).
            order = {e.tenant_id: i for i, (_, e) in reversed(list(enumerate(decoded)))}
            decoded.sort(key=lambda pair: order[pair[1].tenant_id])
            todo: list[tuple[Record, Event]] = []
            for tenant_id, group in groupby(decoded, key=lambda pair: pair[1].tenant_id):
                pairs = list(group)
                await uow.set_tenant(tenant_id)
                fresh = await self._claim(uow.session, [(e.id, e.tenant_id) for _, e in pairs])
                mine: list[tuple[Record, Event]] = []
                for r, e in pairs:
                    if e.id in fresh:
                        fresh.discard(e.id)  # a second copy within the batch is a duplicate too
                        mine.append((r, e))
                    else:
                        EVENTS_DUPLICATE.labels(self.group, r.topic).inc()
                if mine:
                    single = {"event_id": str(mine[0][1].id)} if len(mine) == 1 else {}
                    with bound(tenant_id=str(tenant_id), **single):
                        await self._handler(uow, [e for _, e in mine])
                todo.extend(mine)
            await self._offsets.save(uow.session, self.group, next_positions(records))
        done = time.time()
        for r, _ in todo:
            EVENTS_CONSUMED.labels(self.group, r.topic).inc()
            started = origin_of(r.headers)
            if started is not None:
                RECALCULATION_SECONDS.labels(self.service, self.group).observe(
                    max(0.0, done - started)
                )

    async def _claim(
        self, session: AsyncSession, claims: list[tuple[uuid.UUID, uuid.UUID]]
    ) -> set[uuid.UUID]:
        """Record (event id, tenant) pairs in the inbox; return the ids seen for the first time."""
        if not claims:
            return set()
        inbox = self._messaging.inbox
        unique = dict(claims)
        stmt = (
            pg_insert(inbox)
            .values(
                [
                    {"consumer_group": self.group, "event_id": i, "tenant_id": t}
                    for i, t in sorted(unique.items())
                ]
            )
            .on_conflict_do_nothing()
            .returning(inbox.c.event_id)
        )
        return set((await session.execute(stmt)).scalars())

    def _queue_dead_letter(self, uow: UnitOfWork, record: Record, exc: BaseException) -> None:
        EVENTS_DEAD_LETTERED.labels(self.group, record.topic).inc()
        # The log names the failure, not the payload (pydantic messages quote input values);
        # the full error travels with the dead letter itself.
        log.error(
            "%s: dead-lettering %s[%s]@%s: %s",
            self.group,
            record.topic,
            record.partition,
            record.offset,
            _failure_summary(exc),
        )
        uow.emit_raw(
            topic=self._prefix + dead_letter_topic(self.group),
            key=record.key,
            value=record.value,
            event_id=derived_event_id(
                "dead-letter", self.group, record.topic, record.partition, record.offset
            ),
            tenant_id=None,
            headers={
                "error": f"{type(exc).__name__}: {exc}"[:2000],
                "source_topic": record.topic,
                "source_partition": str(record.partition),
                "source_offset": str(record.offset),
            },
        )

    def _dead_letter_id(self, record: Record) -> uuid.UUID:
        """Dead letters are idempotent too: a redelivered poison record is not sent twice."""
        return derived_event_id(
            "dead-letter", self.group, record.topic, record.partition, record.offset
        )

    async def _dead_letter(self, record: Record, exc: BaseException) -> None:
        async with unit_of_work(self._sessions, self._messaging, self._prefix) as uow:
            await uow.set_tenant(NO_TENANT)
            if await self._claim(uow.session, [(self._dead_letter_id(record), NO_TENANT)]):
                self._queue_dead_letter(uow, record, exc)
            await self._offsets.save(uow.session, self.group, next_positions([record]))
