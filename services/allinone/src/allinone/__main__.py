"""`make run`: everything in one process on the embedded default, with a banner of URLs."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal

import uvicorn

from allinone.app import create_app
from shared.observability.logs import configure_logging
from shared.settings import BaseServiceSettings


def banner(settings: BaseServiceSettings, base: str, demo: object) -> str:
    d = demo
    lines = [
        "",
        "Quotient is running (goals + scoring + incentives, one process)",
        f"  REST docs      {base}/docs",
        f"  GraphQL IDE    {base}/graphql",
        f"  health         {base}/healthz   {base}/readyz   {base}/metrics",
        f"  database       {'embedded PostgreSQL in ' + str(settings.data_dir.resolve()) if not os.environ.get('DATABASE_URL') else 'DATABASE_URL'}",
        f"  bus            {settings.bus_kind}",
        "",
        "Demo tenant",
        f"  tenant id      {d.tenant_id}",  # type: ignore[attr-defined]
        f"  webhook        {base}/v1/webhooks/{d.source_id}",  # type: ignore[attr-defined]
        f"  secret         {d.secret}",  # type: ignore[attr-defined]
        f"  admin token    {d.admin_token}",  # type: ignore[attr-defined]
        "",
        "Post a first event (signature: v1=hex(HMAC-SHA256(secret, timestamp + '.' + body))):",
        '  body=\'{"id":"evt-1","type":"payment_received","occurred_at":"2026-03-05T10:00:00+08:00",'
        '"actor_id":"p-12","amount":{"value":"120000.00","currency":"CNY"}}\'',
        '  ts=$(date +%s); sig=$(printf \'%s.%s\' "$ts" "$body" | openssl dgst -sha256 -hmac "$SECRET" | sed \'s/.* //\')',
        f'  curl -X POST {base}/v1/webhooks/{d.source_id} -H "X-Quotient-Timestamp: $ts" '  # type: ignore[attr-defined]
        '-H "X-Quotient-Signature: v1=$sig" -H \'Content-Type: application/json\' -d "$body"',
        "",
        "Press Ctrl-C to stop.",
    ]
    return "\n".join(lines)


async def serve(host: str, port: int) -> None:
    settings = BaseServiceSettings()
    app = create_app(settings, demo=True)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}"

    async def announce() -> None:
        while not server.started:
            if server.should_exit:
                return
            await asyncio.sleep(0.1)
        print(banner(settings, base, app.state.demo), flush=True)

    task = asyncio.create_task(announce())
    await server.serve()
    task.cancel()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=os.environ.get("QUOTIENT_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("QUOTIENT_PORT", "8000")))
    args = parser.parse_args()
    settings = BaseServiceSettings()
    # A terminal: readable lines, warnings and up unless QUOTIENT_LOG_LEVEL says otherwise.
    configure_logging(os.environ.get("QUOTIENT_LOG_LEVEL", "WARNING"), settings.log_style)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        asyncio.run(serve(args.host, args.port))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
