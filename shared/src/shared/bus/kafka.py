"""Apache Kafka through aiokafka: idempotent producer (acks=all), consumer groups with
auto-commit off. The consumer's positions live in its own database, written with its effects;
they are restored into Kafka's fetch positions whenever partitions are assigned."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence

from aiokafka import (
    AIOKafkaConsumer,
    AIOKafkaProducer,
    ConsumerRebalanceListener,
)
from aiokafka import (
    TopicPartition as KTP,
)
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import CommitFailedError, KafkaError, TopicAlreadyExistsError

from shared.bus.base import Bus, BusConsumer, OffsetStore, OutgoingRecord, Record, TopicPartition

log = logging.getLogger(__name__)


class KafkaBus(Bus):
    kind = "kafka"

    def __init__(
        self,
        bootstrap_servers: str,
        *,
        partitions: int = 6,
        replication_factor: int = 1,
        client_id: str = "quotient",
    ):
        self._servers = bootstrap_servers
        self._partitions = partitions
        self._replication = replication_factor
        self._client_id = client_id
        self._producer: AIOKafkaProducer | None = None
        self._admin: AIOKafkaAdminClient | None = None
        self._known_topics: set[str] = set()

    @property
    def bootstrap_servers(self) -> str:
        return self._servers

    async def start(self) -> None:
        self._admin = AIOKafkaAdminClient(
            bootstrap_servers=self._servers, client_id=self._client_id
        )
        await self._admin.start()

    async def _ensure_producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = AIOKafkaProducer(
                bootstrap_servers=self._servers,
                client_id=self._client_id,
                enable_idempotence=True,
                acks="all",
                linger_ms=5,
                max_batch_size=256 * 1024,
            )
            await producer.start()
            self._producer = producer
        return self._producer

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None
        if self._admin is not None:
            await self._admin.close()
            self._admin = None

    async def ping(self) -> None:
        assert self._admin is not None, "bus not started"
        await asyncio.wait_for(self._admin.describe_cluster(), timeout=5)

    async def ensure_topics(self, topics: Sequence[str]) -> None:
        assert self._admin is not None, "bus not started"
        missing = [t for t in topics if t not in self._known_topics]
        if not missing:
            return
        existing = set(await self._admin.list_topics())
        new = [
            NewTopic(name=t, num_partitions=self._partitions, replication_factor=self._replication)
            for t in missing
            if t not in existing
        ]
        if new:
            try:
                await self._admin.create_topics(new)
            except TopicAlreadyExistsError:
                pass
        # Creation is asynchronous on the broker: wait until the topics are listed.
        for _ in range(100):
            if set(missing) <= set(await self._admin.list_topics()):
                break
            await asyncio.sleep(0.1)
        self._known_topics.update(missing)

    async def publish(self, records: Sequence[OutgoingRecord]) -> None:
        if not records:
            return
        producer = await self._ensure_producer()
        await self.ensure_topics(sorted({r.topic for r in records}))
        futures = [
            await producer.send(
                r.topic,
                value=r.value,
                key=r.key.encode(),
                headers=[(k, v.encode()) for k, v in r.headers.items()],
            )
            for r in records
        ]
        await asyncio.gather(*futures)

    def consumer(self, group: str, topics: Sequence[str], offsets: OffsetStore) -> BusConsumer:
        return KafkaConsumer(self, group, list(topics), offsets)


class _RestorePositions(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, owner: KafkaConsumer):
        self._owner = owner

    async def on_partitions_revoked(self, revoked: list[KTP]) -> None:
        return None

    async def on_partitions_assigned(self, assigned: list[KTP]) -> None:
        await self._owner.seek_to_stored(list(assigned))


class KafkaConsumer(BusConsumer):
    def __init__(self, bus: KafkaBus, group: str, topics: list[str], offsets: OffsetStore):
        self._bus = bus
        self._group = group
        self._topics = topics
        self._offsets = offsets
        self._consumer: AIOKafkaConsumer | None = None

    async def start(self) -> None:
        await self._bus.ensure_topics(self._topics)
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bus.bootstrap_servers,
            group_id=self._group,
            client_id=f"{self._group}-consumer",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=2000,
            fetch_max_wait_ms=100,
            # A topic created moments ago must not wait for the default 5-minute metadata refresh.
            metadata_max_age_ms=5000,
        )
        await self._consumer.start()
        self._consumer.subscribe(self._topics, listener=_RestorePositions(self))

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None

    async def seek_to_stored(self, partitions: list[KTP]) -> None:
        assert self._consumer is not None
        if not partitions:
            return
        stored = await self._offsets.load(
            self._group, [TopicPartition(tp.topic, tp.partition) for tp in partitions]
        )
        for tp in partitions:
            position = stored.get(TopicPartition(tp.topic, tp.partition))
            if position is not None:
                self._consumer.seek(tp, position)
            else:
                # Nothing stored yet: begin at the group's committed offset, or the earliest.
                committed = await self._consumer.committed(tp)
                if committed is not None:
                    self._consumer.seek(tp, committed)
                else:
                    await self._consumer.seek_to_beginning(tp)

    async def rewind(self) -> None:
        assert self._consumer is not None
        await self.seek_to_stored(list(self._consumer.assignment()))

    async def getmany(self, timeout: float, max_records: int) -> list[Record]:
        assert self._consumer is not None
        batches = await self._consumer.getmany(
            timeout_ms=int(timeout * 1000), max_records=max_records
        )
        records: list[Record] = []
        for tp, messages in batches.items():
            for m in messages:
                records.append(
                    Record(
                        tp.topic,
                        tp.partition,
                        m.offset,
                        (m.key or b"").decode(),
                        m.value or b"",
                        {k: v.decode() for k, v in (m.headers or ())},
                    )
                )
        return records

    async def lag(self) -> dict[TopicPartition, int]:
        assert self._consumer is not None
        assigned = list(self._consumer.assignment())
        if not assigned:
            return {}
        ends = await self._consumer.end_offsets(assigned)
        lag: dict[TopicPartition, int] = {}
        for tp in assigned:
            position = await self._consumer.position(tp)
            lag[TopicPartition(tp.topic, tp.partition)] = max(0, ends[tp] - position)
        return lag

    async def committed(self, positions: Mapping[TopicPartition, int]) -> None:
        assert self._consumer is not None
        # Informational (lag monitoring): the database holds the positions that count.
        try:
            await self._consumer.commit(
                {KTP(tp.topic, tp.partition): o for tp, o in positions.items()}
            )
        except (CommitFailedError, KafkaError) as exc:
            log.info("offset commit to Kafka skipped: %s", exc)
