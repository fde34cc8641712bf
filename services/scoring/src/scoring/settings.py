from shared.settings import BaseServiceSettings


class ScoringSettings(BaseServiceSettings):
    """Settings of the scoring service (QUOTIENT_* environment variables)."""
