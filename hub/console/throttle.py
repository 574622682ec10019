"""Slowing down password guessing: a name is locked for a while after repeated failed sign-ins."""

from __future__ import annotations

import threading
from collections import deque

__all__ = ["SignInThrottle"]


class SignInThrottle:
    """At most ``max_failures`` failed sign-ins per name within ``window_s``; bounded memory.

    Kept per console process (a restart forgets it); Argon2id makes each guess cost most of a second anyway.
    """

    def __init__(self, max_failures: int = 5, window_s: float = 900.0, max_names: int = 10_000) -> None:
        self._max = max_failures
        self._window = window_s
        self._max_names = max_names
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def locked(self, name: str, now: float) -> bool:
        """Whether ``name`` may not try again yet."""
        with self._lock:
            recent = self._failures.get(name)
            if recent is None:
                return False
            while recent and now - recent[0] > self._window:
                recent.popleft()
            if not recent:
                del self._failures[name]
                return False
            return len(recent) >= self._max

    def failed(self, name: str, now: float) -> None:
        """Count a failed sign-in for ``name``."""
        with self._lock:
            if name not in self._failures and len(self._failures) >= self._max_names:
                self._failures.pop(next(iter(self._failures)))
            self._failures.setdefault(name, deque(maxlen=self._max * 2)).append(now)
