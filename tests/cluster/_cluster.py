"""The local three-node RabbitMQ cluster of ``scripts/rabbitmq-cluster.sh``, driven from a test.

Every call runs the script (or ``rabbitmqctl`` against one named node with the cluster's own cookie) with a
timeout; nothing is ever killed by name. The cluster lives in its own directory (``var/cluster-test`` by
default, not the developer's ``var/cluster``) and :meth:`LocalCluster.destroy` stops it and deletes it.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.infra.broker.users import Rabbitmqctl
from tests._connections import connection_name, users_by_service

__all__ = ["NODES", "LocalCluster"]

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "rabbitmq-cluster.sh"
NODES = (1, 2, 3)
_START_TIMEOUT_S = 300  # the script bounds each step; this bounds the whole call
_STOP_TIMEOUT_S = 240
_NODE_TIMEOUT_S = 180
_CTL_TIMEOUT_S = 40
_AMQP_PORT_BASE = 5680  # node N listens on 5680 + N (the script's AMQP_PORT_BASE)


@dataclass
class LocalCluster:
    """Three nodes ``renkeiN@localhost`` on 127.0.0.1:5681..5683, in ``directory``.

    Attributes:
        directory: the script's ``--dir``.
        sbin: the RabbitMQ binaries.
        timings: seconds taken by each script call, by name (for the test's report).
    """

    directory: Path
    sbin: Path
    timings: dict[str, float] = field(default_factory=dict)

    def _script(self, *args: str, timeout_s: float) -> str:
        started = time.monotonic()
        result = subprocess.run(
            [str(SCRIPT), *args, "--dir", str(self.directory)],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
        self.timings[" ".join(args)] = round(time.monotonic() - started, 1)
        if result.returncode != 0:
            raise RuntimeError(
                f"rabbitmq-cluster.sh {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout[-1500:]}\n{result.stderr[-1500:]}"
            )
        return result.stdout

    def start(self) -> None:
        """Start the three nodes and form the cluster (one left running by a broken session is reused)."""
        self._script("start", timeout_s=_START_TIMEOUT_S)

    def destroy(self) -> None:
        """Stop every node and delete the directory (only if the script made it)."""
        if (self.directory / ".renkei-cluster").exists():
            self._script("stop", "--clean", timeout_s=_STOP_TIMEOUT_S)

    def stop_node(self, node: int) -> None:
        """Stop one node; the other two keep the quorum."""
        self._script("stop-node", str(node), timeout_s=_NODE_TIMEOUT_S)

    def start_node(self, node: int) -> None:
        """Start a stopped node and wait until it is back in the cluster."""
        self._script("start-node", str(node), timeout_s=_NODE_TIMEOUT_S)

    def status_ok(self) -> bool:
        """Whether three nodes run as one cluster."""
        try:
            self._script("status", timeout_s=_CTL_TIMEOUT_S * 3)
        except RuntimeError:
            return False
        return True

    @property
    def urls(self) -> list[str]:
        """The AMQP URLs of the three nodes, in node order (from the script's ``cluster.env``)."""
        env = (self.directory / "cluster.env").read_text(encoding="utf-8")
        for line in env.splitlines():
            key, _, value = line.partition("=")
            if key == "RENKEI_TEST_CLUSTER_AMQP_URLS":
                return value.split(",")
        raise RuntimeError(f"no RENKEI_TEST_CLUSTER_AMQP_URLS in {self.directory / 'cluster.env'}")

    def admin(self, node: int = 1) -> Rabbitmqctl:
        """Where renkei's broker users are created (through ``node``; users are cluster-wide)."""
        env = {**os.environ, "HOME": str(self.directory / "home")}
        return Rabbitmqctl(command=str(self.sbin / "rabbitmqctl"), node=f"renkei{node}@localhost", env=env)

    def ctl_json(self, node: int, *args: str) -> list[dict[str, Any]]:
        """``rabbitmqctl -n renkeiN@localhost ARGS --formatter json`` (bounded), parsed."""
        result = subprocess.run(
            [
                str(self.sbin / "rabbitmqctl"),
                "-q",
                "-n",
                f"renkei{node}@localhost",
                *args,
                "--formatter",
                "json",
            ],
            env={**os.environ, "HOME": str(self.directory / "home")},
            capture_output=True,
            text=True,
            timeout=_CTL_TIMEOUT_S,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)} on node {node}: {result.stderr.strip()[-500:]}")
        parsed: list[dict[str, object]] = json.loads(result.stdout or "[]")
        return parsed

    def connections(self, prefix: str) -> dict[int, int]:
        """How many AMQP connections whose name starts with ``prefix`` each node holds (asked of any node)."""
        for asked in NODES:
            try:
                rows = self.ctl_json(asked, "list_connections", "port", "client_properties")
            except (RuntimeError, subprocess.TimeoutExpired):
                continue  # a stopped node: ask the next
            counts = dict.fromkeys(NODES, 0)
            for row in rows:
                if connection_name(row.get("client_properties")).startswith(prefix):
                    # The server port tells the node: 5680 + N (the listing is cluster-wide).
                    counts[int(str(row["port"])) - _AMQP_PORT_BASE] += 1
            return counts
        raise RuntimeError("no node of the cluster answered")

    def connection_users(self) -> dict[str, set[str]]:
        """The users renkei's connections logged in as, by service (asked of any node that answers)."""
        for asked in (3, 2, 1):
            try:
                return users_by_service(self.ctl_json(asked, "list_connections", "user", "client_properties"))
            except (RuntimeError, subprocess.TimeoutExpired):
                continue  # a stopped node: ask the next
        raise RuntimeError("no node of the cluster answered")

    def quorum_members(self, prefix: str) -> dict[str, int]:
        """Replica count of every quorum queue whose name starts with ``prefix``."""
        rows = self.ctl_json(1, "list_queues", "name", "type", "members")
        return {
            str(row["name"]): len(row.get("members") or [])
            for row in rows
            if str(row["name"]).startswith(prefix) and row.get("type") == "quorum"
        }
