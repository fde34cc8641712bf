"""HTTP pieces every service app uses: problem+json errors, health, metrics."""
