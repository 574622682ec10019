"""renkei's services as separate processes (``renkei run ...``), so that each one's peak memory shows.

The benchmark starts the hub, the adapters and the simulator the way an operator does, with the phase's
settings in ``RENKEI_*`` variables, waits until each consumes its queues, reads every process's peak
resident memory (``VmHWM``) before it stops them, and stops them with SIGTERM (SIGKILL after a grace
period). Their output goes to files in the phase's data directory, whose last lines a failure quotes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import IO

from pydantic import BaseModel, SecretStr
from pydantic_settings import BaseSettings

from hub.bench.errors import BenchError
from hub.bench.measure import cpu_seconds, peak_memory_mib
from hub.settings import Settings

__all__ = ["Service", "ServiceSet", "settings_env"]

_STOP_GRACE_S = 20.0
_POLL_S = 0.2


def _env_value(value: object) -> str | None:
    if value is None or isinstance(value, SecretStr):
        return None  # secrets are inherited from the environment, never written out
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, tuple | list):
        return json.dumps(list(value))
    if isinstance(value, dict):
        return json.dumps(value)  # pydantic-settings reads complex values as JSON
    if isinstance(value, Path):
        return str(value.resolve())
    return str(value)


def _fields_env(model: BaseModel, prefix: str) -> dict[str, str]:
    env: dict[str, str] = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, BaseSettings):
            prefix_of = str(type(value).model_config.get("env_prefix", ""))
            env.update(_fields_env(value, prefix_of))
            continue
        text = _env_value(value)
        if text is not None:
            env[f"{prefix}{name}".upper()] = text
    return env


def settings_env(settings: Settings) -> dict[str, str]:
    """``settings`` as the ``RENKEI_*`` variables that make a service read the same settings."""
    return _fields_env(settings, str(Settings.model_config.get("env_prefix", "")))


@dataclass
class Service:
    """One ``renkei run`` process."""

    name: str
    args: tuple[str, ...]
    ready: Callable[[], bool]
    """Whether the service consumes what it should (looked at until it does)."""
    process: subprocess.Popen[bytes] | None = None
    output: Path | None = None
    peak_mib: float | None = None
    cpu_s: float | None = None

    def tail(self, lines: int = 20) -> str:
        """The last lines of the service's output."""
        if self.output is None or not self.output.exists():
            return ""
        text = self.output.read_text(encoding="utf-8", errors="replace").splitlines()
        return "\n".join(text[-lines:])


@dataclass
class ServiceSet:
    """Services started together and stopped together.

    Args:
        settings: the phase's settings, handed to every service through its environment.
        log_dir: where each service's output goes.
    """

    settings: Settings
    log_dir: Path
    services: list[Service] = field(default_factory=list)
    _files: list[IO[bytes]] = field(default_factory=list)

    def start(self, services: Iterable[Service], *, timeout_s: float) -> None:
        """Start the services and wait until each is ready.

        Raises:
            BenchError: a service died or was not ready within ``timeout_s``.
        """
        env = {**os.environ, **settings_env(self.settings)}
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for service in services:
            service.output = self.log_dir / f"{service.name}.out"
            out = service.output.open("wb")
            self._files.append(out)
            service.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module, fixed arguments
                [sys.executable, "-m", "hub.cli.main", "run", *service.args],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
            self.services.append(service)
        deadline = time.monotonic() + timeout_s
        waiting = list(self.services)
        while waiting:  # bounded by the deadline
            self.check_alive()
            waiting = [s for s in waiting if not s.ready()]
            if waiting and time.monotonic() > deadline:
                names = ", ".join(s.name for s in waiting)
                raise BenchError(f"not ready within {timeout_s:g} s: {names}\n{waiting[0].tail()}")
            if waiting:
                time.sleep(_POLL_S)

    def check_alive(self) -> None:
        """Raise if a service has exited.

        Raises:
            BenchError: a service exited (its output's last lines are quoted).
        """
        for service in self.services:
            if service.process is not None and service.process.poll() is not None:
                raise BenchError(
                    f"{service.name} exited with {service.process.returncode}:\n{service.tail()}"
                )

    def read_peaks(self) -> dict[str, float | None]:
        """Each running service's peak resident memory so far, in MiB (and its CPU time, kept on it)."""
        for service in self.services:
            if service.process is not None and service.process.poll() is None:
                service.peak_mib = peak_memory_mib(service.process.pid)
                service.cpu_s = cpu_seconds(service.process.pid)
        return {s.name: s.peak_mib for s in self.services}

    def cpu(self) -> dict[str, float | None]:
        """CPU seconds each service had used when :meth:`read_peaks` last looked (start-up included)."""
        return {s.name: s.cpu_s for s in self.services}

    def stop(self) -> None:
        """Stop every service: SIGTERM, then SIGKILL after the grace period."""
        for service in self.services:
            if service.process is not None and service.process.poll() is None:
                service.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + _STOP_GRACE_S
        for service in self.services:
            if service.process is None:
                continue
            try:
                service.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                service.process.kill()
                service.process.wait(5)
        for out in self._files:
            out.close()
        self._files.clear()
