"""`make run`: everything in one process on the embedded default, with a banner of URLs."""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import signal
from pathlib import Path

import uvicorn

from allinone.app import create_app
from allinone.demo.embedded import Demo
from shared.observability.logs import configure_logging
from shared.settings import BaseServiceSettings

# The first event the banner and the README post, and the GraphQL query that shows it counted.
FIRST_EVENT = (
    '{"id":"evt-1","type":"payment_received","occurred_at":"2026-03-05T10:00:00+08:00",'
    '"actor_id":"p-12","amount":{"value":"120000.00","currency":"CNY"}}'
)
FIRST_QUERY = '{"query":"{ kpiTotals(personId: \\"p-12\\", month: \\"2026-03\\") { metric actual eventCount } }"}'


def env_lines(base: str, demo: Demo) -> list[str]:
    """Shell assignments of what the first commands need (the demo tenant's source and secret, an
    admin token): printed in the banner and written to `<data dir>/env` for other shells."""
    return [
        f"export QUOTIENT_URL={shlex.quote(base)}",
        f"export TENANT={shlex.quote(str(demo.tenant_id))}",
        f"export SOURCE={shlex.quote(str(demo.source_id))}",
        f"export SECRET={shlex.quote(demo.secret)}",
        f"export TOKEN={shlex.quote(demo.admin_token)}",
    ]


def write_env(path: Path, base: str, demo: Demo) -> None:
    """`<data dir>/env` (owner-only: it holds the webhook secret and an admin token)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write("# written by `make run` for the demo tenant; `. .quotient/env` to use it\n")
        out.write("\n".join(env_lines(base, demo)) + "\n")


def banner(settings: BaseServiceSettings, base: str, demo: Demo, env_file: Path | None) -> str:
    signature = 'sig=$(printf \'%s.%s\' "$ts" "$body" | openssl dgst -sha256 -hmac "$SECRET" | sed \'s/.* //\')'
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
        f"  tenant id      {demo.tenant_id}",
        f"  webhook        {base}/v1/webhooks/{demo.source_id}",
        f"  secret         {demo.secret}",
        f"  admin token    {demo.admin_token}",
        "",
        "Post a first event, then read it back over GraphQL (paste these lines into a shell;",
        "the signature is v1=hex(HMAC-SHA256(secret, timestamp + '.' + body))):",
        *(f"  {line}" for line in env_lines(base, demo)),
        f"  body='{FIRST_EVENT}'",
        f"  ts=$(date +%s); {signature}",
        '  curl -sS -X POST "$QUOTIENT_URL/v1/webhooks/$SOURCE" -H "X-Quotient-Timestamp: $ts" '
        '-H "X-Quotient-Signature: v1=$sig" -H \'Content-Type: application/json\' -d "$body"; echo',
        "  sleep 2  # the worker counts it within a moment",
        '  curl -sS "$QUOTIENT_URL/graphql" -H "Authorization: Bearer $TOKEN" '
        f"-H 'Content-Type: application/json' -d '{FIRST_QUERY}'; echo",
        "",
        *(
            [f"The same variables for another shell: . {env_file}", ""]
            if env_file is not None
            else []
        ),
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
        demo: Demo = app.state.demo
        env_file: Path | None = settings.data_dir / "env"
        try:
            write_env(settings.data_dir / "env", base, demo)
        except OSError:
            env_file = None  # a read-only data folder: the banner still says it all
        print(banner(settings, base, demo, env_file), flush=True)

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
