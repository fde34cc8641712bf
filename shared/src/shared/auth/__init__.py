"""Bearer-token authentication: who is calling, for which tenant, with which roles."""

from shared.auth.tokens import Principal, authenticate, mint_token

__all__ = ["Principal", "authenticate", "mint_token"]
