"""A process's own health and metrics over HTTP: ``/healthz``, ``/readyz`` and ``/metrics`` on a thread.

Every ``renkei run`` process serves them on ``RENKEI_HEALTH_HOST``:``RENKEI_HEALTH_PORT`` when the port is
set (off by default; compose sets it, docs/deploy.md lists the ports):

* ``GET /healthz``: ``200`` while the process runs and none of its threads died (liveness), else ``503``;
* ``GET /readyz``: ``200`` when it does its work (every consumer confirmed by the broker, every periodic
  task recent, the database answering where it has one), else ``503``; JSON with every check either way;
* ``GET /metrics``: Prometheus text (or OpenMetrics when asked): the process's counters
  (:mod:`hub.infra.observability.process_metrics`), the Python runtime's, ``renkei_ready`` and the group's own
  collectors (the hub's stored-state gauges, :mod:`hub.infra.observability.state_metrics`).

The answers hold names, counts and times only: no message, no person's data. There is no authentication:
bind it to loopback or to a network only the monitoring reaches.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable, Iterator
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import REGISTRY, CollectorRegistry, make_wsgi_app
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, text

from hub.infra.observability.state_metrics import StoredStateCollector
from hub.infra.runner import Readiness, ServiceGroup

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

__all__ = ["HealthServer", "readiness_json", "serve_health", "watch_database"]

log = logging.getLogger(__name__)


def readiness_json(role: str, readiness: Readiness) -> dict[str, Any]:
    """The body of ``/readyz``."""
    return {
        "status": "ok" if readiness.ok else "fail",
        "role": role,
        "checks": [
            {"name": c.name, "kind": c.kind, "status": "ok" if c.ok else "fail", "detail": c.detail}
            for c in readiness.checks
        ],
    }


class _GroupCollector(Collector):
    """The process-wide registry, the group's readiness as a gauge and the group's own collectors."""

    def __init__(self, group: ServiceGroup, base: CollectorRegistry) -> None:
        self._group = group
        self._base = base

    def collect(self) -> Iterator[Metric]:
        yield from self._base.collect()
        ready = GaugeMetricFamily("renkei_ready", "1 when the process does its work (its /readyz is ok)")
        ready.add_metric([], 1 if self._group.readiness().ok else 0)
        yield ready
        for collector in list(self._group.collectors):
            yield from collector.collect()


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes and probes every few seconds: not worth a log line each."""


class HealthServer:
    """The HTTP server of one process; :meth:`close` stops it."""

    def __init__(
        self, group: ServiceGroup, role: str, host: str, port: int, *, base: CollectorRegistry
    ) -> None:
        self.role = role
        self._group = group
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_GroupCollector(group, base))
        self._metrics = make_wsgi_app(registry)
        self._server = make_server(host, port, self._app, server_class=_Server, handler_class=_QuietHandler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, name="health", daemon=True
        )

    @property
    def address(self) -> tuple[str, int]:
        """``(host, port)`` the server listens on (the port chosen by the system when 0 was asked)."""
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def start(self) -> HealthServer:
        """Serve in a daemon thread."""
        self._thread.start()
        log.info("health endpoints listening", extra={"host": self.address[0], "port": self.address[1]})
        return self

    def close(self) -> None:
        """Stop serving and release the port."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(5)
        self._server.server_close()

    def _app(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return _json(start_response, "405 Method Not Allowed", {"detail": "GET only"})
        if path == "/metrics":
            answer: Iterable[bytes] = self._metrics(environ, start_response)
            return answer
        if path == "/healthz":
            alive = self._group.alive
            body: dict[str, Any] = {"status": "ok" if alive else "fail", "role": self.role}
            if self._group.failures:
                body["stopped"] = sorted(self._group.failures)
            return _json(start_response, "200 OK" if alive else "503 Service Unavailable", body)
        if path == "/readyz":
            readiness = self._group.readiness()
            status = "200 OK" if readiness.ok else "503 Service Unavailable"
            return _json(start_response, status, readiness_json(self.role, readiness))
        return _json(start_response, "404 Not Found", {"detail": "try /healthz, /readyz or /metrics"})


def _json(start_response: StartResponse, status: str, body: dict[str, Any]) -> list[bytes]:
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    start_response(
        status,
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(data))),
            ("Cache-Control", "no-store"),
        ],
    )
    return [data]


def serve_health(
    group: ServiceGroup,
    role: str,
    host: str,
    port: int | None,
    *,
    base: CollectorRegistry = REGISTRY,
) -> HealthServer | None:
    """Start the health server of ``group`` when ``port`` is set (0: any free port); ``None`` when off."""
    if port is None:
        return None
    return HealthServer(group, role, host, port, base=base).start()


def watch_database(group: ServiceGroup, engine: Engine) -> None:
    """Make ``group`` unready while ``engine``'s database does not answer; export its stored-state gauges."""

    def probe() -> str:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return f"{engine.dialect.name} answers"

    group.check("database", "database", probe)
    group.collectors.append(StoredStateCollector(engine))
