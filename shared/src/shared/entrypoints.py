"""Command-line entry points shared by the services' api processes."""

from __future__ import annotations

import argparse
import os

import uvicorn

from shared.observability.logs import configure_logging
from shared.settings import BaseServiceSettings


def serve_api(factory: str, default_port: int) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default=os.environ.get("QUOTIENT_HOST", "0.0.0.0"))
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("QUOTIENT_PORT", default_port))
    )
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    settings = BaseServiceSettings()
    configure_logging(settings.log_level, settings.log_style)
    uvicorn.run(
        factory,
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=os.environ.get("QUOTIENT_LOG_LEVEL", "info").lower(),
        access_log=False,  # the app logs each request by its route template
        log_config=None,  # keep the JSON logging configured above
        # Longer than the usual load balancer idle timeout (60 s), so the proxy closes first.
        timeout_keep_alive=75,
    )
