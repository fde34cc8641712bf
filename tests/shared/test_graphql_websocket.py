"""GraphQL over WebSocket (graphql-transport-ws) authenticates in connection_init: a real client
against the running app on loopback."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator

import pytest
import uvicorn
import websockets

from allinone.app import SERVICES
from shared.db.bootstrap import DatabaseUrls
from shared.service import create_app
from shared.settings import BaseServiceSettings
from tests.helpers import free_port, make_settings, token


@pytest.fixture
async def server(database: DatabaseUrls) -> AsyncIterator[tuple[str, BaseServiceSettings]]:
    settings = make_settings(database)
    port = free_port()
    config = uvicorn.Config(
        create_app(settings, SERVICES, title="t"), host="127.0.0.1", port=port, log_level="warning"
    )
    srv = uvicorn.Server(config)
    task = asyncio.create_task(srv.serve())
    while not srv.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
        await asyncio.sleep(0.05)
    try:
        yield f"ws://127.0.0.1:{port}/graphql", settings
    finally:
        srv.should_exit = True
        await asyncio.wait_for(task, 15)


async def connect(
    url: str, payload: dict[str, str] | None
) -> tuple[dict[str, object] | None, int | None]:
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": payload or {}}))
        try:
            reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
            return reply, None
        except websockets.ConnectionClosed as closed:
            return None, closed.rcvd.code if closed.rcvd else None


async def test_connection_init_with_a_valid_token_is_acknowledged(server) -> None:
    url, settings = server
    reply, _ = await connect(
        url, {"Authorization": f"Bearer {token(settings, uuid.uuid4(), ['rep'])}"}
    )
    assert reply is not None and reply["type"] == "connection_ack"


@pytest.mark.parametrize("payload", [None, {"Authorization": "Bearer not-a-token"}])
async def test_connection_without_a_valid_token_is_refused(server, payload) -> None:
    url, _settings = server
    reply, code = await connect(url, payload)
    assert reply is None
    assert code == 4403
