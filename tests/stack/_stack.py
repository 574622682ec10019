"""The process form of ``docker/compose.yaml``: every service started as a local process, as compose would.

What is compose's own, read from the file (:mod:`tests.stack._compose`): which services run (profiles), in
which order (``depends_on`` and its conditions: started, healthy, completed successfully), how many copies
(``deploy.replicas``), each one's entrypoint and command, environment and env files, secrets (copied to a
per-container ``/run/secrets`` with the host file's owner and mode, as compose bind-mounts them), tmpfs and
volumes (a directory per container or per named volume, with the tmpfs options' owner and mode), the user
(the image's ``USER 10001``) and the health checks (``renkei-healthcheck`` run in the service's
environment). What differs, because there is no Docker engine:

- hostnames map to loopback: ``amqp:5672`` becomes the three nodes of a local RabbitMQ cluster
  (``scripts/rabbitmq-cluster.sh``, 127.0.0.1:5681-5683, node names ``renkeiN@localhost``); HAProxy is not
  run, each process gets every node's address in ``RENKEI_AMQP_URLS`` instead (same user, password and
  vhost); ``postgres:5432/renkei`` becomes a scratch database on the shared server (its log-in, not the
  ``db_password`` secret, which that server does not know);
- the RabbitMQ nodes are this machine's RabbitMQ (3.10, the test cluster's configuration, not
  ``docker/rabbitmq/rabbitmq.conf``, whose peer discovery names compose's hosts); they share compose's
  Erlang cookie (the ``erlang_cookie`` secret); ``broker-init`` runs compose's own script with the node
  names, ``/run/secrets`` and ``/definitions`` mapped;
- container paths in the environment and arguments (``/run/secrets/...``, ``/var/lib/renkei``) are mapped
  to the container's directories; every port is made distinct (``RENKEI_HEALTH_PORT``,
  ``RENKEI_CONSOLE_PORT``) and every server listens on 127.0.0.1, not 0.0.0.0;
- the simulators get ``--records N``: their synthetic registers must be the flows' (compose's default is
  a register of 1,000,000 people).
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from tests.cluster._cluster import LocalCluster
from tests.stack._compose import ComposeFile, Service

__all__ = ["ROOT", "Container", "ProcessStack", "free_port", "get"]

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
RABBITMQ_SERVICES = ("rabbitmq1", "rabbitmq2", "rabbitmq3")
_STOP_GRACE_S = 15.0


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(port: int, path: str) -> tuple[int, str]:
    """``GET http://127.0.0.1:port/path``: (status, body); (0, "") when nothing answers."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError:
        return 0, ""


def _die_with_parent() -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _numeric(user: str) -> tuple[int, int]:
    uid, _, gid = user.partition(":")
    return int(uid), int(gid or uid)


def readable_by(path: Path, uid: int, gid: int) -> bool:
    """Whether a process of ``uid:gid`` (not root) may read ``path``, by its owner and mode."""
    st = path.stat()
    if st.st_uid == uid:
        return bool(st.st_mode & 0o400)
    if st.st_gid == gid:
        return bool(st.st_mode & 0o040)
    return bool(st.st_mode & 0o004)


@dataclass
class Container:
    """One copy of a compose service as a local process."""

    name: str  # hub-1, adapter-jlis-2, init-1, ...
    service: Service
    argv: list[str]
    env: dict[str, str]
    home: Path
    uid: int | None
    gid: int | None
    health_port: int | None = None
    proc: subprocess.Popen[bytes] | None = None
    generation: int = 0
    exit_codes: list[int] = field(default_factory=list)

    @property
    def log(self) -> Path:
        return self.home / f"log.{self.generation}"

    def start(self) -> None:
        self.generation += 1
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=self.home,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                user=self.uid,
                group=self.gid,
                extra_groups=[] if self.uid is not None else None,
                start_new_session=True,
                preexec_fn=_die_with_parent,  # noqa: PLW1509 - no threads start before it runs
            )

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait(self, timeout_s: float) -> int:
        assert self.proc is not None
        code = self.proc.wait(timeout=timeout_s)
        self.exit_codes.append(code)
        return code

    def kill(self) -> None:
        """SIGKILL: a crash, not a clean stop."""
        if self.alive():
            assert self.proc is not None
            os.kill(self.proc.pid, signal.SIGKILL)
            self.wait(10)

    def stop(self) -> None:
        """SIGTERM, as ``docker compose stop``; SIGKILL after the grace period."""
        if not self.alive():
            return
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.wait(_STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            self.kill()

    def signal(self, sig: int) -> None:
        if self.alive():
            assert self.proc is not None
            os.kill(self.proc.pid, sig)

    def tail(self, lines: int = 20) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


class ProcessStack:
    """Compose's services as local processes on ``cluster`` and a scratch database ``db_url``.

    Args:
        compose: the compose file, read with the test's secrets directory.
        run_dir: where containers' directories, volumes and logs go (deleted by the caller).
        cluster: the local three-node cluster (started here, in start-up order).
        db_url: the scratch database standing in for ``postgres``.
        simulator_records: the simulators' register size (the flows' records).
    """

    def __init__(
        self,
        compose: ComposeFile,
        run_dir: Path,
        cluster: LocalCluster,
        db_url: str,
        simulator_records: int,
    ) -> None:
        self.compose = compose
        self.run_dir = run_dir
        self.cluster = cluster
        self.db_url = db_url
        self.simulator_records = simulator_records
        self.containers: dict[str, list[Container]] = {}
        self.events: list[str] = []
        self.started = time.monotonic()
        self._healthy: set[str] = set()
        self._amqp_ports: list[int] = []

    # -- what each service becomes ---------------------------------------------------------------------

    def note(self, event: str) -> None:
        self.events.append(f"[{time.monotonic() - self.started:6.1f}s] {event}")

    def volume_dir(self, volume: str, uid: int | None) -> Path:
        """A named volume: one directory shared by every container mounting it (owned by the image user,
        as Docker fills a new volume from the image's directory)."""
        path = self.run_dir / "volumes" / volume
        if not path.exists():
            path.mkdir(parents=True)
            path.chmod(0o700)
            if uid is not None:
                os.chown(path, uid, uid)
        return path

    def _map_amqp(self, url: str) -> tuple[str, str]:
        parts = urlsplit(url)
        login = parts.netloc.rpartition("@")[0]
        nodes = [urlunsplit(parts._replace(netloc=f"{login}@127.0.0.1:{p}")) for p in self._amqp_ports]
        return nodes[0], ",".join(nodes)

    def _container(self, service: Service, index: int) -> Container:
        name = f"{service.name}-{index}"
        home = self.run_dir / "containers" / name
        home.mkdir(parents=True, exist_ok=True)
        # Every process runs as this test's user: the venv's interpreter may live where the image's user
        # (10001) cannot reach it. What that user would meet is checked instead: each secret must be
        # readable by it, by owner and mode, as compose bind-mounts the host file.
        uid, gid = None, None
        paths: dict[str, Path] = {}
        secrets_dir = home / "run-secrets"
        secrets_dir.mkdir(exist_ok=True)
        for secret in service.secrets:
            # Compose bind-mounts the host file: same contents, owner and mode.
            target = secrets_dir / secret.target.removeprefix("/run/secrets/")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(secret.file, target)
            st = secret.file.stat()
            with contextlib.suppress(PermissionError):
                os.chown(target, st.st_uid, st.st_gid)
            if service.user is not None:
                # What the container's user would meet, whoever this process runs as.
                want_uid, want_gid = _numeric(service.user)
                if not readable_by(target, want_uid, want_gid):
                    raise AssertionError(
                        f"{name}: secret {secret.source} ({secret.file.name}, owner {st.st_uid}, mode "
                        f"{st.st_mode & 0o777:o}) cannot be read by the container's user {service.user}"
                    )
        paths["/run/secrets"] = secrets_dir
        for mount in service.mounts:
            if mount.volume is not None:
                paths[mount.target] = self.volume_dir(mount.volume, uid)
                continue
            tmp = home / ("tmpfs" + mount.target.replace("/", "_"))
            tmp.mkdir(exist_ok=True)
            tmp.chmod(mount.mode if mount.mode is not None else 0o1777)
            if mount.uid is not None and os.geteuid() == 0:
                os.chown(tmp, mount.uid, mount.uid)
            paths[mount.target] = tmp
        if service.is_renkei and not any(t == "/var/lib/renkei" for t in paths):
            paths["/var/lib/renkei"] = self.volume_dir(f"anonymous-{name}", uid)  # the image's own directory

        def mapped(value: str) -> str:
            for target in sorted(paths, key=len, reverse=True):
                if value == target or value.startswith(target + "/") or f"={target}" in value:
                    value = value.replace(target, str(paths[target]))
            return value

        env = {
            "PATH": f"{VENV_BIN}:{self.cluster.sbin}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(home),
            "LANG": "C.UTF-8",
            # The image's own ENV (docker/Dockerfile).
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONUNBUFFERED": "1",
            "RENKEI_DATA_DIR": "/var/lib/renkei",
        }
        env.update(service.environment)
        env = {k: mapped(v) for k, v in env.items()}
        health_port = None
        if "RENKEI_AMQP_URL" in env:
            env["RENKEI_AMQP_URL"], env["RENKEI_AMQP_URLS"] = self._map_amqp(env["RENKEI_AMQP_URL"])
        if "RENKEI_DB_URL" in env:
            if "@postgres:5432/" not in env["RENKEI_DB_URL"]:
                raise AssertionError(f"{name}: RENKEI_DB_URL does not name the postgres service")
            env["RENKEI_DB_URL"] = self.db_url
        if "RENKEI_HEALTH_PORT" in env:
            health_port = free_port()
            env["RENKEI_HEALTH_PORT"] = str(health_port)
            env["RENKEI_HEALTH_HOST"] = "127.0.0.1"
        if "RENKEI_CONSOLE_PORT" in env:
            health_port = free_port()
            env["RENKEI_CONSOLE_PORT"] = str(health_port)
            env["RENKEI_CONSOLE_HOST"] = "127.0.0.1"
        argv = [mapped(a) for a in service.argv]
        if argv and argv[0] == "renkei":
            argv[0] = str(VENV_BIN / "renkei")
        if argv[:2] == ["run", "simulator"] or argv[1:3] == ["run", "simulator"]:
            argv += ["--records", str(self.simulator_records)]
        if service.name == "broker-init":
            argv = self._broker_init_argv(home, argv, paths)
        container = Container(name, service, argv, env, home, uid, gid, health_port)
        self.containers.setdefault(service.name, []).append(container)
        return container

    def _broker_init_argv(self, home: Path, argv: list[str], paths: dict[str, Path]) -> list[str]:
        """Compose's import script itself, with the node names and container paths of this machine."""
        text = (ROOT / "docker" / "rabbitmq" / "import-definitions.sh").read_text(encoding="utf-8")
        for n in (1, 2, 3):
            text = text.replace(f"rabbit@rabbitmq{n}", f"renkei{n}@localhost")
        definitions = next(p for t, p in paths.items() if t == "/definitions")
        text = text.replace("/run/secrets/", f"{paths['/run/secrets']}/").replace(
            "/definitions/", f"{definitions}/"
        )
        local = home / "renkei-import-definitions"
        local.write_text(text, encoding="utf-8")
        return ["bash", str(local)]

    # -- conditions ------------------------------------------------------------------------------------

    def healthy(self, container: Container) -> bool:
        """The service's own health check (``renkei-healthcheck ...``) passes, run in its environment."""
        if container.service.healthcheck is None:
            return container.alive()
        return not self.unhealthy([container])

    def wait_for(self, done: Callable[[], bool], what: str, timeout_s: float, poll_s: float = 0.5) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if done():
                return
            time.sleep(poll_s)
        raise AssertionError(f"timed out after {timeout_s}s waiting for {what}\n{self.diagnosis()}")

    def _satisfy(self, dependency: str, condition: str) -> None:
        if dependency in self._healthy:
            return
        copies = self.containers.get(dependency, [])
        if condition == "service_completed_successfully":
            for c in copies:
                code = c.wait(180) if c.proc is not None and not c.exit_codes else c.exit_codes[-1]
                assert code == 0, f"{c.name} exited {code}:\n{c.tail(40)}"
        elif condition == "service_healthy":
            for c in copies:
                self.wait_for(functools.partial(self.healthy, c), f"{c.name} healthy", 120, poll_s=1)
        self._healthy.add(dependency)

    # -- up --------------------------------------------------------------------------------------------

    def up(self, profiles: set[str]) -> list[str]:
        """Start what ``docker compose --profile ... up`` starts, in its order; return the services."""
        active = self.compose.active(profiles)
        for name in active:
            service = self.compose.services[name]
            for dependency, condition in service.depends_on.items():
                self._satisfy(dependency, condition)
            if name == "postgres":
                self._healthy.add(name)  # the scratch database exists already
                self.note("postgres: a scratch database on the shared server")
            elif name in RABBITMQ_SERVICES:
                if not self._amqp_ports:
                    self._start_cluster(service)
                self._healthy.add(name)
            elif name == "amqp":
                self._healthy.add(name)  # HAProxy replaced: every process is given the three nodes
                self.note("amqp (HAProxy): replaced by each process's RENKEI_AMQP_URLS of the three nodes")
            else:
                for index in range(1, service.replicas + 1):
                    self._container(service, index).start()
                self.note(f"{name}: started {service.replicas} process(es)")
        return active

    def _start_cluster(self, node: Service) -> None:
        """The three nodes, with compose's Erlang cookie (the ``erlang_cookie`` secret)."""
        cookie = next(s.file for s in node.secrets if s.source == "erlang_cookie")
        home = self.cluster.directory / "home"
        home.mkdir(parents=True, exist_ok=True)
        target = home / ".erlang.cookie"
        if target.exists():
            target.chmod(0o600)
        shutil.copyfile(cookie, target)
        target.chmod(0o400)
        self.cluster.start()
        self._amqp_ports = [5681, 5682, 5683]
        self.note(f"rabbitmq1-3: local cluster up {self.cluster.timings}")

    def run_job(self, name: str, *extra: str, timeout_s: float = 120) -> Container:
        """``docker compose run --rm NAME [ARGS]``: a one-shot copy; fails unless it exits 0."""
        service = self.compose.services[name]
        container = self._container(service, len(self.containers.get(name, [])) + 1)
        container.argv += list(extra)
        container.start()
        code = container.wait(timeout_s)
        assert code == 0, f"{container.name} exited {code}:\n{container.tail(40)}"
        return container

    def running(self) -> list[Container]:
        """Every long-running container (not the one-shot jobs)."""
        return [c for cs in self.containers.values() for c in cs if not c.service.one_shot]

    def died(self) -> list[str]:
        return [f"{c.name} ({c.proc.poll() if c.proc else '-'})" for c in self.running() if not c.alive()]

    def diagnosis(self) -> str:
        lines = [*self.events]
        for c in self.running():
            ready = get(c.health_port, "/readyz")[1][:600] if c.alive() and c.health_port else "-"
            state = "alive" if c.alive() else f"exited {c.proc.poll() if c.proc else '-'}"
            lines.append(f"--- {c.name} ({state}; /readyz {ready}):\n{c.tail(8)}")
        return "\n".join(lines)

    def down(self) -> None:
        """Stop every process (SIGTERM to all, SIGKILL after the grace period), as ``docker compose down``."""
        for c in self.running():
            c.signal(signal.SIGTERM)
        for c in self.running():
            c.stop()

    def unhealthy(self, containers: list[Container] | None = None) -> list[str]:
        """The containers whose compose health check fails, all checked at once."""
        chosen = self.running() if containers is None else containers
        checks = {c.name: self._health_process(c) for c in chosen}
        failed = []
        for name, proc in checks.items():
            try:
                code = proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                code = -1
            if code != 0:
                failed.append(name)
        return failed

    def _health_process(self, container: Container) -> subprocess.Popen[bytes]:
        check = container.service.healthcheck or ["true"]
        if check[0] == "renkei-healthcheck":
            check = [str(VENV_BIN / "python"), str(ROOT / "docker" / "healthcheck.py"), *check[1:]]
        return subprocess.Popen(
            check,
            env=container.env,
            cwd=container.home,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def files_in_mounts(self, pattern: str) -> list[Path]:
        """Files matching ``pattern`` in any container's tmpfs or any volume (in containers: memory or disk
        nobody watches)."""
        found: list[Path] = []
        for directory in [*self.run_dir.glob("containers/*/tmpfs*"), *self.run_dir.glob("volumes/*")]:
            found.extend(p for p in directory.rglob(pattern) if p.is_file())
        return sorted(found)

    def readyz(self) -> dict[str, dict[str, object]]:
        """Every long-running process's ``/readyz`` answer, by container."""
        answers: dict[str, dict[str, object]] = {}
        for c in self.running():
            assert c.health_port is not None, f"{c.name} has no health port"
            status, body = get(c.health_port, "/readyz")
            try:
                answers[c.name] = {"http": status, **json.loads(body)}
            except ValueError:
                answers[c.name] = {"http": status, "body": body[:200]}
        return answers
