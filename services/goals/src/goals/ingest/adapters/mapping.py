"""Mapping for any other CRM: a tenant-defined mapping from the CRM's own JSON to canonical events.

A Chinese CRM (纷享销客, 销售易, 钉钉 CRM...) posts its own shape to the generic signed webhook; the
source's mapping says where each canonical field is read (a small JSONPath subset), how the value is
converted (``format``), translated (``map``, e.g. stage → activity type, 新客户 → ``new``) and
defaulted. A mapping is compiled (and refused with the failing field and path) when it is saved,
and can be tried against a sample payload (``test_mapping``, a dry run) before it is switched on.

Example::

    {
      "items": "$.data.records",
      "timezone": "Asia/Shanghai",
      "fields": {
        "id": {"path": "$['单据编号']"},
        "type": {"path": "$['阶段']", "map": {"赢单": "deal_won", "输单": "deal_lost"}},
        "occurred_at": {"path": "$['成交时间']", "format": "epoch_ms"},
        "actor_id": {"path": "$['负责人']['员工编号']"},
        "customer.segment": {"path": "$['客户']['类型']", "map": {"新客户": "new"}},
        "amount.value": {"path": "$['金额']", "format": "decimal"},
        "amount.currency": {"value": "CNY"}
      }
    }

Paths: ``$`` is the record (the body for ``items``), then ``.name``, ``['any name']`` (or double
quotes; a backslash escapes the next character), ``[0]`` (negative counts from the end) and, in
``items`` only, ``[*]`` (every element of an array or value of an object; array matches are
concatenated).

A rule reads ``path`` (or takes the constant ``value`` as is), then applies ``format``, then
``map``; ``default`` (a canonical value, neither formatted nor mapped) is used when the read value
is missing or null, and when it is not in ``map``. Authentication is the generic signed webhook.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from goals.ingest.adapters.base import (
    Credentials,
    Delivery,
    Malformed,
    Mapped,
    ObjectState,
    Refused,
)
from shared.events.activity import ActivityEvent, ActivityType
from shared.signing import SignatureError, verify

__all__ = [
    "CANONICAL_FIELDS",
    "FORMATS",
    "REQUIRED_FIELDS",
    "FieldRule",
    "Format",
    "MappingError",
    "MappingSpec",
    "PathError",
    "apply_mapping",
    "authenticate",
    "compile_mapping",
    "decode",
    "objects",
    "parse_path",
    "test_mapping",
    "to_events",
]

Format = Literal["epoch_ms", "epoch_s", "date", "datetime_local", "decimal", "string"]
FORMATS: tuple[str, ...] = get_args(Format)

REQUIRED_FIELDS: tuple[str, ...] = ("id", "type", "occurred_at", "actor_id")
CANONICAL_FIELDS: frozenset[str] = frozenset(
    {
        *REQUIRED_FIELDS,
        "recorded_at",
        "customer.id",
        "customer.segment",
        "customer.region",
        "deal_id",
        "product_line",
        "amount.value",
        "amount.currency",
        "refers_to",
    }
)
ATTRIBUTES_PREFIX = "attributes."
ACTIVITY_TYPES: frozenset[str] = frozenset(t.value for t in ActivityType)


class MappingError(ValueError):
    """A mapping that cannot be saved: ``field`` names what is wrong (e.g. ``fields.type.map``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


class PathError(ValueError):
    """A malformed path."""


# --- paths -------------------------------------------------------------------------------------

# A step: a key (str), an index (int) or the wildcard (None).
Step = str | int | None
_WILDCARD: Step = None
_NOT_IN_NAME = frozenset(".[]'\"*")


@functools.lru_cache(maxsize=4096)
def parse_path(path: str, *, wildcard: bool = False) -> tuple[Step, ...]:
    """Parse ``$.a['b c'][0]`` into steps; raise PathError naming the position (0-based)."""

    def unexpected(i: int) -> PathError:
        if i >= len(path):
            return PathError(f'unexpected end at {i} in "{path}"')
        return PathError(f'unexpected character at {i} in "{path}"')

    if not path.startswith("$"):
        raise unexpected(0)
    steps: list[Step] = []
    i, n = 1, len(path)
    while i < n:
        ch = path[i]
        if ch == ".":
            start = i = i + 1
            while i < n and path[i] not in _NOT_IN_NAME and not path[i].isspace():
                i += 1
            if i == start:
                raise unexpected(i)
            steps.append(path[start:i])
        elif ch == "[":
            i += 1
            if i >= n:
                raise unexpected(i)
            ch = path[i]
            if ch in "'\"":
                quote, i, chars = ch, i + 1, []
                while True:
                    if i >= n:
                        raise unexpected(i)
                    if path[i] == "\\":
                        if i + 1 >= n:
                            raise unexpected(i + 1)
                        chars.append(path[i + 1])
                        i += 2
                    elif path[i] == quote:
                        i += 1
                        break
                    else:
                        chars.append(path[i])
                        i += 1
                steps.append("".join(chars))
            elif ch == "*":
                if not wildcard:
                    raise PathError(f'[*] at {i - 1} in "{path}" is only allowed in items')
                i += 1
                steps.append(_WILDCARD)
            elif ch == "-" or (ch.isascii() and ch.isdigit()):
                start = i
                i += 1 if ch == "-" else 0
                digits = i
                while i < n and path[i].isascii() and path[i].isdigit():
                    i += 1
                if i == digits:
                    raise unexpected(i)
                steps.append(int(path[start:i]))
            else:
                raise unexpected(i)
            if i >= n or path[i] != "]":
                raise unexpected(i)
            i += 1
        else:
            raise unexpected(i)
    return tuple(steps)


_MISSING: Any = object()


def _step(value: Any, step: Step) -> Any:
    if isinstance(step, str):
        return value.get(step, _MISSING) if isinstance(value, dict) else _MISSING
    if isinstance(step, int) and isinstance(value, list):
        return value[step] if -len(value) <= step < len(value) else _MISSING
    return _MISSING


def _read(steps: tuple[Step, ...], value: Any) -> Any:
    """The value at a path without wildcards, or _MISSING."""
    for step in steps:
        value = _step(value, step)
        if value is _MISSING:
            break
    return value


def _select(steps: tuple[Step, ...], value: Any) -> list[Any] | None:
    """Every value a path with wildcards matches, or None when any branch does not exist."""
    current = [value]
    for step in steps:
        following: list[Any] = []
        for v in current:
            if step is _WILDCARD:
                if isinstance(v, list):
                    following.extend(v)
                elif isinstance(v, dict):
                    following.extend(v.values())
                else:
                    return None
            else:
                nxt = _step(v, step)
                if nxt is _MISSING:
                    return None
                following.append(nxt)
        current = following
    return current


# --- the mapping -------------------------------------------------------------------------------


class FieldRule(BaseModel):
    """Where one canonical field comes from and how its value is converted."""

    model_config = ConfigDict(extra="forbid")

    path: str | None = None  # read from the record
    value: Any = None  # or a constant (a canonical value, used as is)
    map: dict[str, Any] | None = None  # value map, applied after format
    default: Any = None  # when missing / null / not in map
    format: Format | None = None

    @field_validator("format", mode="before")
    @classmethod
    def _known_format(cls, raw: Any) -> Any:
        if raw is not None and raw not in FORMATS:
            raise ValueError(f"unknown format {raw!r} (one of: {', '.join(FORMATS)})")
        return raw

    @field_validator("path")
    @classmethod
    def _valid_path(cls, raw: str | None) -> str | None:
        if raw is not None:
            parse_path(raw)
        return raw

    @model_validator(mode="after")
    def _one_source(self) -> FieldRule:
        if self.path is not None and self.value is not None:
            raise MappingError("", "give either path or value, not both")
        if self.path is None and self.value is None and self.default is None:
            raise MappingError("", "give a path, a constant value or a default")
        if self.path is None and (self.map is not None or self.format is not None):
            raise MappingError("", "map and format apply to a path only")
        return self


class MappingSpec(BaseModel):
    """A tenant's mapping for one source (see the module docstring)."""

    model_config = ConfigDict(extra="forbid")

    items: str | None = None  # the records in the body; None: the body is one record or an array
    fields: dict[str, FieldRule]
    timezone: str = "Asia/Shanghai"  # for date and datetime_local

    @field_validator("items")
    @classmethod
    def _valid_items(cls, raw: str | None) -> str | None:
        if raw is not None:
            parse_path(raw, wildcard=True)
        return raw

    @field_validator("timezone")
    @classmethod
    def _valid_timezone(cls, raw: str) -> str:
        _zone(raw)
        return raw

    @model_validator(mode="after")
    def _complete(self) -> MappingSpec:
        for name in self.fields:
            if name in CANONICAL_FIELDS:
                continue
            attr = name[len(ATTRIBUTES_PREFIX) :] if name.startswith(ATTRIBUTES_PREFIX) else ""
            if not attr or "." in attr:
                raise MappingError(
                    f"fields.{name}", "unknown canonical field (attributes are attributes.<name>)"
                )
        for name in REQUIRED_FIELDS:
            if name not in self.fields:
                raise MappingError(
                    f"fields.{name}",
                    f"a rule is required ({', '.join(REQUIRED_FIELDS)} must be mapped)",
                )
        money = [n for n in ("amount.value", "amount.currency") if n in self.fields]
        if len(money) == 1:
            other = "amount.currency" if money[0] == "amount.value" else "amount.value"
            raise MappingError(f"fields.{other}", f"a rule is required with {money[0]}")
        type_rule = self.fields["type"]
        for where, produced in (
            ("value", type_rule.value),
            ("default", type_rule.default),
            *((f"map[{k!r}]", v) for k, v in (type_rule.map or {}).items()),
        ):
            if produced is not None and produced not in ACTIVITY_TYPES:
                raise MappingError(
                    f"fields.type.{where}", f"{produced!r} is not a canonical activity type"
                )
        return self


@functools.lru_cache(maxsize=256)
def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def _loc(loc: Iterable[int | str]) -> str:
    return ".".join(str(p) for p in loc)


def _message(error: Any) -> str:
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, BaseException):
        return str(cause)
    msg = str(error["msg"])
    return msg.removeprefix("Value error, ")


def compile_mapping(raw: Any) -> MappingSpec:
    """Validate a tenant's mapping; raise MappingError naming the failing field and path."""
    if isinstance(raw, MappingSpec):
        return raw
    try:
        return MappingSpec.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        cause = (first.get("ctx") or {}).get("error")
        field = _loc(first["loc"])
        if isinstance(cause, MappingError):
            field = ".".join(p for p in (field, cause.field) if p)
            raise MappingError(field, cause.message) from None
        raise MappingError(field, _message(first)) from None


# --- applying it -------------------------------------------------------------------------------


class _FieldError(Exception):
    pass


def _number(raw: Any) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise ValueError
    number = Decimal(raw.strip() if isinstance(raw, str) else str(raw))
    if not number.is_finite():
        raise ValueError
    return number


def _epoch(raw: Any, per_second: int, zone: tzinfo) -> str:
    micros = int((_number(raw) * 1_000_000 / per_second).to_integral_value())
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros)
    return moment.astimezone(zone).isoformat()


def _local(raw: Any, zone: tzinfo, *, date_only: bool) -> str:
    if not isinstance(raw, str):
        raise ValueError
    text = raw.strip().replace("/", "-")
    if date_only:
        day = date.fromisoformat(text)
        return datetime(day.year, day.month, day.day, tzinfo=zone).isoformat()
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:  # an explicit offset in the value wins
        moment = moment.replace(tzinfo=zone)
    return moment.isoformat()


def _string(raw: Any) -> str:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, float):
        return str(int(raw)) if raw.is_integer() else format(_number(raw), "f")
    raise ValueError


def _formatted(raw: Any, fmt: Format, zone: tzinfo) -> Any:
    try:
        match fmt:
            case "epoch_ms":
                return _epoch(raw, 1000, zone)
            case "epoch_s":
                return _epoch(raw, 1, zone)
            case "date":
                return _local(raw, zone, date_only=True)
            case "datetime_local":
                return _local(raw, zone, date_only=False)
            case "decimal":
                return format(_number(raw), "f")
            case "string":
                return _string(raw)
    except (ValueError, ArithmeticError, OverflowError, InvalidOperation):
        pass
    raise _FieldError(f"cannot read {raw!r} as {fmt}")


def _map_key(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    return None


def _value(name: str, rule: FieldRule, record: Any, zone: tzinfo) -> Any:
    """The canonical value of one field (None: nothing to set); raise _FieldError."""
    if rule.path is None:
        return rule.value if rule.value is not None else rule.default
    raw = _read(parse_path(rule.path), record)
    if raw is _MISSING or raw is None:
        if rule.default is not None:
            return rule.default
        if name in REQUIRED_FIELDS:
            raise _FieldError(f"no value at {rule.path}")
        return None
    value = _formatted(raw, rule.format, zone) if rule.format else raw
    if rule.map is not None:
        key = _map_key(value)
        if key is not None and key in rule.map:
            return rule.map[key]
        if rule.default is not None:
            return rule.default
        raise _FieldError(f"no mapping for value {value!r}")
    return value


def _canonical(spec: MappingSpec, record: Any) -> tuple[dict[str, Any], list[str]]:
    zone = _zone(spec.timezone)
    event: dict[str, Any] = {}
    errors: list[str] = []
    for name, rule in spec.fields.items():
        try:
            value = _value(name, rule, record, zone)
        except _FieldError as exc:
            errors.append(f"{name}: {exc}")
            continue
        if value is None:
            continue
        head, _, tail = name.partition(".")
        if tail:
            event.setdefault(head, {})[tail] = value
        else:
            event[name] = value
    if "amount" in event and "value" not in event["amount"]:
        del event["amount"]  # a constant currency alone: this record carries no money
    return event, errors


def _records(spec: MappingSpec, payload: Any) -> list[Any] | str:
    """The records of a body, or why there are none."""
    if spec.items is None:
        if isinstance(payload, list):
            return payload
        if isinstance(payload, dict):
            return [payload]
        return "the body is neither a JSON object nor an array"
    steps = parse_path(spec.items, wildcard=True)
    found = _select(steps, payload)
    if found is None:
        return f"items: nothing at {spec.items}"
    if _WILDCARD not in steps:
        (value,) = found
        if isinstance(value, list):
            return value
        if isinstance(value, dict):
            return [value]
        return f"items: {spec.items} is not an array"
    records: list[Any] = []
    for value in found:
        records.extend(value if isinstance(value, list) else [value])
    return records


def _validation_errors(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = _loc(error["loc"])
        if error["type"] == "enum":  # pydantic lists all 24 types: name the offending value instead
            msg = f"{error['input']!r} is not a canonical activity type"
        else:
            msg = _message(error)
        parts.append(f"{where}: {msg}" if where else msg)
    return "; ".join(parts)


def apply_mapping(spec: MappingSpec, payload: Any) -> list[Mapped]:
    """Map every record of a decoded body to a canonical event dict or to an error."""
    records = _records(spec, payload)
    if isinstance(records, str):
        return [Mapped(index=0, raw=payload, error=records)]
    out: list[Mapped] = []
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            out.append(Mapped(index=index, raw=record, error="the record is not a JSON object"))
            continue
        event, errors = _canonical(spec, record)
        if errors:
            out.append(Mapped(index=index, raw=record, error="; ".join(errors)))
            continue
        try:
            valid = ActivityEvent.model_validate(event)
        except ValidationError as exc:
            out.append(Mapped(index=index, raw=record, error=_validation_errors(exc)))
            continue
        out.append(
            Mapped(index=index, raw=record, event=valid.model_dump(mode="json", exclude_none=True))
        )
    return out


def test_mapping(spec: MappingSpec, sample: Any) -> list[Mapped]:
    """A dry run of a mapping against a sample payload (nothing is stored)."""
    return apply_mapping(spec, sample)


test_mapping.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


# --- the adapter -------------------------------------------------------------------------------

SETTINGS_KEY = "mapping"  # Credentials.settings[SETTINGS_KEY]: the source's mapping


def authenticate(delivery: Delivery, credentials: Credentials) -> None:
    """The generic signed webhook (X-Quotient-Timestamp / X-Quotient-Signature); Refused if not."""
    try:
        verify(
            credentials.secrets,
            delivery.headers.get("x-quotient-timestamp"),
            delivery.headers.get("x-quotient-signature"),
            delivery.body,
            now=delivery.now,
        )
    except SignatureError as exc:
        raise Refused(str(exc)) from exc


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def decode(delivery: Delivery) -> Any:
    try:
        return json.loads(delivery.body, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError included
        raise Malformed(f"not JSON: {exc}") from exc


def objects(payload: Any) -> set[tuple[str, str]]:
    return set()


def to_events(payload: Any, credentials: Credentials, state: ObjectState) -> list[Mapped]:
    """The adapter entry point: the mapping is the source's ``settings["mapping"]``."""
    raw = credentials.settings.get(SETTINGS_KEY)
    if raw is None:
        return [Mapped(index=0, raw=payload, error="the source has no mapping")]
    try:
        spec = compile_mapping(raw)
    except MappingError as exc:
        return [Mapped(index=0, raw=payload, error=f"mapping: {exc}")]
    return apply_mapping(spec, payload)
