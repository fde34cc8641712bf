"""The bus contract, run against both implementations (embedded log in PostgreSQL, and Kafka):
per-key order, every record delivered, independent consumer groups, positions restored from the
consumer's own store, and exactly-once effects through the inbox consumer loop."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from goals.models import messaging as goals_messaging
from goals.totals.handlers import apply_activities
from shared.bus.base import Bus, OutgoingRecord, Record, TopicPartition
from shared.bus.consumer import ConsumerLoop
from shared.db.bootstrap import DatabaseUrls
from shared.db.uow import tenant_session
from shared.events.activity import ActivityEvent
from shared.events.envelope import (
    ActivityRecorded,
    ActivityRecordedPayload,
    encode_event,
    new_event,
    person_key,
)
from shared.events.topics import dead_letter_topic
from shared.runtime import Runtime
from tests.helpers import eventually, make_settings


class MemoryOffsets:
    def __init__(self) -> None:
        self.positions: dict[tuple[str, TopicPartition], int] = {}

    async def load(
        self, group: str, partitions: Sequence[TopicPartition]
    ) -> dict[TopicPartition, int]:
        return {
            tp: self.positions[(group, tp)] for tp in partitions if (group, tp) in self.positions
        }


@pytest.fixture
async def runtime(
    database: DatabaseUrls, bus_kind: str, request: pytest.FixtureRequest
) -> AsyncIterator[Runtime]:
    kafka = request.getfixturevalue("kafka_bootstrap") if bus_kind == "kafka" else None
    settings = make_settings(database, kafka=kafka)
    rt = await Runtime.open(settings, "contract-test")
    try:
        yield rt
    finally:
        await rt.close()


async def drain(
    bus: Bus,
    group: str,
    topics: list[str],
    offsets: MemoryOffsets,
    expected: int,
    timeout: float = 60,
) -> list[Record]:
    consumer = bus.consumer(group, topics, offsets)
    await consumer.start()
    got: list[Record] = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(unique(got)) < expected and asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout=0.5, max_records=100)
            got.extend(batch)
            store(offsets, group, batch)
        # Nothing more than expected arrives.
        got.extend(await consumer.getmany(timeout=0.5, max_records=100))
    finally:
        await consumer.stop()
    return got


def store(offsets: MemoryOffsets, group: str, batch: list[Record]) -> None:
    """What a real consumer does after applying a batch: store the next positions."""
    for r in batch:
        offsets.positions[(group, r.tp)] = r.offset + 1


def unique(got: list[Record]) -> list[Record]:
    """At-least-once: a rebalance may deliver a record again; keep each record's first delivery."""
    seen: set[tuple[TopicPartition, int]] = set()
    out = []
    for r in got:
        if (r.tp, r.offset) not in seen:
            seen.add((r.tp, r.offset))
            out.append(r)
    return out


def records(topic: str, keys: int, per_key: int, start: int = 0) -> list[OutgoingRecord]:
    out = []
    for seq in range(start, start + per_key):
        for k in range(keys):
            out.append(OutgoingRecord(topic, f"key-{k}", json.dumps({"k": k, "seq": seq}).encode()))
    return out


async def test_every_record_arrives_in_order_per_key(runtime: Runtime) -> None:
    topic = runtime.settings.topic("contract.order")
    await runtime.bus.ensure_topics([topic])
    for chunk in range(3):
        await runtime.bus.publish(records(topic, keys=10, per_key=20, start=chunk * 20))
    got = unique(
        await drain(runtime.bus, runtime.settings.topic("g-order"), [topic], MemoryOffsets(), 600)
    )
    assert len(got) == 600
    by_key: dict[str, list[int]] = defaultdict(list)
    for r in got:
        by_key[r.key].append(json.loads(r.value)["seq"])
    assert set(by_key) == {f"key-{k}" for k in range(10)}
    assert all(seqs == list(range(60)) for seqs in by_key.values())


async def test_each_group_sees_every_record(runtime: Runtime) -> None:
    topic = runtime.settings.topic("contract.groups")
    await runtime.bus.ensure_topics([topic])
    await runtime.bus.publish(records(topic, keys=4, per_key=25))
    a = unique(
        await drain(runtime.bus, runtime.settings.topic("g-a"), [topic], MemoryOffsets(), 100)
    )
    b = unique(
        await drain(runtime.bus, runtime.settings.topic("g-b"), [topic], MemoryOffsets(), 100)
    )
    assert len(a) == len(b) == 100
    assert sorted(r.value for r in a) == sorted(r.value for r in b)


async def test_positions_come_from_the_consumers_store(runtime: Runtime) -> None:
    """A restarted member resumes exactly where its stored positions say: records past them are
    delivered again (at-least-once), records before them are not."""
    topic = runtime.settings.topic("contract.resume")
    group = runtime.settings.topic("g-resume")
    await runtime.bus.ensure_topics([topic])
    await runtime.bus.publish(records(topic, keys=6, per_key=10))
    first = unique(await drain(runtime.bus, group, [topic], MemoryOffsets(), 60))
    offsets = MemoryOffsets()
    assert len(first) == 60
    # Store positions for half of each partition's records, as a consumer that applied only those.
    by_tp: dict[TopicPartition, list[Record]] = defaultdict(list)
    for r in first:
        by_tp[r.tp].append(r)
    applied: list[Record] = []
    for tp, recs in by_tp.items():
        half = recs[: len(recs) // 2]
        applied.extend(half)
        offsets.positions[(group, tp)] = (half[-1].offset + 1) if half else recs[0].offset
    again = unique(await drain(runtime.bus, group, [topic], offsets, 60 - len(applied)))
    assert sorted(r.value for r in applied + again) == sorted(r.value for r in first)
    assert not {r.value for r in applied} & {r.value for r in again}


async def test_headers_travel_with_the_record(runtime: Runtime) -> None:
    """Trace context rides in the record's headers on both buses."""
    topic = runtime.settings.topic("contract.headers")
    await runtime.bus.ensure_topics([topic])
    parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    await runtime.bus.publish(
        [OutgoingRecord(topic, "k", b"{}", {"traceparent": parent, "quotient-origin": "1.5"})]
    )
    (got,) = unique(
        await drain(runtime.bus, runtime.settings.topic("g-headers"), [topic], MemoryOffsets(), 1)
    )
    assert got.headers == {"traceparent": parent, "quotient-origin": "1.5"}


async def test_lag_counts_what_the_member_has_not_read(runtime: Runtime) -> None:
    topic = runtime.settings.topic("contract.lag")
    group = runtime.settings.topic("g-lag")
    await runtime.bus.ensure_topics([topic])
    await runtime.bus.publish(records(topic, keys=3, per_key=4))
    offsets = MemoryOffsets()
    consumer = runtime.bus.consumer(group, [topic], offsets)
    await consumer.start()
    try:

        async def caught_up() -> bool:
            # As the consumer loop does: read and apply, then ask between batches.
            batch = await consumer.getmany(timeout=0.5, max_records=100)
            store(offsets, group, batch)
            await consumer.committed({r.tp: r.offset + 1 for r in batch})
            lag = await consumer.lag()
            assert lag and sum(lag.values()) == 0, lag
            return True

        await eventually(caught_up, timeout=30)
        await runtime.bus.publish(records(topic, keys=3, per_key=2, start=4))

        async def behind() -> bool:
            lag = await consumer.lag()
            assert sum(lag.values()) == 6, lag
            return True

        await eventually(behind, timeout=30)
    finally:
        await consumer.stop()


def payment(tenant: uuid.UUID, event_id: str, actor: str, value: str) -> ActivityRecorded:
    act = ActivityEvent.model_validate(
        {
            "id": event_id,
            "type": "payment_received",
            "occurred_at": "2026-03-05T10:00:00+08:00",
            "actor_id": actor,
            "amount": {"value": value, "currency": "CNY"},
        }
    )
    return new_event(
        ActivityRecorded,
        event_id=uuid.uuid5(uuid.NAMESPACE_URL, f"{tenant}/{event_id}"),
        tenant_id=tenant,
        key=person_key(tenant, actor),
        occurred_at=datetime.now(UTC),
        payload=ActivityRecordedPayload(
            source_id=uuid.uuid4(), timezone="Asia/Shanghai", activity=act
        ),
    )


async def test_consumer_loop_applies_each_event_once_and_dead_letters_poison(
    runtime: Runtime, database: DatabaseUrls
) -> None:
    topic = runtime.settings.topic("crm.activities.v1")
    group = runtime.settings.topic("goals")
    await runtime.bus.ensure_topics([topic, runtime.settings.topic(dead_letter_topic("goals"))])
    tenant = uuid.uuid4()
    events = [payment(tenant, f"e{i}", f"p-{i % 5}", f"{i}.50") for i in range(200)]
    out = [OutgoingRecord(topic, e.key, encode_event(e)) for e in events]
    out.insert(50, OutgoingRecord(topic, f"{tenant}:p-0", b"not json at all"))
    out.insert(
        120, OutgoingRecord(topic, f"{tenant}:p-1", b'{"type": "activity.recorded", "version": 9}')
    )
    out.extend(OutgoingRecord(topic, e.key, encode_event(e)) for e in events[:40])  # redelivered
    await runtime.bus.publish(out)

    loop = ConsumerLoop(
        group=group,
        topics=[topic],
        bus=runtime.bus,
        sessions=runtime.sessions,
        messaging=goals_messaging,
        handler=apply_activities,
        topic_prefix=runtime.settings.topic_prefix,
        batch_size=64,
    )
    task = asyncio.create_task(loop.run())

    async def totals() -> dict[str, Decimal]:
        async with tenant_session(runtime.sessions, tenant) as s:
            rows = await s.execute(
                text(
                    "SELECT owner_id AS person_id, value FROM goals.totals WHERE metric = 'collected_revenue'"
                    " AND owner_kind = 'person' AND period_kind = 'month'"
                )
            )
            return {r.person_id: r.value for r in rows}

    expected: dict[str, Decimal] = defaultdict(Decimal)
    for i in range(200):
        expected[f"p-{i % 5}"] += Decimal(f"{i}.50")

    async def settled() -> bool:
        t = await totals()
        async with admin.connect() as s:
            dead = (
                await s.execute(text("SELECT count(*) FROM goals.outbox WHERE topic LIKE '%dlq.%'"))
            ).scalar_one()
            consumed = (
                await s.execute(
                    text(
                        "SELECT count(*) FROM goals.inbox WHERE tenant_id <> '00000000-0000-0000-0000-000000000000'"
                    )
                )
            ).scalar_one()
        assert (t, dead, consumed) == (expected, 2, 200), (sum(t.values()), dead, consumed)
        return True

    admin = create_async_engine(database.admin_url)
    try:
        await eventually(settled, timeout=90)
        await asyncio.sleep(1.0)  # the redelivered copies are behind; nothing changes
        assert await totals() == expected
    finally:
        await admin.dispose()
        loop.stop()
        task.cancel()
        with pytest.raises((asyncio.CancelledError, Exception)):
            await task
