"""The embedded default: goals, scoring and incentives, with their workers, in one process."""
