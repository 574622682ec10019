#!/usr/bin/env python3
"""Container health check of a renkei process: the process's own ``/readyz`` says ok.

Installed in the image as ``renkei-healthcheck``; its arguments mirror ``renkei run`` (or name the console):

    renkei-healthcheck hub
    renkei-healthcheck adapter jlis
    renkei-healthcheck simulator jlis
    renkei-healthcheck console

It reads the process's own settings: ``RENKEI_HEALTH_PORT`` (and ``RENKEI_HEALTH_HOST``) for a worker,
``RENKEI_CONSOLE_PORT`` for the console, asks ``/readyz`` on that port and exits 0 when the answer is ok
and comes from the process named by the arguments, 1 otherwise, printing the checks that failed. The
answer is this copy's own (its consumers confirmed by the broker, its periodic tasks recent, its database
reachable): another replica cannot stand in for it, as it could when the check asked the broker whether
the queue had some consumer.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request

from hub.settings import Settings

TIMEOUT_S = 5
USAGE = "usage: renkei-healthcheck hub | adapter NAME | simulator NAME | console"


def target(settings: Settings, argv: list[str]) -> tuple[str, int, str]:
    """``(host, port, role)`` of the process named by ``argv``."""
    match argv:
        case ["console"]:
            return _local(settings.console.host), settings.console.port, "console"
        case ["hub"] | ["adapter", _] | ["simulator", _]:
            if settings.health_port is None:
                raise SystemExit("unhealthy: RENKEI_HEALTH_PORT is not set, so the process serves no /readyz")
            return _local(settings.health_host), settings.health_port, " ".join(argv)
    raise SystemExit(f"{USAGE} (got {argv})")


def _local(host: str) -> str:
    # A process listening on every interface is asked on loopback.
    return "127.0.0.1" if host in ("0.0.0.0", "", "::") else host  # noqa: S104 - compared, not bound


def main(argv: list[str]) -> int:
    """Ask the process's ``/readyz``; print what is wrong; return the exit status."""
    host, port, role = target(Settings(), argv)
    url = f"http://{host}:{port}/readyz"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as answer:
            body = json.loads(answer.read())
    except urllib.error.HTTPError as error:
        try:
            body = json.loads(error.read())
        except ValueError:
            print(f"unhealthy: {url} answered {error.code}")
            return 1
    except (OSError, ValueError) as exc:
        print(f"unhealthy: no answer from {url} ({type(exc).__name__})")
        return 1
    if body.get("role") != role:
        print(
            f"unhealthy: {url} is {body.get('role')!r}, not {role!r} (RENKEI_HEALTH_PORT of another process?)"
        )
        return 1
    failed = [c for c in body.get("checks", []) if c.get("status") != "ok"]
    if body.get("status") != "ok" or failed:
        print("unhealthy: " + "; ".join(f"{c.get('name')}: {c.get('detail')}" for c in failed))
        return 1
    print(f"healthy: {role} ({len(body.get('checks', []))} checks ok)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
