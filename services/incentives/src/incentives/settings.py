from shared.settings import BaseServiceSettings


class IncentivesSettings(BaseServiceSettings):
    """Settings of the incentives service (QUOTIENT_* environment variables)."""
