"""The generic signed webhook scheme (ours), used inbound and for our outbound webhooks.

X-Quotient-Timestamp: unix seconds; X-Quotient-Signature: "v1=" + hex(HMAC-SHA256(secret,
timestamp + "." + body)); several comma-separated v1 values may be present during rotation.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterable

TIMESTAMP_HEADER = "X-Quotient-Timestamp"
SIGNATURE_HEADER = "X-Quotient-Signature"


class SignatureError(Exception):
    """Why a signed request was refused."""


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def sign_headers(secret: str, body: bytes, now: float | None = None) -> dict[str, str]:
    ts = str(int(now if now is not None else time.time()))
    return {TIMESTAMP_HEADER: ts, SIGNATURE_HEADER: signature(secret, ts, body)}


def verify(
    secrets: Iterable[str],
    timestamp: str | None,
    header: str | None,
    body: bytes,
    *,
    tolerance: int = 300,
    now: float | None = None,
) -> None:
    """Raise SignatureError unless one v1 value matches one secret within the time tolerance."""
    if not timestamp or not header:
        raise SignatureError("missing signature headers")
    try:
        ts = int(timestamp.strip())
    except ValueError as exc:
        raise SignatureError("timestamp is not unix seconds") from exc
    current = now if now is not None else time.time()
    if abs(current - ts) > tolerance:
        raise SignatureError("timestamp outside the tolerance")
    offered = [p.strip()[3:] for p in header.split(",") if p.strip().startswith("v1=")]
    if not offered:
        raise SignatureError("no v1 signature")
    for secret in secrets:
        expected = signature(secret, timestamp.strip(), body)[3:]
        # Compare against every offered value in constant time each.
        if any(hmac.compare_digest(expected, o) for o in offered):
            return
    raise SignatureError("signature does not match")
