"""A private RabbitMQ node for the fault tests, so that restarting "the broker" disturbs nobody else.

The fault tests restart the broker in the middle of a flow. Doing that to the shared broker on 5672 would
break every other test (and every other engineer's run) that happens to use it at the time, so the fault
suite runs on a node of its own, one per pytest session: ``renkei-faults-<pid>@localhost`` on free
loopback ports, its database, logs and Erlang cookie under ``var/faults/broker-<pid>`` (the technique of
``scripts/rabbitmq-cluster.sh``: the node runs from ``/usr/lib/rabbitmq/bin`` with a private ``HOME``, so it
never talks to the main broker). Two sessions at once (two engineers running the suite) each have their
own node, and neither restarts nor stops the other's.

A node whose session died without stopping it is stopped by the next session (:func:`reap_stale_nodes`).
Every call to ``rabbitmqctl`` names the node and is bounded in time; nothing is ever killed by name.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import string
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from hub.infra.broker.users import Rabbitmqctl

__all__ = ["PrivateBroker", "free_port", "reap_stale_nodes"]

_START_TIMEOUT_S = 90
_CTL_TIMEOUT_S = 60


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap_stale_nodes(parent: Path, sbin: Path) -> list[str]:
    """Stop the nodes (and remove the directories) of sessions that ended without stopping theirs."""
    reaped = []
    for owner_file in sorted(parent.glob("broker-*/owner.json")):
        try:
            owner = json.loads(owner_file.read_text())
        except (OSError, ValueError):
            continue
        if owner.get("keep") or _pid_alive(int(owner["pid"])):
            continue
        broker = PrivateBroker(owner_file.parent, sbin, owner["node"], owner["amqp_port"], owner["dist_port"])
        broker.shutdown()
        shutil.rmtree(owner_file.parent, ignore_errors=True)
        reaped.append(owner["node"])
    return reaped


@dataclass
class PrivateBroker:
    """One RabbitMQ node of the fault suite's own.

    Attributes:
        root: directory for the node's home (cookie), database and logs.
        sbin: where ``rabbitmq-server`` and ``rabbitmqctl`` are.
        restarts: broker application restarts done so far (for the tests' reports).
    """

    root: Path
    sbin: Path
    node: str
    amqp_port: int
    dist_port: int
    keep: bool = False
    restarts: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """The node's AMQP URL."""
        return f"amqp://guest:guest@127.0.0.1:{self.amqp_port}/%2F"

    @property
    def _home(self) -> Path:
        return self.root / "home"

    def _env(self) -> dict[str, str]:
        node_dir = self.root / "node"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RABBITMQ_", "ERL_"))}
        env.update(
            HOME=str(self._home),
            RABBITMQ_NODENAME=self.node,
            RABBITMQ_NODE_IP_ADDRESS="127.0.0.1",
            RABBITMQ_NODE_PORT=str(self.amqp_port),
            RABBITMQ_DIST_PORT=str(self.dist_port),
            RABBITMQ_MNESIA_BASE=str(node_dir / "mnesia"),
            RABBITMQ_LOG_BASE=str(node_dir / "log"),
            RABBITMQ_PID_FILE=str(node_dir / "pid"),
            RABBITMQ_CONFIG_FILE=str(node_dir / "rabbitmq.conf"),
            RABBITMQ_CONF_ENV_FILE=str(node_dir / "rabbitmq-env.conf"),
            RABBITMQ_ENABLED_PLUGINS_FILE=str(node_dir / "enabled_plugins"),
            RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}",
            ERL_EPMD_ADDRESS="127.0.0.1",
        )
        return env

    def ctl(self, *args: str, timeout_s: float = _CTL_TIMEOUT_S, check: bool = True) -> str:
        """Run ``rabbitmqctl -n NODE ARGS`` (bounded); returns its output.

        The CLI is an Erlang node of its own; on a busy machine it sometimes fails to start its
        distribution (``nodistribution``), which says nothing about the broker: that is tried again.
        """
        for attempt in range(3):
            result = subprocess.run(
                [str(self.sbin / "rabbitmqctl"), "-q", "-n", self.node, *args],
                env=self._env(),
                capture_output=True,
                text=True,
                timeout=timeout_s + 10,
                check=False,
            )
            if "nodistribution" not in result.stderr or attempt == 2:
                break
            time.sleep(1)
        if check and result.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)} failed: {result.stderr.strip()[-500:]}")
        return result.stdout

    def admin(self) -> Rabbitmqctl:
        """Where renkei's broker users are created on this node (``renkei topology users``' CLI driver)."""
        return Rabbitmqctl(command=str(self.sbin / "rabbitmqctl"), node=self.node, env=self._env())

    def running(self) -> bool:
        """Whether the node's Erlang VM answers (its broker application may be stopped)."""
        try:
            self.ctl("--timeout", "5", "ping", timeout_s=10)
        except (RuntimeError, subprocess.TimeoutExpired):
            return False
        return True

    def _prepare(self) -> None:
        node_dir = self.root / "node"
        for path in (self._home, node_dir / "mnesia", node_dir / "log"):
            path.mkdir(parents=True, exist_ok=True, mode=0o700)
        cookie = self._home / ".erlang.cookie"
        if not cookie.exists() or not cookie.read_text().strip():
            letters = "".join(secrets.choice(string.ascii_uppercase) for _ in range(40))
            cookie.write_text(letters)
        cookie.chmod(0o400)
        (node_dir / "enabled_plugins").write_text("[].\n")
        (node_dir / "rabbitmq-env.conf").write_text("")
        (node_dir / "rabbitmq.conf").write_text("# the renkei fault suite's private node\n")
        owner = {
            "pid": os.getpid(),
            "keep": self.keep,
            "node": self.node,
            "amqp_port": self.amqp_port,
            "dist_port": self.dist_port,
        }
        (self.root / "owner.json").write_text(json.dumps(owner))

    def start(self) -> None:
        """Start the node (or reuse the one a previous session left running) and wait until it serves.

        Raises:
            RuntimeError: the ports are taken by something else, or the node did not start in time.
        """
        started = time.monotonic()
        self._prepare()
        if not self.running():
            if port_open(self.amqp_port) or port_open(self.dist_port):
                raise RuntimeError(f"ports {self.amqp_port}/{self.dist_port} are taken, not by {self.node}")
            pid_file = self.root / "node" / "pid"
            pid_file.unlink(missing_ok=True)
            subprocess.run(
                [str(self.sbin / "rabbitmq-server"), "-detached"],
                env=self._env(),
                cwd=self.root,
                capture_output=True,
                timeout=60,
                check=False,
            )
            self.ctl("wait", str(pid_file), "--timeout", str(_START_TIMEOUT_S), timeout_s=_START_TIMEOUT_S)
        self.ctl("start_app")  # a no-op when it runs; starts it when a session stopped mid-restart
        self._await_amqp()
        # At-least-once dead-lettering is throttled by this prefetch (default 32), as on the main broker.
        self.ctl(
            "eval", "application:set_env(rabbit, dead_letter_worker_consumer_prefetch, 512).", check=False
        )
        self.timings["start_s"] = time.monotonic() - started

    def _await_amqp(self) -> None:
        self.ctl("await_startup", "--timeout", str(_START_TIMEOUT_S), timeout_s=_START_TIMEOUT_S)
        deadline = time.monotonic() + 30
        while not port_open(self.amqp_port):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.node} runs but accepts no AMQP connection on {self.amqp_port}")
            time.sleep(0.2)

    def stop_app(self) -> None:
        """Stop the broker application: every connection is closed, the node keeps its data."""
        self.ctl("stop_app")

    def start_app(self) -> float:
        """Start the broker application again and wait until it serves; returns the seconds it took."""
        started = time.monotonic()
        self.ctl("start_app")
        self._await_amqp()
        self.restarts += 1
        return time.monotonic() - started

    def shutdown(self, *, remove: bool = False) -> None:
        """Stop the node (best effort; bounded); ``remove`` also deletes its directory."""
        if self.running():
            self.ctl("shutdown", "--timeout", "60", check=False)
        if remove:
            shutil.rmtree(self.root, ignore_errors=True)
