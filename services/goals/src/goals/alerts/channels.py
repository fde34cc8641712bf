"""Outbound alert channels (NOTIFICATIONS.md): message text, per-kind request, SSRF guard,
retry schedule and the POST itself.

``build`` is pure: it returns exactly the URL, headers and bytes to POST, given the clock, so
signatures can be checked in tests. ``check_target`` must pass before anything is sent
(PRODUCT.md §5: only registered URLs, no private / loopback / link-local targets unless the
operator setting ``outbound_allow_private`` is on).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import ipaddress
import json
import socket
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from shared.signing import sign_headers

__all__ = [
    "BACKOFF",
    "KINDS",
    "Kind",
    "Outbound",
    "Resolver",
    "TargetRefused",
    "build",
    "check_target",
    "next_attempt_delay",
    "post",
    "render_text",
]

Kind = Literal["quotient", "dingtalk", "wecom", "feishu", "slack"]
KINDS: tuple[Kind, ...] = ("quotient", "dingtalk", "wecom", "feishu", "slack")

CONTENT_TYPE = "application/json; charset=utf-8"

# Delay before attempt n+1 after n attempts: now, 5 s, 30 s, 2 min, 10 min, 1 h, then give up.
BACKOFF: tuple[float, ...] = (0, 5, 30, 120, 600, 3600)


@dataclass(frozen=True)
class Outbound:
    """Exactly what to POST: the final URL (query signature included), headers and body."""

    url: str
    headers: dict[str, str]
    body: bytes


# --- message text --------------------------------------------------------------------------


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _percent(value: Any, *, signed: bool = False) -> str:
    """A fraction as a whole percent, rounded half-up ("0.425" → "43%")."""
    number = _decimal(value)
    if number is None:
        return "?%"
    whole = (number * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    if whole == 0:
        whole = Decimal(0)  # no "-0%"
    return f"{whole:+f}%" if signed else f"{whole:f}%"


def _amount(value: Any) -> str:
    """A count, hours or days: at most one decimal, rounded half-up, no trailing ".0"."""
    number = _decimal(value)
    if number is None:
        return "?"
    tenth = number.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    if tenth == tenth.to_integral_value():
        return f"{tenth.to_integral_value():f}"
    return f"{tenth:f}"


def _is_zh(locale: str) -> bool:
    return locale.lower().replace("_", "-").startswith("zh")


def _customer(alert: Mapping[str, Any], figures: Mapping[str, Any]) -> str:
    for found in (alert.get("customer_name"), alert.get("customer"), figures.get("customer")):
        if found:
            return str(found)
    # The rule's subject is "{person}|{customer}|{day}".
    parts = str(alert.get("subject") or "").split("|")
    return parts[1] if len(parts) == 3 else "?"


def _detail(rule: str, alert: Mapping[str, Any], zh: bool) -> tuple[str, str]:
    """(label, detail) of one rule in one language."""
    f: Mapping[str, Any] = alert.get("figures") or {}
    if rule == "behind_pace":
        done, projected = _percent(f.get("attainment")), _percent(f.get("projected"))
        threshold = _percent(f.get("threshold"))
        if zh:
            return "进度落后", f"已完成 {done},按当前节奏预计 {projected} (目标 {threshold})"
        return "behind pace", f"{done} done, projected {projected} (threshold {threshold})"
    if rule == "late_entry":
        hours, limit = _amount(f.get("hours_late")), _amount(f.get("late_hours"))
        if zh:
            return "录入延迟", f"晚 {hours} 小时录入 (上限 {limit} 小时)"
        return "late entry", f"recorded {hours} h late (limit {limit} h)"
    if rule == "stalled_deal":
        days, limit = _amount(f.get("days_since_change")), _amount(f.get("stalled_days"))
        if zh:
            return "商机停滞", f"阶段已 {days} 天未变化 (上限 {limit} 天)"
        return "stalled deal", f"no stage change for {days} days (limit {limit} days)"
    if rule == "burst":
        count, threshold = _amount(f.get("count")), _amount(f.get("threshold"))
        if zh:
            return "录入激增", f"今日 {count} 条记录 (阈值 {threshold})"
        return "burst", f"{count} events today (threshold {threshold})"
    if rule == "repeated_follow_up":
        customer = _customer(alert, f)
        count, limit = _amount(f.get("count")), _amount(f.get("follow_up_max"))
        if zh:
            return "重复跟进", f"今日跟进客户 {customer} {count} 次 (上限 {limit} 次)"
        return (
            "repeated follow-up",
            f"customer {customer} followed up {count} times today (limit {limit})",
        )
    if rule == "spike_drop":
        change = _percent(f.get("change"), signed=True)
        drop = (_decimal(f.get("change")) or Decimal(0)) < 0
        if zh:
            return ("环比骤降" if drop else "环比激增"), f"较上期 {change},请提供佐证"
        return ("drop" if drop else "spike"), f"{change} vs previous period, evidence requested"
    # A rule this module does not know yet still produces a readable message.
    listed = ", ".join(f"{k}={v}" for k, v in sorted(f.items()) if not isinstance(v, Mapping))
    return rule or "alert", listed


def render_text(alert: Mapping[str, Any], locale: str = "zh") -> str:
    """The chat message of an alert, Chinese for ``zh*`` locales and English otherwise.

    ``metric_name`` and ``person_name`` are expected already localised; ``person_id``,
    ``period`` and ``metric`` are the fallbacks. The link, when present, goes on its own line.
    """
    zh = _is_zh(locale)
    if alert.get("status") == "resolved":
        tag = "[已解除]" if zh else "[Resolved]"
    elif alert.get("severity") == "critical":
        tag = "[严重预警]" if zh else "[Critical]"
    else:
        tag = "[预警]" if zh else "[Alert]"
    person = str(alert.get("person_name") or alert.get("person_id") or "")
    period = str(alert.get("period_label") or alert.get("period") or "")
    metric = str(alert.get("metric_name") or alert.get("metric") or "")
    label, detail = _detail(str(alert.get("rule") or ""), alert, zh)
    what = " ".join(p for p in (period, metric) if p)
    segments = [s for s in (person, what) if s]
    segments.append(f"{label}: {detail}" if detail else label)
    text = f"{tag} " + " · ".join(segments)
    link = alert.get("link")
    if link:
        text += f"\n{link}"
    return text


# --- requests per kind ---------------------------------------------------------------------


def _json(value: Any, **kwargs: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, **kwargs).encode("utf-8")


def _hmac_b64(key: str, msg: str) -> str:
    digest = hmac.new(key.encode("utf-8"), msg.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def _with_query(url: str, extra: Mapping[str, str]) -> str:
    """The URL with ``extra`` query parameters set (existing ones, e.g. access_token, kept)."""
    parts = urlsplit(url)
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in extra]
    return urlunsplit(parts._replace(query=urlencode([*kept, *extra.items()])))


def build(
    kind: Kind,
    url: str,
    secret: str | None,
    alert: Mapping[str, Any],
    *,
    now: float,
    locale: str = "zh",
) -> Outbound:
    """The request for one alert to one channel (NOTIFICATIONS.md), signed at ``now`` (unix s).

    ``quotient`` requires a secret; DingTalk and Feishu are signed only when one is set (their
    robots can also be secured by keyword or IP list); WeCom and Slack keep their secret in the URL.
    """
    headers = {"Content-Type": CONTENT_TYPE}
    if kind == "quotient":
        if not secret:
            raise ValueError("a quotient channel needs a secret")
        body = _json(dict(alert), default=str, sort_keys=True)
        return Outbound(url, {**headers, **sign_headers(secret, body, now)}, body)

    text = render_text(alert, locale)
    if kind == "dingtalk":
        title = text.split("\n", 1)[0]
        # DingTalk markdown needs a blank line for a line break.
        payload: dict[str, Any] = {
            "msgtype": "markdown",
            "markdown": {"title": title, "text": text.replace("\n", "\n\n")},
        }
        if secret:
            timestamp = str(int(now * 1000))
            sign = _hmac_b64(secret, f"{timestamp}\n{secret}")
            url = _with_query(url, {"timestamp": timestamp, "sign": sign})
        return Outbound(url, headers, _json(payload))
    if kind == "wecom":
        payload = {"msgtype": "markdown", "markdown": {"content": text}}
        return Outbound(url, headers, _json(payload))
    if kind == "feishu":
        payload = {"msg_type": "text", "content": {"text": text}}
        if secret:
            timestamp = str(int(now))
            payload = {"timestamp": timestamp, "sign": _hmac_b64(f"{timestamp}\n{secret}", "")}
            payload |= {"msg_type": "text", "content": {"text": text}}
        return Outbound(url, headers, _json(payload))
    if kind == "slack":
        # Slack's mrkdwn treats these three as control characters.
        escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return Outbound(url, headers, _json({"text": escaped}))
    raise ValueError(f"unknown channel kind {kind!r}")


# --- SSRF guard ----------------------------------------------------------------------------


class TargetRefused(ValueError):
    """An outbound URL that must not be called."""


# host, port → the IP addresses (as strings) the host resolves to.
Resolver = Callable[[str, int], Awaitable[Iterable[str]]]

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}


async def _system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _refusal(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why an address is not a public unicast one, or None when it is."""
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv4 address carried inside IPv6 reaches that IPv4 address.
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            inner = _refusal(embedded)
            if inner is not None or ip.ipv4_mapped is not None:
                return inner
    if ip in _METADATA:
        return "a cloud metadata address"
    checks = (
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link-local"),
        (ip.is_unspecified, "unspecified"),
        (ip.is_multicast, "multicast"),
        (ip.is_private, "private"),
        (ip.is_reserved, "reserved"),
        (isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT, "shared (CGNAT)"),
        (not ip.is_global, "not globally routable"),
    )
    for hit, why in checks:
        if hit:
            return why
    return None


async def check_target(url: str, *, allow_private: bool, resolver: Resolver | None = None) -> None:
    """Raise TargetRefused unless ``url`` may be called.

    https only (http too when ``allow_private``), a host, no userinfo, and — unless
    ``allow_private`` — every address the host resolves to (a literal IP included) public.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise TargetRefused(f"not a valid URL: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme != "https" and not (scheme == "http" and allow_private):
        raise TargetRefused(f"scheme {scheme or '(none)'!r} is not allowed; use https")
    if "@" in parts.netloc:
        raise TargetRefused("credentials in the URL are not allowed")
    host = parts.hostname
    if not host:
        raise TargetRefused("the URL has no host")
    if allow_private:
        return
    port = port if port is not None else (443 if scheme == "https" else 80)
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses: list[str] = [str(literal)]
    else:
        try:
            addresses = list(await (resolver or _system_resolver)(host, port))
        except OSError as exc:
            raise TargetRefused(f"cannot resolve {host!r}: {exc}") from exc
        if not addresses:
            raise TargetRefused(f"{host!r} resolves to no address")
    for address in addresses:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError as exc:
            raise TargetRefused(f"{host!r} resolved to {address!r}, not an address") from exc
        why = _refusal(ip)
        if why is not None:
            raise TargetRefused(f"{host!r} resolves to {ip}, which is {why}")


# --- retry and delivery --------------------------------------------------------------------


def next_attempt_delay(attempts_made: int) -> float | None:
    """Seconds to wait before the next attempt after ``attempts_made`` attempts; None: give up."""
    if attempts_made < 0:
        raise ValueError("attempts_made must not be negative")
    return BACKOFF[attempts_made] if attempts_made < len(BACKOFF) else None


async def post(outbound: Outbound, *, timeout: float = 10.0) -> int:
    """POST the request and return the status code; 0 when no response arrived.

    Redirects are not followed (they could lead away from the registered URL) and the response
    body is not read.
    """
    try:
        async with (
            httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client,
            client.stream(
                "POST", outbound.url, headers=outbound.headers, content=outbound.body
            ) as response,
        ):
            return response.status_code
    except (httpx.HTTPError, httpx.InvalidURL):
        return 0
