"""JWT bearer tokens. Development: HS256 with a local secret (refused outside development).
The algorithm list comes from configuration, never from the token."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from starlette.requests import HTTPConnection

from shared.http.problems import Problem
from shared.settings import BaseServiceSettings

ROLES = frozenset(
    {
        "admin",
        "hr",
        "finance",
        "manager",
        "rep",
        "assistant",
        "committee",
        "integration",
        "platform_admin",
    }
)


@dataclass(frozen=True)
class Principal:
    tenant_id: uuid.UUID
    subject: str
    roles: frozenset[str] = field(default_factory=frozenset)

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


def mint_token(
    settings: BaseServiceSettings,
    *,
    tenant_id: uuid.UUID | str,
    subject: str,
    roles: list[str],
    ttl_seconds: int = 12 * 3600,
) -> str:
    now = int(time.time())
    claims = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": subject,
        "tid": str(tenant_id),
        "roles": sorted(roles),
        "iat": now,
        "exp": now + ttl_seconds,
    }
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")


_jwks_clients: dict[str, jwt.PyJWKClient] = {}


def _verification_key(settings: BaseServiceSettings, token: str) -> tuple[Any, list[str]]:
    """The key and the algorithms to verify with: from configuration, never from the token."""
    if settings.jwt_jwks_url:
        client = _jwks_clients.get(settings.jwt_jwks_url)
        if client is None:
            client = jwt.PyJWKClient(
                settings.jwt_jwks_url, cache_keys=True, lifespan=300, timeout=5
            )
            _jwks_clients[settings.jwt_jwks_url] = client
        return client.get_signing_key_from_jwt(token).key, list(settings.jwt_algorithms)
    return settings.jwt_secret, ["HS256"]


def decode_token(settings: BaseServiceSettings, token: str) -> Principal:
    try:
        key, algorithms = _verification_key(settings, token)
        claims = jwt.decode(
            token,
            key,
            algorithms=algorithms,
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            leeway=settings.jwt_leeway_seconds,
            options={"require": ["exp", "iss", "aud", "sub", "tid"]},
        )
        tenant_id = uuid.UUID(str(claims["tid"]))
    except (jwt.PyJWTError, ValueError) as exc:
        raise Problem(
            401, "Unauthorized", f"invalid token: {exc}", headers={"WWW-Authenticate": "Bearer"}
        ) from exc
    roles = frozenset(r for r in claims.get("roles", []) if r in ROLES)
    return Principal(tenant_id=tenant_id, subject=str(claims["sub"]), roles=roles)


def bearer(request: HTTPConnection) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Problem(
            401,
            "Unauthorized",
            "a bearer token is required",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return token.strip()


def authenticate(settings: BaseServiceSettings, request: HTTPConnection) -> Principal:
    return decode_token(settings, bearer(request))
