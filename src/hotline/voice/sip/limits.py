"""Per-source request limits: one token bucket for each source address and port.

A source (IP address and port: a trunk, one phone, one SIPp) may send `burst` requests at once
and `rate` a second after that. Beyond it a request is answered 503 Service Unavailable with
Retry-After (RFC 3261 §21.5.4): the sender learns to slow down or to try another node, and the
refusal is counted, instead of the request vanishing in a full socket buffer.

Buckets are per address *and* port so that one busy peer on an address (a load test, a flooding
phone on the demo trunk's 127.0.0.1) does not starve the others on it (the trunk's own port,
registered phones). The table of sources is bounded: idle buckets (refilled to the brim) are
dropped first, then the oldest.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

Source = tuple[str, int]


@dataclass
class SourceLimits:
    rate: float = 500.0
    """Requests a second a source may keep sending; 0 turns the limit off."""
    burst: float = 1000.0
    """Requests a source may send at once, after being quiet."""
    max_sources: int = 100_000
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[Source, list[float]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.rate < 0 or self.burst < 1 or self.max_sources < 1:
            raise ValueError("rate must be at least 0, burst and max_sources at least 1")

    def take(self, source: Source) -> float:
        """0.0 when `source` may send this request (a token is taken); otherwise the seconds
        until it may send one again."""
        if self.rate == 0:
            return 0.0
        now = self.clock()
        bucket = self._buckets.get(source)
        if bucket is None:
            if len(self._buckets) >= self.max_sources:
                self._prune(now)
            self._buckets[source] = [self.burst - 1, now]
            return 0.0
        tokens = min(self.burst, bucket[0] + (now - bucket[1]) * self.rate)
        bucket[1] = now
        if tokens >= 1:
            bucket[0] = tokens - 1
            return 0.0
        bucket[0] = tokens
        return (1 - tokens) / self.rate

    @staticmethod
    def retry_after(wait: float) -> int:
        """Whole seconds for Retry-After (at least 1)."""
        return max(1, math.ceil(wait))

    def __len__(self) -> int:
        return len(self._buckets)

    def _prune(self, now: float) -> None:
        full = self.burst / self.rate
        for source in [s for s, (_, at) in self._buckets.items() if now - at >= full]:
            del self._buckets[source]
        excess = len(self._buckets) - self.max_sources // 2
        if excess > 0:  # every source is busy: forget the ones seen longest ago
            for source in list(self._buckets)[:excess]:
                del self._buckets[source]
