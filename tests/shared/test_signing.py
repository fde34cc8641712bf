from __future__ import annotations

import hashlib
import hmac

import pytest

from shared.signing import SignatureError, sign_headers, signature, verify


def test_signature_is_hex_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(b"s3cret", b"1772676000." + b'{"a":1}', hashlib.sha256).hexdigest()
    assert signature("s3cret", "1772676000", b'{"a":1}') == "v1=" + expected


def test_verify_accepts_within_tolerance_and_any_matching_secret() -> None:
    headers = sign_headers("new", b"body", now=1000)
    verify(
        ["old", "new"],
        headers["X-Quotient-Timestamp"],
        headers["X-Quotient-Signature"],
        b"body",
        now=1300,
    )


@pytest.mark.parametrize("now", [1301, 699])
def test_verify_refuses_301_seconds_either_way(now: int) -> None:
    headers = sign_headers("k", b"body", now=1000)
    with pytest.raises(SignatureError):
        verify(
            ["k"],
            headers["X-Quotient-Timestamp"],
            headers["X-Quotient-Signature"],
            b"body",
            now=now,
        )


def test_verify_refuses_tampered_body_and_missing_headers() -> None:
    headers = sign_headers("k", b"body", now=1000)
    with pytest.raises(SignatureError):
        verify(
            ["k"],
            headers["X-Quotient-Timestamp"],
            headers["X-Quotient-Signature"],
            b"bodY",
            now=1000,
        )
    with pytest.raises(SignatureError):
        verify(["k"], None, None, b"body", now=1000)
