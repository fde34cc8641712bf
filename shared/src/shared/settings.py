"""Typed settings: one shared base, one subclass per service (environment variables only)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_JWT_SECRET = "quotient-development-secret-change-me"
DEV_PSEUDONYM_KEY = "quotient-development-pseudonym-key"


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class BaseServiceSettings(BaseSettings):
    """Settings every process reads; a service subclasses it for its own."""

    model_config = SettingsConfigDict(env_prefix="QUOTIENT_", extra="ignore", populate_by_name=True)

    env: Environment = Environment.development
    # The restricted application role's URL. Unset in development: the embedded server is used.
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "QUOTIENT_DATABASE_URL")
    )
    # The schema owner's URL, used by migrations only. Defaults to database_url.
    database_owner_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_OWNER_URL", "QUOTIENT_DATABASE_OWNER_URL"),
    )
    database_pool_size: int = 10
    # The role the services connect as; migrations grant it table privileges.
    database_app_role: str = "quotient_app"
    kafka_bootstrap_servers: str | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "KAFKA_BOOTSTRAP_SERVERS", "QUOTIENT_KAFKA_BOOTSTRAP_SERVERS"
        ),
    )
    # embedded: durable log in PostgreSQL (single process); kafka: Apache Kafka via aiokafka.
    bus: Literal["embedded", "kafka"] | None = None
    topic_prefix: str = ""
    kafka_partitions: int = 6
    kafka_replication_factor: int = 1
    # Where the embedded PostgreSQL keeps its data when DATABASE_URL is not set.
    data_dir: Path = Path(".quotient")
    embedded_postgres_port: int = 54329
    jwt_secret: str = DEV_JWT_SECRET
    jwt_issuer: str = "quotient-dev"
    jwt_audience: str = "quotient"
    # Production: the identity provider's JWKS URL; tokens are verified with its keys, with these
    # algorithms only (never the one a token names). Unset: HS256 with jwt_secret (development).
    jwt_jwks_url: str | None = None
    jwt_algorithms: list[str] = Field(default_factory=lambda: ["RS256", "ES256"])
    jwt_leeway_seconds: int = 30
    # Keys the hashes by which an erased person's later events are recognised (never the id).
    pseudonym_key: str = DEV_PSEUDONYM_KEY
    # The public base URL webhooks are posted to (some vendors sign the full URI).
    public_base_url: str = "http://127.0.0.1:8000"
    webhook_tolerance_seconds: int = 300
    # Outbound calls (alert channels) go only to registered URLs; private, loopback and
    # link-local targets are refused unless this is on (tests turn it on for a local receiver).
    outbound_allow_private: bool = False
    # Multiplies the retry schedule of outbound deliveries (now, 5 s, 30 s, 2 min, 10 min, 1 h).
    outbound_backoff_scale: float = 1.0
    # How often time-driven early warnings (pace without activity, stalled deals) are checked.
    alert_sweep_seconds: float = 60.0
    webhook_max_body_bytes: int = 1024 * 1024
    outbox_poll_seconds: float = 0.2
    consumer_batch_size: int = 500
    # How long a consumer / relay waits for more records before a (partial) batch: latency spent
    # for fewer, bigger transactions under load.
    consumer_linger_seconds: float = 0.02
    outbox_linger_seconds: float = 0.005
    log_level: str = "INFO"
    # json: one JSON object a line (what log collectors want); text: readable lines for a
    # terminal. Unset: json in production, text otherwise.
    log_format: Literal["json", "text"] | None = None
    # Workers serve /healthz, /readyz and /metrics on this port (apis serve them on their own
    # port); 0 turns the workers' HTTP listener off.
    metrics_port: int = 9100
    # Rate limits (per process; 0 turns one off): webhook requests per source and per tenant,
    # GraphQL requests per tenant.
    webhook_rate_per_source: float = 200
    webhook_burst_per_source: int = 400
    webhook_rate_per_tenant: float = 500
    webhook_burst_per_tenant: int = 1000
    graphql_rate_per_tenant: float = 50
    graphql_burst_per_tenant: int = 100
    graphql_max_depth: int = 10
    graphql_max_tokens: int = 2000
    graphql_max_aliases: int = 15
    # 1 per field; the fields under a list count 20 times (an estimate of the list's length).
    graphql_max_cost: int = 5000

    @model_validator(mode="after")
    def _refuse_development_defaults(self) -> BaseServiceSettings:
        if self.env is not Environment.development and self.env is not Environment.test:
            if self.jwt_secret == DEV_JWT_SECRET:
                raise ValueError("QUOTIENT_JWT_SECRET must be set outside development")
            if self.pseudonym_key == DEV_PSEUDONYM_KEY:
                raise ValueError("QUOTIENT_PSEUDONYM_KEY must be set outside development")
            if not self.database_url:
                raise ValueError("DATABASE_URL must be set outside development")
        return self

    @model_validator(mode="after")
    def _asymmetric_algorithms_only_with_jwks(self) -> BaseServiceSettings:
        if self.jwt_jwks_url and any(
            a.upper().startswith(("HS", "NONE")) for a in self.jwt_algorithms
        ):
            raise ValueError(
                "QUOTIENT_JWT_ALGORITHMS must be asymmetric (RS*/ES*/PS*) with a JWKS URL"
            )
        return self

    @property
    def log_style(self) -> Literal["json", "text"]:
        if self.log_format is not None:
            return self.log_format
        return "json" if self.env is Environment.production else "text"

    @property
    def bus_kind(self) -> Literal["embedded", "kafka"]:
        if self.bus is not None:
            return self.bus
        return "kafka" if self.kafka_bootstrap_servers else "embedded"

    @property
    def owner_url(self) -> str | None:
        return self.database_owner_url or self.database_url

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"
