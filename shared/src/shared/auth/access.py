"""Access decisions shared by every service's transports (REST dependencies, GraphQL resolvers)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Query, Request

from shared.auth.tokens import Principal, authenticate
from shared.http.problems import Problem

# Roles that read every person's figures in their tenant (managers are narrowed to their teams
# once the org tree exists).
TENANT_READERS = ("admin", "hr", "finance", "manager")


def principal(request: Request) -> Principal:
    """FastAPI dependency: the authenticated caller."""
    return authenticate(request.app.state.runtime.settings, request)


def require_roles(who: Principal, *roles: str) -> None:
    if not who.has(*roles):
        raise Problem(403, "Forbidden", f"requires one of the roles: {', '.join(roles)}")


def require_person_access(who: Principal, person_id: str) -> None:
    """A rep or assistant sees only their own figures."""
    if who.subject == person_id or who.has(*TENANT_READERS):
        return
    raise Problem(403, "Forbidden", "you may only see your own figures")


def can_see_person(
    person_id: Annotated[str, Query(min_length=1)], who: Annotated[Principal, Depends(principal)]
) -> Principal:
    """FastAPI dependency for routes taking ?person_id=: the caller, allowed to see that person."""
    require_person_access(who, person_id)
    return who


def requires(*roles: str) -> Callable[[Principal], Principal]:
    """FastAPI dependency factory: the caller, holding one of these roles."""

    def dependency(who: Annotated[Principal, Depends(principal)]) -> Principal:
        require_roles(who, *roles)
        return who

    return dependency
