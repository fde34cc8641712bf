"""Access decisions shared by every service's transports (REST dependencies, GraphQL resolvers)."""

from __future__ import annotations

from fastapi import Request

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
