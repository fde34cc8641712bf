"""GraphQL reads of goals (goal tree, leaderboards): see GoalsQuery."""

from __future__ import annotations

import strawberry


@strawberry.type
class GoalsQuery:
    @strawberry.field(description="placeholder until the goal tree lands")
    def goals_version(self) -> int:
        return 1
