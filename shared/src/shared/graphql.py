"""The typed GraphQL context every resolver gets."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import HTTPConnection
from strawberry.exceptions import ConnectionRejectionError
from strawberry.fastapi import BaseContext, GraphQLRouter
from strawberry.permission import BasePermission
from strawberry.types import Info

from shared.auth.access import FORBIDDEN_PERSON, may_see
from shared.auth.tokens import Principal, decode_token
from shared.http.problems import Problem
from shared.settings import BaseServiceSettings


@dataclass
class Context(BaseContext):
    settings: BaseServiceSettings
    http: HTTPConnection
    loaders: dict[str, Any] = field(default_factory=dict)
    _principal: Principal | None = None

    def __post_init__(self) -> None:
        super().__init__()

    @property
    def runtime(self) -> Any:
        return self.http.app.state.runtime

    @property
    def principal(self) -> Principal:
        """The caller; raises (as a GraphQL error) when the request carries no valid token."""
        if self._principal is None:
            self._principal = decode_token(
                self.settings, bearer_token(self.http.headers.get("authorization"))
            )
        return self._principal


def bearer_token(value: object) -> str:
    scheme, _, token = str(value or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Problem(
            401,
            "Unauthorized",
            "a bearer token is required",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return token.strip()


class AuthenticatedGraphQLRouter(GraphQLRouter[Context, None]):
    """GraphQL over HTTP and WebSocket (graphql-transport-ws). A WebSocket authenticates once, in
    connection_init's payload ({"Authorization": "Bearer …"}) or its handshake headers; without a
    valid token the connection is refused (4403) before any operation."""

    async def on_ws_connect(self, context: Context) -> dict[str, object] | None:
        params = context.connection_params if isinstance(context.connection_params, dict) else {}
        header = (
            params.get("Authorization")
            or params.get("authorization")
            or context.http.headers.get("authorization")
        )
        try:
            context._principal = decode_token(context.settings, bearer_token(header))
        except Problem as exc:
            raise ConnectionRejectionError({"message": exc.detail or exc.title}) from exc
        return {"tenant_id": str(context._principal.tenant_id)}


def make_context_getter(
    settings: BaseServiceSettings,
) -> Callable[[HTTPConnection], Awaitable[Context]]:
    async def get_context(connection: HTTPConnection) -> Context:
        return Context(settings=settings, http=connection)

    return get_context


class CanSeePerson(BasePermission):
    """On fields taking person_id: the caller's own figures, or any person's for tenant readers
    (admin, HR, finance, managers). Async: it may look things up (team membership) later."""

    message = FORBIDDEN_PERSON
    error_extensions = {"status": 403}

    async def has_permission(self, source: Any, info: Info[Context, Any], **kwargs: Any) -> bool:
        person_id, month = kwargs.get("person_id"), kwargs.get("month")
        if not isinstance(person_id, str):
            return False
        return await may_see(info.context.runtime, info.context.principal, person_id, month)
