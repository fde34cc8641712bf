from __future__ import annotations

import pytest
from pydantic import ValidationError

from shared.settings import BaseServiceSettings


def test_production_refuses_the_development_secret() -> None:
    with pytest.raises(ValidationError, match="QUOTIENT_JWT_SECRET"):
        BaseServiceSettings(env="production", database_url="postgresql://x@y/z")


def test_production_with_a_real_secret_is_fine_and_picks_kafka_when_given() -> None:
    s = BaseServiceSettings(
        env="production",
        database_url="postgresql://x@y/z",
        jwt_secret="a" * 40,
        pseudonym_key="b" * 40,
        kafka_bootstrap_servers="k:9092",
    )
    assert s.bus_kind == "kafka"


def test_production_refuses_the_development_pseudonym_key() -> None:
    with pytest.raises(ValidationError, match="QUOTIENT_PSEUDONYM_KEY"):
        BaseServiceSettings(
            env="production", database_url="postgresql://x@y/z", jwt_secret="a" * 40
        )
