"""Token-bucket rate limits (per process): a key may spend `burst` requests at once and regains
`rate` per second. Refusals are 429 problems with Retry-After. With several api replicas the
tenant-wide limit is the per-process limit times the replicas."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from shared.http.problems import Problem


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class RateLimiter:
    def __init__(self, rate: float, burst: int, *, max_keys: int = 100_000):
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, _Bucket] = {}
        self._max_keys = max_keys

    def retry_after(self, key: str, cost: float = 1.0, now: float | None = None) -> float:
        """Spend `cost` tokens; 0 when allowed, else the seconds until it would be."""
        if self.rate <= 0:
            return 0.0
        now = time.monotonic() if now is None else now
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._max_keys:
                self._buckets.clear()  # bounded memory; a reset only ever lets more through
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
        bucket.stamp = now
        if bucket.tokens >= cost:
            bucket.tokens -= cost
            return 0.0
        return (cost - bucket.tokens) / self.rate

    def check(self, key: str, what: str, cost: float = 1.0) -> None:
        wait = self.retry_after(key, cost)
        if wait > 0:
            raise Problem(
                429,
                "Too many requests",
                f"{what} is limited to {self.rate:g} per second (bursts of {self.burst})",
                kind="rate-limited",
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
