"""Wake-ups through PostgreSQL LISTEN/NOTIFY, so relays and embedded consumers need not spin."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import asyncpg

log = logging.getLogger(__name__)


class PgNotifier:
    """One LISTEN connection; any number of channels; waiters get an asyncio.Event per channel.

    Notifications only shorten waits: every waiter also polls, so a lost connection delays
    work by one poll interval at most and never loses it.
    """

    def __init__(self, dsn: str):
        self._dsn = dsn
        self._conn: Any = None
        self._events: dict[str, asyncio.Event] = {}
        self._lock = asyncio.Lock()

    async def _connection(self) -> Any:
        if self._conn is None or self._conn.is_closed():
            self._conn = await asyncpg.connect(self._dsn)
            for channel in self._events:
                await self._conn.add_listener(channel, self._on_notify)
        return self._conn

    def _on_notify(self, _conn: Any, _pid: int, channel: str, _payload: str) -> None:
        event = self._events.get(channel)
        if event is not None:
            event.set()

    def poke(self, channel: str) -> None:
        """Wake waiters of this process at once (no round trip)."""
        event = self._events.get(channel)
        if event is not None:
            event.set()

    async def listen(self, channel: str) -> asyncio.Event:
        async with self._lock:
            if channel not in self._events:
                self._events[channel] = asyncio.Event()
                try:
                    conn = await self._connection()
                    await conn.add_listener(channel, self._on_notify)
                except (OSError, asyncpg.PostgresError) as exc:  # polling still works
                    log.warning("LISTEN %s failed: %s", channel, exc)
            return self._events[channel]

    async def wait(self, channel: str, timeout: float) -> None:
        event = await self.listen(channel)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)
        event.clear()

    async def close(self) -> None:
        if self._conn is not None and not self._conn.is_closed():
            with contextlib.suppress(Exception):
                await self._conn.close()
        self._conn = None
