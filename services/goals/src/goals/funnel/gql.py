"""GraphQL reads of the sales funnel: see FunnelQuery."""

from __future__ import annotations

import strawberry


@strawberry.type
class FunnelQuery:
    @strawberry.field(description="placeholder until the funnel lands")
    def funnel_version(self) -> int:
        return 1
