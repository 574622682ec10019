"""The benchmark's own failure."""

from __future__ import annotations

from contracts.errors import RenkeiError

__all__ = ["BenchError"]


class BenchError(RenkeiError):
    """A benchmark phase could not complete: a timeout, a service that died, a record lost."""

    code = "bench_failed"
