"""The typed GraphQL context every resolver gets."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from strawberry.fastapi import BaseContext

from shared.auth.tokens import Principal, authenticate
from shared.settings import BaseServiceSettings


@dataclass
class Context(BaseContext):
    settings: BaseServiceSettings
    http: Request
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
            self._principal = authenticate(self.settings, self.http)
        return self._principal


def make_context_getter(settings: BaseServiceSettings) -> Callable[[Request], Awaitable[Context]]:
    async def get_context(request: Request) -> Context:
        return Context(settings=settings, http=request)

    return get_context
