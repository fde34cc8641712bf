"""The bus contract both implementations honour.

- per-key order: records with the same key are delivered in the order they were published;
- at-least-once: a record is redelivered until its consumer group stored a position past it;
- consumer groups: every group sees every record; positions are stored by the consumer together
  with its effects (OffsetStore), and restored from there when partitions are (re)assigned.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol


class TopicPartition(NamedTuple):
    topic: str
    partition: int


@dataclass(frozen=True)
class OutgoingRecord:
    topic: str
    key: str
    value: bytes
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: str
    value: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def tp(self) -> TopicPartition:
        return TopicPartition(self.topic, self.partition)


class OffsetStore(Protocol):
    """Where a consumer group's positions live (next offset to read, per partition)."""

    async def load(
        self, group: str, partitions: Sequence[TopicPartition]
    ) -> dict[TopicPartition, int]: ...


class BusConsumer(ABC):
    @abstractmethod
    async def start(self) -> None: ...

    @abstractmethod
    async def stop(self) -> None: ...

    @abstractmethod
    async def getmany(self, timeout: float, max_records: int) -> list[Record]:
        """Records from the current positions; advances the in-memory positions."""

    @abstractmethod
    async def rewind(self) -> None:
        """Go back to the stored positions (after a batch whose effects were not committed)."""

    @abstractmethod
    async def committed(self, positions: Mapping[TopicPartition, int]) -> None:
        """The effects up to these positions are durably stored."""

    @abstractmethod
    async def lag(self) -> dict[TopicPartition, int]:
        """Per partition this member reads: records on the bus beyond its position (asked
        between batches, when the position is also what was applied)."""


class Bus(ABC):
    kind: str

    @abstractmethod
    async def start(self) -> None: ...

    @abstractmethod
    async def stop(self) -> None: ...

    @abstractmethod
    async def ping(self) -> None:
        """Raise when the bus cannot be reached."""

    @abstractmethod
    async def ensure_topics(self, topics: Sequence[str]) -> None: ...

    @abstractmethod
    async def publish(self, records: Sequence[OutgoingRecord]) -> None:
        """Durably publish, in order; returns once every record is acknowledged."""

    @abstractmethod
    def consumer(self, group: str, topics: Sequence[str], offsets: OffsetStore) -> BusConsumer: ...
