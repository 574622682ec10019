"""A token bucket: at most so many operations per second, for operator actions such as replay.

Amazon SQS's redrive is the one surveyed system with a rate (``MaxNumberOfMessagesPerSecond``); replaying
thousands of dead letters at full speed would swamp the very consumer that failed on them.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from contracts.errors import ConfigurationError

__all__ = ["TokenBucket"]


class TokenBucket:
    """At most ``rate`` takes per second on average, in bursts of at most ``burst``.

    Args:
        rate: tokens added per second (> 0).
        burst: the bucket's size (default: ``max(1, rate)``); also the largest single take.
        clock: seconds, monotonic.
        sleep: how to wait.
    """

    def __init__(
        self,
        rate: float,
        *,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ConfigurationError("a replay rate must be more than 0 messages per second")
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate)
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.burst
        self._at = clock()

    def take(self, n: int = 1) -> None:
        """Wait until ``n`` tokens are there and take them (``n`` is capped at the bucket's size)."""
        need = min(float(n), self.burst)
        for _ in range(1_000):  # each pass waits for exactly what is missing; a slow clock needs few more
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
            self._at = now
            if self._tokens >= need - 1e-9:  # float sums of waits fall a hair short
                self._tokens -= need
                return
            self._sleep((need - self._tokens) / self.rate)
        raise RuntimeError("the rate limiter's clock does not advance")
