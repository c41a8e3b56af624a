"""A per-client limit on scans and API checks, so a flooding client gets 429 instead of the verifier's time.

Each client (an IPv4 address or an IPv6 /64, see clients.client_of) has a
bucket of ``per_minute`` requests that refills continuously; a request that
finds it empty is refused with the seconds until one is free (Retry-After).
The buckets live in this process's memory only (a worker process each, so
behind N workers a client gets at most N times the limit) and a bucket that
has refilled is forgotten, so memory is bounded by the clients of the last
minute.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

MAX_CLIENTS = 100_000


class RateLimiter:
    """Token buckets of *per_minute* requests per client; 0 turns the limit off."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._capacity = float(per_minute)
        self._per_second = per_minute / 60.0
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, when)
        self._lock = threading.Lock()

    def wait_seconds(self, client: str) -> int:
        """0 and take a token when *client* may go on; else the whole seconds until it may (Retry-After)."""
        if self._capacity <= 0:
            return 0
        now = self._clock()
        with self._lock:
            tokens, when = self._buckets.get(client, (self._capacity, now))
            tokens = min(self._capacity, tokens + (now - when) * self._per_second)
            if tokens < 1.0:
                self._buckets[client] = (tokens, now)
                return max(1, math.ceil((1.0 - tokens) / self._per_second))
            if len(self._buckets) >= MAX_CLIENTS:
                self._forget_refilled(now)
            self._buckets[client] = (tokens - 1.0, now)
            return 0

    def _forget_refilled(self, now: float) -> None:
        """Drop the clients whose buckets are full again (they would start full anyway)."""
        full_after = self._capacity / self._per_second
        self._buckets = {client: state for client, state in self._buckets.items() if now - state[1] < full_after}
        if len(self._buckets) >= MAX_CLIENTS:  # a flood from more clients than that: start afresh rather than grow
            self._buckets.clear()
