"""Background jobs a worker runs besides its consumers: e.g. time-driven checks and outbound
deliveries. Each runs its job, then sleeps until the interval passes or a NOTIFY wakes it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from shared.db.notify import PgNotifier

log = logging.getLogger(__name__)


class Periodic:
    def __init__(
        self,
        name: str,
        every: float,
        job: Callable[[], Awaitable[object]],
        *,
        notifier: PgNotifier | None = None,
        wake_on: str | None = None,
    ) -> None:
        self.name = name
        self.every = every
        self.job = job
        self.notifier = notifier
        self.wake_on = wake_on
        self._stopped = asyncio.Event()

    async def run(self) -> None:
        while not self._stopped.is_set():
            try:
                await self.job()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s failed; trying again in %.1f s", self.name, self.every)
            if self.notifier is not None and self.wake_on is not None:
                await self.notifier.wait(self.wake_on, self.every)
            else:
                try:
                    await asyncio.wait_for(self._stopped.wait(), self.every)
                except TimeoutError:
                    pass

    def stop(self) -> None:
        self._stopped.set()
