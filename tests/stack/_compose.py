"""``docker/compose.yaml`` read the way ``docker compose`` reads it, for the stack test's process form.

Only what starting the services needs: each service's image, entrypoint and command (the image's
``ENTRYPOINT`` from ``docker/Dockerfile`` when the service gives none), environment (the ``x-renkei-env``
anchor merged with the service's own ``environment``, over its ``env_file`` files: ``environment`` wins, as
the Compose specification says), secrets (source,
target under ``/run/secrets``), tmpfs and volume mounts, replicas, profiles, health check and
``depends_on`` with their conditions, and the user the container runs as (the image's ``USER``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

import yaml

__all__ = ["ComposeFile", "Mount", "Secret", "Service", "read_compose", "read_env_file"]


@dataclass(frozen=True)
class Secret:
    """A file secret: the host file and where the container sees it."""

    source: str
    file: Path
    target: str  # a path under /run/secrets


@dataclass(frozen=True)
class Mount:
    """A tmpfs (``volume`` None) or a named volume at ``target``."""

    target: str
    volume: str | None
    uid: int | None = None
    mode: int | None = None


@dataclass
class Service:
    """One service of the file, as compose would run it."""

    name: str
    image: str
    argv: list[str]
    environment: dict[str, str]
    secrets: list[Secret]
    mounts: list[Mount]
    depends_on: dict[str, str]  # service -> condition
    replicas: int
    profiles: list[str]
    healthcheck: list[str] | None
    user: str | None
    restart: str
    env_files: list[Path] = field(default_factory=list)

    @property
    def is_renkei(self) -> bool:
        """A renkei image (the project's own processes)."""
        return self.image.startswith("renkei:")

    @property
    def one_shot(self) -> bool:
        """A job that runs once and exits (restart "no")."""
        return self.restart == "no"


@dataclass
class ComposeFile:
    """The services of a compose file and where its relative paths start."""

    path: Path
    services: dict[str, Service]

    def order(self) -> list[str]:
        """Every service after those it depends on (Compose's start-up order)."""
        graph = {name: set(s.depends_on) for name, s in self.services.items()}
        return list(TopologicalSorter(graph).static_order())

    def active(self, profiles: set[str]) -> list[str]:
        """The services ``docker compose --profile P ... up`` starts, in start-up order."""
        return [
            n
            for n in self.order()
            if not self.services[n].profiles or set(self.services[n].profiles) & profiles
        ]


def read_env_file(path: Path) -> dict[str, str]:
    """A Compose env file: ``NAME=value`` lines; blank lines and ``#`` comments skipped."""
    values: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise ValueError(f"{path}: not NAME=value: {line[:30]!r}")
        values[key.strip()] = value.strip().strip("'\"")
    return values


def _dockerfile(root: Path) -> tuple[list[str], list[str], str | None]:
    """The renkei image's ENTRYPOINT, CMD and USER, from docker/Dockerfile's last stage."""
    import json

    text = (root / "docker" / "Dockerfile").read_text(encoding="utf-8")
    last = text.rsplit("\nFROM ", 1)[-1]
    entry = re.search(r"^ENTRYPOINT (\[.*\])$", last, re.M)
    cmd = re.search(r"^CMD (\[.*\])$", last, re.M)
    user = re.search(r"^USER (\S+)$", last, re.M)
    return (
        json.loads(entry.group(1)) if entry else [],
        json.loads(cmd.group(1)) if cmd else [],
        user.group(1) if user else None,
    )


def _mounts(raw: dict[str, Any]) -> list[Mount]:
    mounts: list[Mount] = []
    for item in raw.get("tmpfs") or []:
        target, _, options = str(item).partition(":")
        opts = dict(o.split("=", 1) for o in options.split(",") if "=" in o)
        mounts.append(
            Mount(
                target,
                None,
                int(opts["uid"]) if "uid" in opts else None,
                int(opts["mode"], 8) if "mode" in opts else None,
            )
        )
    for item in raw.get("volumes") or []:
        volume, _, rest = str(item).partition(":")
        mounts.append(Mount(rest.split(":")[0], volume))
    return mounts


def read_compose(path: Path, env_dir: Path) -> ComposeFile:
    """Read ``path``; its ``./secrets/`` (env files and file secrets) are looked up in ``env_dir``.

    ``env_dir`` is where ``docker/make-secrets.sh --dir`` wrote them (the test's own, not docker/secrets).
    """
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    root = path.parent.parent
    image_entry, image_cmd, image_user = _dockerfile(root)

    def local(relative: str) -> Path:
        if relative.startswith("./secrets/"):
            return env_dir / relative.removeprefix("./secrets/")
        return (path.parent / relative).resolve()

    secret_files = {name: local(spec["file"]) for name, spec in (doc.get("secrets") or {}).items()}
    services: dict[str, Service] = {}
    for name, raw in doc["services"].items():
        image = str(raw.get("image", ""))
        renkei = image.startswith("renkei:")
        entry = raw.get("entrypoint")
        command = raw.get("command")
        if renkei:
            argv = list(entry if entry is not None else image_entry) + list(
                command if command is not None else ([] if entry is not None else image_cmd)
            )
        else:
            argv = list(entry or []) + list(command or [])
        env_files = [local(str(f)) for f in raw.get("env_file") or []]
        environment: dict[str, str] = {}
        for env_file in env_files:
            environment.update(read_env_file(env_file))
        environment.update({k: str(v) for k, v in (raw.get("environment") or {}).items()})
        secrets = []
        for item in raw.get("secrets") or []:
            source = item if isinstance(item, str) else item["source"]
            target = source if isinstance(item, str) else item.get("target", source)
            target = target if target.startswith("/") else f"/run/secrets/{target}"
            secrets.append(Secret(source, secret_files[source], target))
        depends = raw.get("depends_on") or {}
        if isinstance(depends, list):
            depends = {d: {"condition": "service_started"} for d in depends}
        health = raw.get("healthcheck") or {}
        test = health.get("test")
        services[name] = Service(
            name=name,
            image=image,
            argv=[str(a) for a in argv],
            environment=environment,
            secrets=secrets,
            mounts=_mounts(raw),
            depends_on={d: str(c.get("condition", "service_started")) for d, c in depends.items()},
            replicas=int((raw.get("deploy") or {}).get("replicas", 1)),
            profiles=list(raw.get("profiles") or []),
            healthcheck=[str(t) for t in test[1:]] if test and test[0] in ("CMD", "CMD-SHELL") else None,
            user=str(raw["user"]) if "user" in raw else (image_user if renkei else None),
            restart=str(raw.get("restart", "no")),
            env_files=env_files,
        )
    return ComposeFile(path, services)
