"""`make token`: mint a development token (HS256 with the local secret) for a known role.

Run as `python -m shared.auth` (a package's __main__, so the token module is imported once)."""

from __future__ import annotations

import argparse
import uuid

from shared.auth.tokens import ROLES, mint_token
from shared.settings import BaseServiceSettings


def main() -> None:
    """Mint a development token: python -m shared.auth --tenant T --person p-1 --roles admin"""
    parser = argparse.ArgumentParser(prog="python -m shared.auth", description=main.__doc__)
    parser.add_argument("--tenant", required=True)
    parser.add_argument("--person", default="admin")
    parser.add_argument("--roles", default="admin", help="comma-separated")
    parser.add_argument("--ttl", type=int, default=12 * 3600)
    args = parser.parse_args()
    roles = [r.strip() for r in args.roles.split(",") if r.strip()]
    unknown = sorted(set(roles) - ROLES)
    if not roles or unknown:
        # A token for a role nobody checks would look valid and open nothing: refuse to mint it.
        parser.error(
            f"unknown role(s) {', '.join(unknown) or '(none given)'}; "
            f"known roles: {', '.join(sorted(ROLES))}"
        )
    try:
        tenant = str(uuid.UUID(args.tenant))
    except ValueError:
        parser.error(f"--tenant must be a tenant id (a UUID), got {args.tenant!r}")
    settings = BaseServiceSettings()
    print(
        mint_token(
            settings,
            tenant_id=tenant,
            subject=args.person,
            roles=roles,
            ttl_seconds=args.ttl,
        )
    )


if __name__ == "__main__":
    main()
