"""The tables every service has for reliable messaging: outbox, inbox and consumer positions.

They live in the service's own schema so that effects, consumed positions and produced events
are written in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Column,
    Identity,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    Uuid,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, TIMESTAMP

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def service_metadata(schema: str) -> MetaData:
    return MetaData(schema=schema, naming_convention=NAMING_CONVENTION)


@dataclass(frozen=True)
class MessagingTables:
    schema: str
    outbox: Table
    inbox: Table
    consumer_offsets: Table

    @property
    def notify_channel(self) -> str:
        return f"quotient_outbox_{self.schema}"


def add_messaging_tables(metadata: MetaData) -> MessagingTables:
    """Declare outbox, inbox and consumer_offsets in the service's metadata."""
    assert metadata.schema is not None
    outbox = Table(
        "outbox",
        metadata,
        Column("id", BigInteger, Identity(), primary_key=True),
        Column("tenant_id", Uuid, nullable=True),
        Column("event_id", Uuid, nullable=False),
        Column("topic", Text, nullable=False),
        Column("key", Text, nullable=False),
        Column("value", LargeBinary, nullable=False),
        Column("headers", JSONB, nullable=False, server_default="{}"),
        Column("created_at", TIMESTAMP(timezone=True), nullable=False, server_default=func.now()),
        info={"infrastructure": "relayed across tenants by the outbox relay"},
        # No RETURNING: a dead letter (no tenant) is writable but not readable under row-level
        # security, and nothing needs the generated id back.
        implicit_returning=False,
    )
    inbox = Table(
        "inbox",
        metadata,
        Column("consumer_group", Text, primary_key=True),
        Column("event_id", Uuid, primary_key=True),
        Column("tenant_id", Uuid, nullable=False),
        Column("consumed_at", TIMESTAMP(timezone=True), nullable=False, server_default=func.now()),
    )
    consumer_offsets = Table(
        "consumer_offsets",
        metadata,
        Column("consumer_group", Text, primary_key=True),
        Column("topic", Text, primary_key=True),
        Column("partition", Integer, primary_key=True),
        Column("next_offset", BigInteger, nullable=False),
        Column("updated_at", TIMESTAMP(timezone=True), nullable=False, server_default=func.now()),
        info={"infrastructure": "bus positions are per partition, not per tenant"},
    )
    return MessagingTables(metadata.schema, outbox, inbox, consumer_offsets)
