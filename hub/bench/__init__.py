"""``renkei bench``: throughput, latency and memory of the broker alone, the hub's path and a bulk inquiry.

:func:`run_bench` runs three phases, each with its own exchange prefix, data directory and embedded
database, removed afterwards: a baseline through RabbitMQ alone, the same messages through the hub's full
path, and a survival/change inquiry of N people through every stage with each service in its own process.
``docs/performance.md`` explains the method and keeps the latest figures.
"""

from hub.bench.errors import BenchError
from hub.bench.runner import PHASES, run_bench

__all__ = ["PHASES", "BenchError", "run_bench"]
