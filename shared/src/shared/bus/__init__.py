"""The event bus: one interface, two implementations (Apache Kafka, and the embedded log in
PostgreSQL for the single-process mode), plus the outbox relay and the inbox consumer loop."""

from shared.bus.base import Bus, BusConsumer, OffsetStore, OutgoingRecord, Record, TopicPartition

__all__ = ["Bus", "BusConsumer", "OffsetStore", "OutgoingRecord", "Record", "TopicPartition"]
