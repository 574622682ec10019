"""Small measurements the benchmark reports: latency percentiles, peak memory, the machine it ran on."""

from __future__ import annotations

import math
import os
import platform
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["cpu_seconds", "machine", "peak_memory_mib", "percentile", "reset_peak_memory"]


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of already sorted values (``fraction`` 0.5 for p50, 0.99 for p99).

    Raises:
        ValueError: no values, or a fraction outside (0, 1].
    """
    if not sorted_values:
        raise ValueError("a percentile needs at least one value")
    if not 0 < fraction <= 1:
        raise ValueError("the fraction is in (0, 1]")
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


def _status_kib(pid: int | str, field: str) -> int | None:
    try:
        text = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return None


def peak_memory_mib(pid: int | None = None) -> float | None:
    """Peak resident memory (``VmHWM``) of a process in MiB; ``None`` where ``/proc`` cannot tell."""
    kib = _status_kib("self" if pid is None else pid, "VmHWM")
    return None if kib is None else round(kib / 1024, 1)


def cpu_seconds(pid: int | None = None) -> float | None:
    """CPU time (user and system) a process has used so far; ``None`` where ``/proc`` cannot tell."""
    try:
        fields = Path(f"/proc/{'self' if pid is None else pid}/stat").read_text(encoding="ascii")
    except OSError:
        return None
    # The command name (field 2) may hold spaces: count from the closing parenthesis.
    rest = fields.rsplit(")", 1)[1].split()
    ticks = int(rest[11]) + int(rest[12])  # utime and stime, fields 14 and 15
    return round(ticks / os.sysconf("SC_CLK_TCK"), 2)


def reset_peak_memory() -> bool:
    """Reset this process's ``VmHWM`` to its current size (Linux 4.0+), so a phase measures its own peak.

    Returns whether it worked; where it does not, the figure covers the process since it started.
    """
    try:
        Path("/proc/self/clear_refs").write_text("5", encoding="ascii")
    except OSError:
        return False
    return True


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_total_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text(encoding="ascii").splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def machine() -> dict[str, Any]:
    """What the figures were measured on: processors, CPU model, memory, system and Python."""
    return {
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gib": _memory_total_gib(),
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }
