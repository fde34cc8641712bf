"""Metrics, traces and logs: what every process tells operators about itself."""
