"""Column types."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class Amount(TypeDecorator[Decimal]):
    """NUMERIC that reads back in plain notation: asyncpg can return 1000000 as Decimal('1.00E+6'),
    equal in value but not what a person (or a JSON client) expects to read."""

    impl = Numeric
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(format(value, "f"))
