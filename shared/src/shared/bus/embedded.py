"""The embedded bus: a durable log in PostgreSQL (schema ``bus``), read by position.

Used by the single-process mode. Publishing takes the row lock of the topic's head, so offsets
are gapless and become visible in order: a reader never skips a record committed late.
Each consumer group holds an advisory lock while it consumes, so a second member of the same
group waits as a standby (one partition per topic keeps one total order per topic).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.bus.base import Bus, BusConsumer, OffsetStore, OutgoingRecord, Record, TopicPartition
from shared.db.notify import PgNotifier

log = logging.getLogger(__name__)

CHANNEL = "quotient_bus"
PARTITION = 0


class EmbeddedBus(Bus):
    kind = "embedded"

    def __init__(self, engine: AsyncEngine, dsn: str):
        self._engine = engine
        self._dsn = dsn
        self.notifier = PgNotifier(dsn)

    async def start(self) -> None:
        await self.ping()

    async def stop(self) -> None:
        await self.notifier.close()

    async def ping(self) -> None:
        async with self._engine.connect() as conn:
            await conn.execute(text("SELECT 1 FROM bus.heads LIMIT 1"))

    async def ensure_topics(self, topics: Sequence[str]) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO bus.heads (topic, partition, next_offset) "
                    "SELECT t, 0, 0 FROM unnest(CAST(:topics AS text[])) AS t "
                    "ON CONFLICT DO NOTHING"
                ),
                {"topics": list(topics)},
            )

    async def publish(self, records: Sequence[OutgoingRecord]) -> None:
        if not records:
            return
        by_topic: dict[str, list[OutgoingRecord]] = {}
        for record in records:
            by_topic.setdefault(record.topic, []).append(record)
        async with self._engine.begin() as conn:
            # Fixed order of head locks: two publishers never deadlock.
            for topic in sorted(by_topic):
                batch = by_topic[topic]
                await conn.execute(
                    text(
                        "INSERT INTO bus.heads (topic, partition, next_offset) "
                        "VALUES (:topic, 0, 0) ON CONFLICT DO NOTHING"
                    ),
                    {"topic": topic},
                )
                head = await conn.execute(
                    text(
                        "UPDATE bus.heads SET next_offset = next_offset + :n "
                        "WHERE topic = :topic AND partition = 0 RETURNING next_offset"
                    ),
                    {"topic": topic, "n": len(batch)},
                )
                first = int(head.scalar_one()) - len(batch)
                await conn.execute(
                    text(
                        'INSERT INTO bus.log (topic, partition, "offset", key, value, headers) '
                        "SELECT :topic, 0, o, k, v, CAST(h AS jsonb) FROM unnest("
                        "CAST(:offsets AS bigint[]), CAST(:keys AS text[]), "
                        "CAST(:values AS bytea[]), CAST(:headers AS text[])) AS u(o, k, v, h)"
                    ),
                    {
                        "topic": topic,
                        "offsets": list(range(first, first + len(batch))),
                        "keys": [r.key for r in batch],
                        "values": [r.value for r in batch],
                        "headers": [json.dumps(dict(r.headers)) for r in batch],
                    },
                )
            await conn.execute(text("SELECT pg_notify(:c, '')"), {"c": CHANNEL})
        self.notifier.poke(CHANNEL)

    def consumer(self, group: str, topics: Sequence[str], offsets: OffsetStore) -> BusConsumer:
        return EmbeddedConsumer(self, group, list(topics), offsets)

    async def end_offsets(self, tps: Sequence[TopicPartition]) -> dict[TopicPartition, int]:
        """The next offset of each partition (what a caught-up consumer's position is)."""
        ends: dict[TopicPartition, int] = {}
        async with self._engine.connect() as conn:
            for tp in tps:
                last = await conn.scalar(
                    text(
                        'SELECT max("offset") FROM bus.log '
                        "WHERE topic = :topic AND partition = :partition"
                    ),
                    {"topic": tp.topic, "partition": tp.partition},
                )
                ends[tp] = 0 if last is None else int(last) + 1
        return ends

    async def read(self, tp: TopicPartition, position: int, limit: int) -> list[Record]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                text(
                    'SELECT "offset", key, value, headers FROM bus.log '
                    'WHERE topic = :topic AND partition = :partition AND "offset" >= :position '
                    'ORDER BY "offset" LIMIT :limit'
                ),
                {
                    "topic": tp.topic,
                    "partition": tp.partition,
                    "position": position,
                    "limit": limit,
                },
            )
            return [
                Record(tp.topic, tp.partition, int(r[0]), r[1], bytes(r[2]), r[3] or {})
                for r in rows
            ]


class EmbeddedConsumer(BusConsumer):
    def __init__(self, bus: EmbeddedBus, group: str, topics: list[str], offsets: OffsetStore):
        self._bus = bus
        self._group = group
        self._tps = [TopicPartition(t, PARTITION) for t in topics]
        self._offsets = offsets
        self._positions: dict[TopicPartition, int] = {}
        self._lock_conn: Any = None

    async def start(self) -> None:
        await self._bus.ensure_topics([tp.topic for tp in self._tps])
        # Membership: one active member per group; others wait here as standbys.
        self._lock_conn = await asyncpg.connect(self._bus._dsn)
        await self._lock_conn.execute(
            "SELECT pg_advisory_lock(hashtextextended($1, 0))", f"bus-group:{self._group}"
        )
        await self.rewind()

    async def stop(self) -> None:
        if self._lock_conn is not None:
            try:
                await self._lock_conn.close()
            except Exception:  # closing a dead connection releases the lock all the same
                pass
            self._lock_conn = None

    async def rewind(self) -> None:
        stored = await self._offsets.load(self._group, self._tps)
        self._positions = {tp: stored.get(tp, 0) for tp in self._tps}

    async def getmany(self, timeout: float, max_records: int) -> list[Record]:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            records: list[Record] = []
            for tp in self._tps:
                if len(records) >= max_records:
                    break
                got = await self._bus.read(tp, self._positions[tp], max_records - len(records))
                if got:
                    self._positions[tp] = got[-1].offset + 1
                    records.extend(got)
            if records:
                return records
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                return []
            await self._bus.notifier.wait(CHANNEL, min(remaining, 0.5))

    async def lag(self) -> dict[TopicPartition, int]:
        ends = await self._bus.end_offsets(self._tps)
        return {tp: max(0, ends.get(tp, 0) - self._positions.get(tp, 0)) for tp in self._tps}

    async def committed(self, positions: Mapping[TopicPartition, int]) -> None:
        # The positions live in the consumer's own tables already (written with its effects).
        return None
