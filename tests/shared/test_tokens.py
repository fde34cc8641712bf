"""Bearer tokens: verified against a JWKS (RS256 here) with issuer, audience and algorithms fixed by
configuration; every forged or stale variant is refused."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.auth.tokens import decode_token, mint_token
from shared.http.problems import Problem
from shared.settings import BaseServiceSettings

ISSUER = "https://idp.example.test/"
AUDIENCE = "quotient-api"


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks_url(rsa_key: rsa.RSAPrivateKey) -> Iterator[str]:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key()))
    body = json.dumps({"keys": [jwk | {"kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return None

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json"
    server.shutdown()


@pytest.fixture
def settings(jwks_url: str) -> BaseServiceSettings:
    return BaseServiceSettings(
        env="test",
        jwt_jwks_url=jwks_url,
        jwt_algorithms=["RS256"],
        jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE,
        jwt_leeway_seconds=0,
    )


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "p-12",
        "tid": str(uuid.uuid4()),
        "roles": ["rep"],
        "iat": now,
        "exp": now + 600,
    }
    return base | overrides


def rs256(key: rsa.RSAPrivateKey, payload: dict[str, Any], kid: str = "k1") -> str:
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid})


def test_a_valid_rs256_token_names_tenant_subject_and_roles(settings, rsa_key) -> None:
    c = claims()
    who = decode_token(settings, rs256(rsa_key, c))
    assert (str(who.tenant_id), who.subject, who.roles) == (c["tid"], "p-12", frozenset({"rep"}))


@pytest.mark.parametrize(
    "overrides",
    [
        {"exp": int(time.time()) - 5},
        {"iss": "https://evil.example.test/"},
        {"aud": "someone-else"},
        {"tid": "not-a-uuid"},
    ],
    ids=["expired", "wrong-issuer", "wrong-audience", "bad-tenant"],
)
def test_refused_claims(settings, rsa_key, overrides: dict[str, Any]) -> None:
    with pytest.raises(Problem) as refused:
        decode_token(settings, rs256(rsa_key, claims(**overrides)))
    assert refused.value.status == 401


def test_missing_tenant_claim_is_refused(settings, rsa_key) -> None:
    c = claims()
    del c["tid"]
    with pytest.raises(Problem):
        decode_token(settings, rs256(rsa_key, c))


def test_alg_none_is_refused(settings) -> None:
    token = jwt.encode(claims(), None, algorithm="none", headers={"kid": "k1"})
    with pytest.raises(Problem):
        decode_token(settings, token)


def test_hs256_token_against_an_rs256_configuration_is_refused(settings, rsa_key) -> None:
    # The classic confusion: HMAC "signed" with the public key the verifier would use.
    public_pem = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "kid": "k1", "typ": "JWT"}
    import base64
    import hashlib
    import hmac

    def b64(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    signing_input = b64(json.dumps(header).encode()) + b"." + b64(json.dumps(claims()).encode())
    sig = b64(hmac.new(public_pem, signing_input, hashlib.sha256).digest())
    with pytest.raises(Problem):
        decode_token(settings, (signing_input + b"." + sig).decode())
    with pytest.raises(Problem):
        decode_token(
            settings, jwt.encode(claims(), "any-secret", algorithm="HS256", headers={"kid": "k1"})
        )


def test_a_key_the_jwks_does_not_have_is_refused(settings) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(Problem):
        decode_token(settings, rs256(other, claims(), kid="k1"))
    with pytest.raises(Problem):
        decode_token(settings, rs256(other, claims(), kid="unknown"))


def test_jwks_configuration_refuses_symmetric_algorithms(jwks_url: str) -> None:
    with pytest.raises(ValueError, match="asymmetric"):
        BaseServiceSettings(env="test", jwt_jwks_url=jwks_url, jwt_algorithms=["HS256"])


def test_development_tokens_are_hs256_with_the_local_secret() -> None:
    dev = BaseServiceSettings(env="development")
    token = mint_token(dev, tenant_id=uuid.uuid4(), subject="p-1", roles=["manager", "nonsense"])
    assert decode_token(dev, token).roles == frozenset({"manager"})
    other = BaseServiceSettings(env="development", jwt_secret="another-secret-of-enough-length")
    with pytest.raises(Problem):
        decode_token(other, token)
