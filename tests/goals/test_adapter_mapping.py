"""Mapping for any other CRM: a tenant-defined JSON-path mapping to canonical activity events."""

from __future__ import annotations

import json
from typing import Any

import pytest

from goals.ingest.adapters import mapping
from goals.ingest.adapters.base import Credentials, Delivery, Malformed, ObjectState, Refused
from goals.ingest.adapters.mapping import MappingError, MappingSpec, compile_mapping, parse_path
from shared.signing import sign_headers

NOW = 1_772_676_000.0

FXIAOKE_MAPPING: dict[str, Any] = {
    "items": "$.data.records",
    "timezone": "Asia/Shanghai",
    "fields": {
        "id": {"path": "$['单据编号']"},
        "type": {"path": "$['阶段']", "map": {"赢单": "deal_won", "输单": "deal_lost"}},
        "occurred_at": {"path": "$['成交时间']", "format": "epoch_ms"},
        "actor_id": {"path": "$['负责人']['员工编号']"},
        "customer.id": {"path": "$['客户']['编号']"},
        "customer.segment": {
            "path": "$['客户']['类型']",
            "map": {"新客户": "new", "老客户": "existing"},
        },
        "customer.region": {"path": "$['客户']['区域']"},
        "amount.value": {"path": "$['金额']", "format": "decimal"},
        "amount.currency": {"value": "CNY"},
        "attributes.stage": {"path": "$['阶段']"},
    },
}


def record(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "单据编号": "FX-1001",
        "阶段": "赢单",
        "负责人": {"员工编号": "E-12", "姓名": "王芳"},
        "金额": 120000.5,
        "成交时间": 1772676000000,
        "客户": {"编号": "C-9", "类型": "新客户"},
    }
    base.update(overrides)
    return base


def with_fields(**fields: Any) -> dict[str, Any]:
    raw = json.loads(json.dumps(FXIAOKE_MAPPING))
    for name, rule in fields.items():
        name = name.replace("__", ".")
        if rule is None:
            del raw["fields"][name]
        else:
            raw["fields"][name] = rule
    return raw


def body(*records: Any) -> dict[str, Any]:
    return {"data": {"records": list(records)}}


def refused(raw: Any) -> MappingError:
    with pytest.raises(MappingError) as caught:
        compile_mapping(raw)
    return caught.value


# --- mapping records ---------------------------------------------------------------------------


def test_fxiaoke_record_maps_to_the_exact_canonical_event() -> None:
    spec = compile_mapping(FXIAOKE_MAPPING)
    out = mapping.apply_mapping(spec, {"data": {"records": [record()]}})

    assert len(out) == 1
    assert out[0].error is None
    assert out[0].index == 0
    assert out[0].raw == record()
    assert out[0].event == {
        "id": "FX-1001",
        "type": "deal_won",
        "occurred_at": "2026-03-05T10:00:00+08:00",
        "actor_id": "E-12",
        "customer": {"id": "C-9", "segment": "new"},
        "amount": {"value": "120000.5", "currency": "CNY"},
        "attributes": {"stage": "赢单"},
    }


def test_an_unmapped_stage_is_an_error_naming_type_and_value_while_others_map() -> None:
    spec = compile_mapping(FXIAOKE_MAPPING)
    second = record(**{"单据编号": "FX-1002", "阶段": "谈判中"})
    out = mapping.apply_mapping(spec, {"data": {"records": [record(), second]}})

    assert [m.index for m in out] == [0, 1]
    assert out[0].event is not None and out[0].event["id"] == "FX-1001"
    assert out[1].event is None
    assert out[1].raw == second
    assert out[1].error == "type: no mapping for value '谈判中'"


def test_a_default_covers_unmapped_and_missing_values() -> None:
    spec = compile_mapping(
        with_fields(
            type={"path": "$['阶段']", "map": {"赢单": "deal_won"}, "default": "record_updated"},
            customer__segment={"path": "$['客户']['类型']", "map": {}, "default": "existing"},
            product_line={"path": "$['产品线']", "default": "saas"},
            refers_to={"value": "FX-0001"},
            attributes__replacement={"value": {"id": "x", "type": "deal_won"}},
        )
    )
    out = mapping.apply_mapping(spec, body(record(**{"阶段": "谈判中"})))
    # record_updated needs a valid replacement: the pydantic error names attributes.replacement
    assert out[0].error is not None and "attributes.replacement" in out[0].error

    spec = compile_mapping(
        with_fields(
            type={"path": "$['阶段']", "map": {"赢单": "deal_won"}, "default": "deal_lost"},
            customer__segment={"path": "$['客户']['类型']", "map": {}, "default": "existing"},
            product_line={"path": "$['产品线']", "default": "saas"},
        )
    )
    (only,) = mapping.apply_mapping(spec, body(record(**{"阶段": "谈判中"})))
    assert only.error is None and only.event is not None
    assert only.event["type"] == "deal_lost"
    assert only.event["customer"]["segment"] == "existing"
    assert only.event["product_line"] == "saas"


def test_missing_required_value_names_the_field_and_the_path() -> None:
    spec = compile_mapping(FXIAOKE_MAPPING)
    broken = record(**{"负责人": {"姓名": "王芳"}})
    (out,) = mapping.apply_mapping(spec, {"data": {"records": [broken]}})
    assert out.event is None
    assert out.error == "actor_id: no value at $['负责人']['员工编号']"


def test_optional_fields_missing_are_left_out_and_a_lone_currency_is_dropped() -> None:
    spec = compile_mapping(FXIAOKE_MAPPING)
    bare = record()
    del bare["金额"], bare["客户"]
    (out,) = mapping.apply_mapping(spec, body(bare))
    assert out.error is None
    assert out.event == {
        "id": "FX-1001",
        "type": "deal_won",
        "occurred_at": "2026-03-05T10:00:00+08:00",
        "actor_id": "E-12",
        "attributes": {"stage": "赢单"},
    }


def test_canonical_validation_failure_names_the_field() -> None:
    spec = compile_mapping(
        with_fields(
            type={"value": "payment_received"},
            amount__value={"path": "$['金额']"},  # no decimal format: a float is refused
        )
    )
    (out,) = mapping.apply_mapping(spec, body(record()))
    assert out.event is None
    assert out.error is not None and out.error.startswith("amount.value: must be a decimal string")

    spec = compile_mapping(
        with_fields(type={"value": "payment_received"}, amount__value=None, amount__currency=None)
    )
    (out,) = mapping.apply_mapping(spec, body(record()))
    assert out.error == "amount is required for payment_received"


def test_a_non_canonical_type_read_without_a_map_names_the_value() -> None:
    spec = compile_mapping(with_fields(type={"path": "$['阶段']"}))
    (out,) = mapping.apply_mapping(spec, body(record()))
    assert out.error == "type: '赢单' is not a canonical activity type"


def test_an_unreadable_format_names_the_field_and_value() -> None:
    spec = compile_mapping(FXIAOKE_MAPPING)
    (out,) = mapping.apply_mapping(spec, body(record(**{"成交时间": "昨天"})))
    assert out.error == "occurred_at: cannot read '昨天' as epoch_ms"


def test_datetime_local_and_date_are_read_in_the_mapping_time_zone() -> None:
    spec = compile_mapping(
        with_fields(
            occurred_at={"path": "$['成交时间']", "format": "datetime_local"},
            recorded_at={"path": "$['创建日期']", "format": "date"},
        )
    )
    payload = body(record(**{"成交时间": "2026-03-05 10:00:00", "创建日期": "2026-03-04"}))
    (out,) = mapping.apply_mapping(spec, payload)
    assert out.error is None and out.event is not None
    assert out.event["occurred_at"] == "2026-03-05T10:00:00+08:00"
    assert out.event["recorded_at"] == "2026-03-04T00:00:00+08:00"

    utc = compile_mapping(
        {**with_fields(occurred_at={"path": "$.t", "format": "datetime_local"}), "timezone": "UTC"}
    )
    (out,) = mapping.apply_mapping(utc, body(record(t="2026-03-05 10:00:00")))
    assert out.event is not None and out.event["occurred_at"] == "2026-03-05T10:00:00Z"


def test_epoch_seconds_strings_and_numbers_as_strings() -> None:
    spec = compile_mapping(
        with_fields(
            occurred_at={"path": "$.ts", "format": "epoch_s"},
            actor_id={"path": "$.owner", "format": "string"},
            amount__value={"path": "$.amount", "format": "decimal"},
            customer__segment={"path": "$.seg", "format": "string", "map": {"1": "new"}},
        )
    )
    (out,) = mapping.apply_mapping(
        spec, body(record(ts="1772676000", owner=12, amount=0.1 + 0.2, seg=1))
    )
    assert out.error is None and out.event is not None
    assert out.event["occurred_at"] == "2026-03-05T10:00:00+08:00"
    assert out.event["actor_id"] == "12"
    assert out.event["amount"] == {"value": "0.30000000000000004", "currency": "CNY"}
    assert out.event["customer"]["segment"] == "new"

    (out,) = mapping.apply_mapping(
        spec, body(record(ts=1772676000, owner="E-1", amount=1e20, seg=1))
    )
    assert out.event is not None
    assert out.event["amount"]["value"] == "100000000000000000000"


def test_items_path_missing_in_the_payload_is_one_error() -> None:
    spec = compile_mapping(FXIAOKE_MAPPING)
    payload = {"data": {"list": [record()]}}
    out = mapping.apply_mapping(spec, payload)
    assert len(out) == 1
    assert out[0].index == 0 and out[0].raw == payload and out[0].event is None
    assert out[0].error == "items: nothing at $.data.records"


def test_items_selection_variants() -> None:
    one = with_fields()
    one["items"] = None
    spec = compile_mapping(one)
    assert [m.error for m in mapping.apply_mapping(spec, record())] == [None]
    assert len(mapping.apply_mapping(spec, [record(), record()])) == 2
    (scalar,) = mapping.apply_mapping(spec, "hello")
    assert scalar.error == "the body is neither a JSON object nor an array"

    batches = with_fields()
    batches["items"] = "$.batches[*].records"
    spec = compile_mapping(batches)
    payload = {"batches": [{"records": [record()]}, {"records": [record(), "junk"]}]}
    out = mapping.apply_mapping(spec, payload)
    assert [m.index for m in out] == [0, 1, 2]
    assert [m.error for m in out] == [None, None, "the record is not a JSON object"]

    empty = mapping.apply_mapping(compile_mapping(FXIAOKE_MAPPING), {"data": {"records": []}})
    assert empty == []

    (not_array,) = mapping.apply_mapping(
        compile_mapping(FXIAOKE_MAPPING), {"data": {"records": "x"}}
    )
    assert not_array.error == "items: $.data.records is not an array"


def test_test_mapping_is_a_dry_run_of_apply_mapping() -> None:
    spec = compile_mapping(FXIAOKE_MAPPING)
    sample = {"data": {"records": [record()]}}
    assert mapping.test_mapping(spec, sample) == mapping.apply_mapping(spec, sample)


# --- refused at save time ----------------------------------------------------------------------


def test_a_malformed_path_is_refused_with_the_field_and_the_path() -> None:
    err = refused(with_fields(occurred_at={"path": "$.data[x", "format": "epoch_ms"}))
    assert err.field == "fields.occurred_at.path"
    assert str(err) == 'fields.occurred_at.path: unexpected character at 7 in "$.data[x"'

    err = refused(with_fields(actor_id={"path": "$['负责人'"}))
    assert str(err) == "fields.actor_id.path: unexpected end at 7 in \"$['负责人'\""

    err = refused(with_fields(id={"path": "data.id"}))
    assert str(err) == 'fields.id.path: unexpected character at 0 in "data.id"'

    err = refused({**FXIAOKE_MAPPING, "items": "$.data..records"})
    assert str(err) == 'items: unexpected character at 7 in "$.data..records"'


def test_wildcards_are_only_allowed_in_items() -> None:
    err = refused(with_fields(id={"path": "$.ids[*]"}))
    assert err.field == "fields.id.path"
    assert "only allowed in items" in str(err)


def test_a_missing_required_rule_is_refused() -> None:
    err = refused(with_fields(actor_id=None))
    assert err.field == "fields.actor_id"
    assert "required" in err.message


def test_a_type_map_to_a_non_canonical_type_is_refused() -> None:
    err = refused(with_fields(type={"path": "$['阶段']", "map": {"赢单": "won"}}))
    assert err.field == "fields.type.map['赢单']"
    assert "'won' is not a canonical activity type" in str(err)

    err = refused(with_fields(type={"value": "closed"}))
    assert err.field == "fields.type.value"


def test_an_unknown_format_is_refused() -> None:
    err = refused(with_fields(occurred_at={"path": "$['成交时间']", "format": "epoch_us"}))
    assert err.field == "fields.occurred_at.format"
    assert "unknown format 'epoch_us'" in err.message


def test_other_broken_mappings_are_refused_naming_the_field() -> None:
    assert refused(with_fields(deal={"path": "$.d"})).field == "fields.deal"
    assert refused(with_fields(attributes__={"path": "$.d"})).field == "fields.attributes."
    assert refused(with_fields(amount__currency=None)).field == "fields.amount.currency"
    assert refused(with_fields(id={"path": "$.a", "value": "x"})).field == "fields.id"
    assert refused(with_fields(id={})).field == "fields.id"
    assert refused(with_fields(id={"path": "$.a", "fromat": "string"})).field == (
        "fields.id.fromat"
    )
    assert refused({**FXIAOKE_MAPPING, "timezone": "Mars/Olympus"}).field == "timezone"
    assert refused({**FXIAOKE_MAPPING, "extra": 1}).field == "extra"
    assert refused({"items": None}).field == "fields"


def test_the_spec_model_itself_refuses_too() -> None:
    with pytest.raises(ValueError, match=r"fields\.occurred_at\.path"):
        MappingSpec.model_validate(with_fields(occurred_at={"path": "$.data[x"}))


def test_path_syntax() -> None:
    assert parse_path("$") == ()
    assert parse_path("$.data.records[0]['客户 名称']") == ("data", "records", 0, "客户 名称")
    assert parse_path('$["a\\"b"][-1].客户') == ('a"b', -1, "客户")
    assert parse_path("$.items[*].x", wildcard=True) == ("items", None, "x")


# --- the adapter: generic signed webhook -------------------------------------------------------


def delivery(body: bytes, headers: dict[str, str], now: float = NOW) -> Delivery:
    return Delivery(
        method="POST",
        url="https://api.example.com/v1/webhooks/src-1",
        headers={k.lower(): v for k, v in headers.items()},
        body=body,
        now=now,
    )


def test_signed_delivery_is_authenticated_and_decoded() -> None:
    body = json.dumps({"data": {"records": [record()]}}, ensure_ascii=False).encode()
    creds = Credentials(secrets=("new-secret", "old-secret"))
    signed = delivery(body, sign_headers("old-secret", body, now=NOW - 200))

    mapping.authenticate(signed, creds)
    payload = mapping.decode(signed)
    assert mapping.objects(payload) == set()
    assert payload["data"]["records"][0]["阶段"] == "赢单"


def test_wrong_signature_stale_timestamp_or_missing_headers_are_refused() -> None:
    body = b'{"data": {"records": []}}'
    creds = Credentials(secrets=("s3cret",))
    with pytest.raises(Refused):
        mapping.authenticate(delivery(body, sign_headers("other", body, now=NOW)), creds)
    with pytest.raises(Refused):
        mapping.authenticate(delivery(body, sign_headers("s3cret", body, now=NOW - 301)), creds)
    with pytest.raises(Refused):
        mapping.authenticate(delivery(body, {}), creds)
    tampered = delivery(body + b" ", sign_headers("s3cret", body, now=NOW))
    with pytest.raises(Refused):
        mapping.authenticate(tampered, creds)


def test_several_signatures_one_matching_is_enough() -> None:
    body = b"[]"
    good = sign_headers("s3cret", body, now=NOW)
    headers = {
        "X-Quotient-Timestamp": good["X-Quotient-Timestamp"],
        "X-Quotient-Signature": "v1=" + "0" * 64 + "," + good["X-Quotient-Signature"],
    }
    mapping.authenticate(delivery(body, headers), Credentials(secrets=("s3cret",)))


def test_a_body_that_is_not_json_is_malformed() -> None:
    for body in (b"<xml/>", b"\xff\xfe{", b'{"a": NaN}'):
        with pytest.raises(Malformed):
            mapping.decode(delivery(body, {}))


def test_to_events_uses_the_source_mapping() -> None:
    payload = {"data": {"records": [record()]}}
    creds = Credentials(secrets=("s",), settings={"mapping": FXIAOKE_MAPPING})
    (out,) = mapping.to_events(payload, creds, ObjectState())
    assert out.event is not None and out.event["id"] == "FX-1001"

    (none,) = mapping.to_events(payload, Credentials(secrets=("s",)), ObjectState())
    assert none.error == "the source has no mapping"
