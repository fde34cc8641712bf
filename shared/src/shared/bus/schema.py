"""Tables of the embedded bus (schema ``bus``): the log and the head of each topic."""

from sqlalchemy import BigInteger, Column, Integer, LargeBinary, Table, Text, func
from sqlalchemy.dialects.postgresql import JSONB, TIMESTAMP

from shared.db.messaging import service_metadata

metadata = service_metadata("bus")

heads = Table(
    "heads",
    metadata,
    Column("topic", Text, primary_key=True),
    Column("partition", Integer, primary_key=True),
    Column("next_offset", BigInteger, nullable=False),
    info={"infrastructure": "the embedded bus is shared by all tenants, like a Kafka topic"},
)

log = Table(
    "log",
    metadata,
    Column("topic", Text, primary_key=True),
    Column("partition", Integer, primary_key=True),
    Column("offset", BigInteger, primary_key=True),
    Column("key", Text, nullable=False),
    Column("value", LargeBinary, nullable=False),
    Column("headers", JSONB, nullable=False, server_default="{}"),
    Column("created_at", TIMESTAMP(timezone=True), nullable=False, server_default=func.now()),
    info={"infrastructure": "the embedded bus is shared by all tenants, like a Kafka topic"},
)
