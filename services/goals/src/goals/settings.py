from shared.settings import BaseServiceSettings


class GoalsSettings(BaseServiceSettings):
    """Settings of the goals service (QUOTIENT_* environment variables)."""
