"""Outbound alert channels: message text, each kind's body and authentication, SSRF guard,
retry schedule. No database, no network."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from goals.alerts.channels import (
    BACKOFF,
    CONTENT_TYPE,
    Outbound,
    TargetRefused,
    build,
    check_target,
    next_attempt_delay,
    render_text,
)
from shared.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, SignatureError, verify

NOW = 1_774_000_000.123
SECRET = "SEC0123456789abcdef"
ZH_TEXT = "[预警] 张三 · 2026-03 新客户销售额 · 进度落后: 已完成 42%,按当前节奏预计 78% (目标 90%)"
EN_TEXT = (
    "[Alert] Zhang San · 2026-03 New-customer revenue · behind pace: "
    "42% done, projected 78% (threshold 90%)"
)


def behind_pace(**overrides: Any) -> dict[str, Any]:
    alert: dict[str, Any] = {
        "alert_id": "7f1c8a52-9a3e-4c4b-8f3e-0d5e1b2a9c11",
        "rule": "behind_pace",
        "person_id": "p-1",
        "person_name": "张三",
        "period_label": "2026-03",
        "metric_name": "新客户销售额",
        "severity": "warning",
        "figures": {"attainment": Decimal("0.42"), "projected": "0.78", "threshold": "0.9"},
    }
    alert.update(overrides)
    return alert


def body_of(out: Outbound) -> dict[str, Any]:
    assert out.headers["Content-Type"] == CONTENT_TYPE
    result: dict[str, Any] = json.loads(out.body.decode("utf-8"))
    return result


# --- message text --------------------------------------------------------------------------


def test_behind_pace_text_matches_the_spec_in_both_languages() -> None:
    assert render_text(behind_pace()) == ZH_TEXT
    assert render_text(behind_pace(), locale="zh-CN") == ZH_TEXT
    english = behind_pace(person_name="Zhang San", metric_name="New-customer revenue")
    assert render_text(english, locale="en") == EN_TEXT


def test_link_goes_on_its_own_line() -> None:
    alert = behind_pace(link="https://app.example.com/alerts/1")
    assert render_text(alert) == ZH_TEXT + "\nhttps://app.example.com/alerts/1"


def test_percentages_round_half_up_and_person_id_is_the_fallback() -> None:
    alert = behind_pace(
        person_name=None, figures={"attainment": "0.425", "projected": "0.6849", "threshold": 0.9}
    )
    text = render_text(alert, "en")
    assert text.startswith("[Alert] p-1 · ")
    assert "43% done, projected 68% (threshold 90%)" in text


def test_critical_and_resolved_tags() -> None:
    assert render_text(behind_pace(severity="critical")).startswith("[严重预警] 张三")
    assert render_text(behind_pace(severity="critical"), "en").startswith("[Critical] 张三")
    assert render_text(behind_pace(status="resolved"), "en").startswith("[Resolved] ")


@pytest.mark.parametrize(
    ("alert", "zh", "en"),
    [
        (
            {"rule": "late_entry", "figures": {"hours_late": "30.25", "late_hours": "24"}},
            "[预警] 李四 · 录入延迟: 晚 30.3 小时录入 (上限 24 小时)",
            "[Alert] 李四 · late entry: recorded 30.3 h late (limit 24 h)",
        ),
        (
            {
                "rule": "stalled_deal",
                "severity": "info",
                "figures": {"days_since_change": "15.0", "stalled_days": "14"},
            },
            "[预警] 李四 · 商机停滞: 阶段已 15 天未变化 (上限 14 天)",
            "[Alert] 李四 · stalled deal: no stage change for 15 days (limit 14 days)",
        ),
        (
            {"rule": "burst", "figures": {"count": "73", "threshold": "50"}},
            "[预警] 李四 · 录入激增: 今日 73 条记录 (阈值 50)",
            "[Alert] 李四 · burst: 73 events today (threshold 50)",
        ),
        (
            {
                "rule": "repeated_follow_up",
                "subject": "p-2|华为|2026-03-05",
                "figures": {"count": "7", "follow_up_max": "5"},
            },
            "[预警] 李四 · 重复跟进: 今日跟进客户 华为 7 次 (上限 5 次)",
            "[Alert] 李四 · repeated follow-up: customer 华为 followed up 7 times today (limit 5)",
        ),
        (
            {
                "rule": "spike_drop",
                "period_label": "2026-03",
                "metric_name": "Revenue",
                "figures": {"change": "0.615", "threshold": "0.5"},
            },
            "[预警] 李四 · 2026-03 Revenue · 环比激增: 较上期 +62%,请提供佐证",
            "[Alert] 李四 · 2026-03 Revenue · spike: +62% vs previous period, evidence requested",
        ),
        (
            {"rule": "spike_drop", "figures": {"change": "-0.55"}},
            "[预警] 李四 · 环比骤降: 较上期 -55%,请提供佐证",
            "[Alert] 李四 · drop: -55% vs previous period, evidence requested",
        ),
    ],
)
def test_every_rule_has_a_one_line_template(alert: dict[str, Any], zh: str, en: str) -> None:
    alert = {"person_name": "李四", "severity": "warning", **alert}
    assert render_text(alert, "zh") == zh
    assert render_text(alert, "en") == en


def test_customer_given_explicitly_wins_over_the_subject() -> None:
    alert = {
        "rule": "repeated_follow_up",
        "person_name": "Li Si",
        "customer_name": "Huawei",
        "subject": "p-2|c-9|2026-03-05",
        "figures": {"count": 6, "follow_up_max": 5},
    }
    assert "customer Huawei followed up 6 times" in render_text(alert, "en")


# --- each kind's request -------------------------------------------------------------------


def test_quotient_is_the_alert_as_json_signed_like_our_inbound_webhooks() -> None:
    alert = behind_pace()
    out = build("quotient", "https://hooks.example.com/q", SECRET, alert, now=NOW)
    assert out.url == "https://hooks.example.com/q"
    assert out.body == json.dumps(alert, default=str, ensure_ascii=False, sort_keys=True).encode()
    assert body_of(out)["figures"]["attainment"] == "0.42"
    assert "张三".encode() in out.body
    assert out.headers[TIMESTAMP_HEADER] == str(int(NOW))
    verify(
        [SECRET], out.headers[TIMESTAMP_HEADER], out.headers[SIGNATURE_HEADER], out.body, now=NOW
    )
    expected = hmac.new(SECRET.encode(), f"{int(NOW)}.".encode() + out.body, hashlib.sha256)
    assert out.headers[SIGNATURE_HEADER] == "v1=" + expected.hexdigest()
    with pytest.raises(SignatureError):
        verify(["other"], out.headers[TIMESTAMP_HEADER], out.headers[SIGNATURE_HEADER], out.body)
    with pytest.raises(ValueError):
        build("quotient", "https://hooks.example.com/q", None, alert, now=NOW)


def test_dingtalk_markdown_with_jiaqian_query_parameters() -> None:
    url = "https://oapi.dingtalk.com/robot/send?access_token=abc123"
    alert = behind_pace(link="https://app.example.com/alerts/1")
    out = build("dingtalk", url, SECRET, alert, now=NOW)
    assert body_of(out) == {
        "msgtype": "markdown",
        "markdown": {"title": ZH_TEXT, "text": ZH_TEXT + "\n\nhttps://app.example.com/alerts/1"},
    }
    parts = urlsplit(out.url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "oapi.dingtalk.com", "/robot/send")
    query = parse_qs(parts.query)
    assert query["access_token"] == ["abc123"]
    timestamp_ms = str(int(NOW * 1000))
    assert query["timestamp"] == [timestamp_ms]
    # Independently: base64(HMAC-SHA256(secret, "{timestamp}\n{secret}")), url-encoded.
    mac = hmac.new(SECRET.encode(), f"{timestamp_ms}\n{SECRET}".encode(), hashlib.sha256)
    expected_sign = base64.b64encode(mac.digest()).decode()
    assert query["sign"] == [expected_sign]
    raw_sign = parts.query.split("sign=", 1)[1].split("&")[0]
    assert "+" not in raw_sign and "/" not in raw_sign and "=" not in raw_sign
    assert unquote(raw_sign) == expected_sign
    assert out.url.startswith(url + "&timestamp=")


def test_dingtalk_replaces_stale_signature_parameters_and_skips_signing_without_secret() -> None:
    url = "https://oapi.dingtalk.com/robot/send?access_token=abc&timestamp=1&sign=old"
    query = parse_qs(urlsplit(build("dingtalk", url, SECRET, behind_pace(), now=NOW).url).query)
    assert query["timestamp"] == [str(int(NOW * 1000))] and len(query["sign"]) == 1
    plain = "https://oapi.dingtalk.com/robot/send?access_token=abc"
    assert build("dingtalk", plain, None, behind_pace(), now=NOW).url == plain


def test_wecom_markdown_and_url_unchanged() -> None:
    url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k-123"
    out = build("wecom", url, None, behind_pace(), now=NOW)
    assert out.url == url
    assert body_of(out) == {"msgtype": "markdown", "markdown": {"content": ZH_TEXT}}
    assert out.headers == {"Content-Type": CONTENT_TYPE}


def test_feishu_text_signed_with_timestamp_and_secret_as_key() -> None:
    url = "https://open.feishu.cn/open-apis/bot/v2/hook/xyz"
    english = behind_pace(person_name="Zhang San", metric_name="New-customer revenue")
    out = build("feishu", url, SECRET, english, now=NOW, locale="en")
    assert out.url == url
    body = body_of(out)
    timestamp = str(int(NOW))
    mac = hmac.new(f"{timestamp}\n{SECRET}".encode(), b"", hashlib.sha256)
    assert body == {
        "timestamp": timestamp,
        "sign": base64.b64encode(mac.digest()).decode(),
        "msg_type": "text",
        "content": {"text": EN_TEXT},
    }
    unsigned = body_of(build("feishu", url, None, english, now=NOW, locale="en"))
    assert unsigned == {"msg_type": "text", "content": {"text": EN_TEXT}}


def test_slack_text_escapes_control_characters() -> None:
    url = "https://hooks.slack.com/services/T0/B0/xyz"
    out = build("slack", url, None, behind_pace(person_name="A&B <x>"), now=NOW, locale="en")
    assert out.url == url
    assert body_of(out) == {
        "text": EN_TEXT.replace("Zhang San", "A&amp;B &lt;x&gt;").replace(
            "New-customer revenue", "新客户销售额"
        )
    }


def test_unknown_kind_is_refused() -> None:
    kind: Any = "teams"
    with pytest.raises(ValueError):
        build(kind, "https://x.example.com", None, behind_pace(), now=NOW)


# --- SSRF guard ----------------------------------------------------------------------------


def resolving_to(*addresses: str) -> Any:
    seen: list[tuple[str, int]] = []

    async def resolver(host: str, port: int) -> list[str]:
        seen.append((host, port))
        return list(addresses)

    resolver.seen = seen  # type: ignore[attr-defined]
    return resolver


def must_not_resolve() -> Any:
    async def resolver(host: str, port: int) -> list[str]:
        raise AssertionError("a literal address must not be resolved")

    return resolver


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://10.0.0.5/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://[::ffff:a00:5]/hook",
        "https://100.64.1.1/hook",
        "https://0.0.0.0/hook",
        "https://224.0.0.1/hook",
        "https://[fe80::1]/hook",
        "https://[fd00:ec2::254]/hook",
        "https://[64:ff9b::a9fe:a9fe]/hook",
    ],
)
async def test_literal_private_addresses_are_refused(url: str) -> None:
    with pytest.raises(TargetRefused):
        await check_target(url, allow_private=False, resolver=must_not_resolve())


async def test_hostname_resolving_to_a_private_address_is_refused() -> None:
    resolver = resolving_to("192.168.1.2")
    with pytest.raises(TargetRefused, match=r"192\.168\.1\.2"):
        await check_target("https://hooks.evil.example/x", allow_private=False, resolver=resolver)
    assert resolver.seen == [("hooks.evil.example", 443)]


async def test_any_private_address_among_several_is_refused() -> None:
    resolver = resolving_to("93.184.216.34", "10.1.2.3")
    with pytest.raises(TargetRefused):
        await check_target("https://mixed.example:8443/x", allow_private=False, resolver=resolver)
    assert resolver.seen == [("mixed.example", 8443)]


async def test_resolution_failure_or_nothing_is_refused() -> None:
    async def failing(host: str, port: int) -> list[str]:
        raise OSError("name not known")

    with pytest.raises(TargetRefused, match="cannot resolve"):
        await check_target("https://nowhere.example/x", allow_private=False, resolver=failing)
    with pytest.raises(TargetRefused):
        await check_target("https://empty.example/", allow_private=False, resolver=resolving_to())


@pytest.mark.parametrize(
    ("url", "addresses"),
    [
        ("https://oapi.dingtalk.com/robot/send?access_token=x", ("93.184.216.34",)),
        ("https://hooks.example.com/x", ("93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946")),
        ("https://8.8.8.8/x", ()),
        ("https://[::ffff:8.8.8.8]/x", ()),
    ],
)
async def test_public_addresses_pass(url: str, addresses: tuple[str, ...]) -> None:
    await check_target(url, allow_private=False, resolver=resolving_to(*addresses))


async def test_allow_private_lets_loopback_and_http_through() -> None:
    for url in ("https://127.0.0.1:8443/hook", "http://127.0.0.1:8080/hook", "http://localhost/"):
        await check_target(url, allow_private=True, resolver=must_not_resolve())


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/x",
        "ftp://hooks.example.com/x",
        "file:///etc/passwd",
        "hooks.example.com/x",
        "https:///nohost",
        "https://user:pass@hooks.example.com/x",
        "https://user@hooks.example.com/x",
        "https://hooks.example.com:99999/x",
    ],
)
async def test_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(TargetRefused):
        await check_target(url, allow_private=False, resolver=resolving_to("93.184.216.34"))


async def test_userinfo_and_bad_schemes_are_refused_even_when_private_is_allowed() -> None:
    for url in ("https://user:pass@127.0.0.1/x", "ftp://127.0.0.1/x", "http:///x"):
        with pytest.raises(TargetRefused):
            await check_target(url, allow_private=True)


def test_target_refused_is_a_value_error() -> None:
    assert issubclass(TargetRefused, ValueError)


# --- retry schedule ------------------------------------------------------------------------


def test_backoff_schedule_and_giving_up() -> None:
    assert BACKOFF == (0, 5, 30, 120, 600, 3600)
    assert [next_attempt_delay(n) for n in range(7)] == [0, 5, 30, 120, 600, 3600, None]
    assert next_attempt_delay(100) is None
    with pytest.raises(ValueError):
        next_attempt_delay(-1)
