"""docker/compose.yaml and docker/Dockerfile agree with the code they deploy.

No Docker engine runs where the tests run, so these checks read the files: every service runs a real
``renkei`` command (introspected from the Typer app), sets only real settings with valid values, every
adapter and simulator the hub knows has its service, the RabbitMQ cluster has three nodes with one cookie,
PostgreSQL is 15, long-running services have health checks, no secret is written into the files, and the
image runs ``renkei`` as a non-root user.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import typer.main
import yaml
from pydantic import BaseModel
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from hub.bootstrap.adapters import ADAPTER_SPECS
from hub.bootstrap.simulators import SIMULATOR_SPECS
from hub.cli.main import app
from hub.infra.broker.definitions import broker_users
from hub.settings import ConsoleSettings, RetrySettings, Settings

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
COMPOSE: dict[str, Any] = yaml.safe_load((DOCKER / "compose.yaml").read_text(encoding="utf-8"))
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]

EXPECTED_LATER: dict[tuple[str, ...], str] = {}
"""Commands the compose file already runs (in an opt-in profile) that the ``renkei`` app does not have yet.

Once one exists, it is checked like any other command; then remove it from here.
"""

SHELLS = {"sh", "/bin/sh", "bash", "/bin/bash"}
RETRY_PREFIX = "RENKEI_RETRY_"
CONSOLE_PREFIX = "RENKEI_CONSOLE_"


def is_renkei(service: dict[str, Any]) -> bool:
    build = service.get("build") or {}
    return (
        str(service.get("image", "")).startswith("renkei:") or build.get("dockerfile") == "docker/Dockerfile"
    )


RENKEI_SERVICES = sorted(name for name, svc in SERVICES.items() if is_renkei(svc))


def invocations(service: dict[str, Any]) -> list[list[str]]:
    """The ``renkei`` argument lists a service runs (a shell entrypoint may chain several)."""
    entrypoint = service.get("entrypoint")
    if entrypoint is None or entrypoint == ["renkei"]:
        return [list(service.get("command") or [])]
    assert entrypoint[0] in SHELLS, f"unexpected entrypoint {entrypoint}"
    script = entrypoint[-1]
    runs = []
    for part in re.split(r"&&|;|\n", script):
        words = shlex.split(part)
        if words:
            assert words[0] == "renkei", f"a shell entrypoint may only chain renkei commands: {part!r}"
            runs.append(words[1:])
    return runs


def subcommands(command: Any) -> dict[str, Any] | None:
    # Duck-typed: recent Typer builds its commands on a vendored copy of click, not on `click` itself.
    found = getattr(command, "commands", None)
    return found if isinstance(found, dict) else None


def resolve(root: Any, argv: list[str]) -> tuple[Any, list[str], list[str]] | None:
    """Walk ``argv`` down the command tree: (leaf command, its path, its own arguments), or None."""
    command, path = root, []
    rest = list(argv)
    while (group := subcommands(command)) is not None and rest and rest[0] in group:
        path.append(rest[0])
        command = group[rest.pop(0)]
    if subcommands(command) is not None and not getattr(command, "invoke_without_command", False):
        return None  # a group that does nothing by itself (a group that runs alone, like `console`, counts)
    return command, path, rest


def check_command(argv: list[str]) -> str:
    """Assert ``argv`` is a real renkei command with arguments it accepts; return how it was found."""
    found = resolve(typer.main.get_command(app), argv)
    if found is None:
        for prefix, why in EXPECTED_LATER.items():
            if tuple(argv[: len(prefix)]) == prefix:
                return f"expected later: {why}"
        pytest.fail(f"`renkei {' '.join(argv)}` is not a renkei command")
    command, path, rest = found
    # Parses the options and arguments exactly as the CLI would, without running the command.
    command.make_context(" ".join(["renkei", *path]), rest)
    return "real"


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def env_files(service: dict[str, Any]) -> list[str]:
    files = service.get("env_file") or []
    return [files] if isinstance(files, str) else list(files)


def env_example(service: dict[str, Any]) -> list[Path]:
    """The committed examples of a service's env files (./secrets/x.env <- docker/env/x.env.example)."""
    return [DOCKER / "env" / (Path(f).name + ".example") for f in env_files(service)]


def read_env_file(path: Path) -> dict[str, str]:
    pairs = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            pairs[name.strip()] = value.strip()
    return pairs


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (DOCKER / "Dockerfile").read_text(encoding="utf-8")
    joined = re.sub(r"\\\n", " ", text)
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line.strip() else "")
        for line in (raw.strip() for raw in joined.splitlines())
        if line and not line.startswith("#")
    ]


class _RetryFromValues(RetrySettings):
    """RetrySettings from explicit values only: the test process's environment must not leak in."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


class _ConsoleFromValues(ConsoleSettings):
    """ConsoleSettings from explicit values only: the test process's environment must not leak in."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


class _SettingsFromValues(Settings):
    """Settings from explicit values only."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def field_value(model: type[BaseModel], field: str, raw: str) -> Any:
    # pydantic-settings reads complex fields (tuples, lists) from the environment as JSON.
    annotation = str(model.model_fields[field].annotation)
    return json.loads(raw) if annotation.startswith(("tuple", "list", "dict")) else raw


def validated_settings(env: dict[str, str]) -> Settings:
    """Settings built from ``env`` alone (never the test process's environment)."""
    retry = {
        name.removeprefix(RETRY_PREFIX).lower(): raw
        for name, raw in env.items()
        if name.startswith(RETRY_PREFIX)
    }
    main = {
        name.removeprefix("RENKEI_").lower(): raw
        for name, raw in env.items()
        if name.startswith("RENKEI_") and not name.startswith(RETRY_PREFIX)
    }
    console = {
        name.removeprefix(CONSOLE_PREFIX).lower(): raw
        for name, raw in env.items()
        if name.startswith(CONSOLE_PREFIX)
    }
    main = {f: raw for f, raw in main.items() if not f"RENKEI_{f.upper()}".startswith(CONSOLE_PREFIX)}
    unknown = [f"RENKEI_RETRY_{f.upper()}" for f in retry if f not in RetrySettings.model_fields]
    unknown += [f"{CONSOLE_PREFIX}{f.upper()}" for f in console if f not in ConsoleSettings.model_fields]
    unknown += [
        f"RENKEI_{f.upper()}" for f in main if f not in Settings.model_fields or f in ("retry", "console")
    ]
    assert not unknown, f"not settings of hub.settings: {unknown}"
    retry_settings = _RetryFromValues(**{f: field_value(RetrySettings, f, raw) for f, raw in retry.items()})
    console_settings = _ConsoleFromValues(
        **{f: field_value(ConsoleSettings, f, raw) for f, raw in console.items()}
    )
    return _SettingsFromValues(
        **{f: field_value(Settings, f, raw) for f, raw in main.items()},
        retry=retry_settings,
        console=console_settings,
    )


# -- commands ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", RENKEI_SERVICES)
def test_every_renkei_service_runs_a_real_command(name: str) -> None:
    runs = invocations(SERVICES[name])
    assert runs
    assert all(run for run in runs), f"{name} runs renkei without a command"
    for argv in runs:
        check_command(argv)


def test_expected_later_services_are_opt_in() -> None:
    # A command that does not exist yet must not start with a plain `docker compose up`.
    for name in RENKEI_SERVICES:
        for argv in invocations(SERVICES[name]):
            if check_command(argv).startswith("expected later"):
                assert SERVICES[name].get("profiles"), f"{name} runs a future command outside a profile"


def test_adapters_and_simulators_run_are_known_to_the_hub() -> None:
    for name in RENKEI_SERVICES:
        for argv in invocations(SERVICES[name]):
            if argv[:2] == ["run", "adapter"]:
                assert argv[2] in ADAPTER_SPECS, f"{name}: unknown adapter {argv[2]}"
            if argv[:2] == ["run", "simulator"]:
                assert argv[2] in SIMULATOR_SPECS, f"{name}: unknown simulator {argv[2]}"


def test_every_adapter_and_simulator_of_the_hub_has_a_service() -> None:
    runs = [argv for name in RENKEI_SERVICES for argv in invocations(SERVICES[name])]
    assert ["run", "hub"] in runs
    for adapter in ADAPTER_SPECS:
        assert ["run", "adapter", adapter] in runs, f"no service runs adapter {adapter}"
    for simulator in SIMULATOR_SPECS:
        assert ["run", "simulator", simulator] in runs, f"no service runs simulator {simulator}"
    assert ["db", "upgrade"] in runs
    assert ["topology", "apply"] in runs


def test_the_hub_scales_to_several_workers() -> None:
    hub = next(svc for name in RENKEI_SERVICES if (svc := SERVICES[name]).get("command") == ["run", "hub"])
    assert "container_name" not in hub  # a fixed name would forbid --scale
    assert hub.get("deploy", {}).get("replicas", 1) >= 2


# -- settings ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", RENKEI_SERVICES)
def test_renkei_variables_are_real_settings_with_valid_values(name: str) -> None:
    service = SERVICES[name]
    env = environment(service)
    for example in env_example(service):
        assert example.is_file(), f"{name}: no committed example {example.relative_to(ROOT)} of its env file"
        # Placeholders stand for secrets; the names must still be settings.
        env.update({k: v for k, v in read_env_file(example).items() if "${" not in v})
        validated_settings(dict.fromkeys(read_env_file(example), "x") | {"RENKEI_ENVIRONMENT": "development"})
    settings = validated_settings(env)
    assert settings.environment.value == "production"


def test_dockerfile_variables_are_real_settings() -> None:
    env = {}
    for instruction, args in dockerfile_instructions():
        if instruction == "ENV":
            env.update(dict(re.findall(r"(\w+)=(\S+)", args)))
    validated_settings({k: v for k, v in env.items() if k.startswith("RENKEI_")})


def test_the_topology_settings_are_the_same_everywhere() -> None:
    # broker-definitions, init and the workers must derive the same queue names and arguments.
    shared = {
        name: {k: v for k, v in environment(SERVICES[name]).items() if k.startswith(RETRY_PREFIX)}
        | {"RENKEI_EXCHANGE_PREFIX": environment(SERVICES[name]).get("RENKEI_EXCHANGE_PREFIX", "renkei")}
        for name in RENKEI_SERVICES
    }
    assert len({json.dumps(v, sort_keys=True) for v in shared.values()}) == 1, shared


def test_no_credentials_in_the_compose_file() -> None:
    for name, service in SERVICES.items():
        for variable, value in environment(service).items():
            assert variable not in {"RENKEI_AMQP_URL", "RENKEI_DB_URL"}, (
                f"{name}: {variable} belongs in an env file"
            )
            if re.search(r"PASS|SECRET|TOKEN|COOKIE|KEY", variable) and not variable.endswith("_FILE"):
                pytest.fail(f"{name}: {variable} is set in the compose file; use a secret or an env file")
            assert "://" not in value or "@" not in value, f"{name}: {variable} holds a URL with credentials"
        for env_file in env_files(service):
            assert env_file.startswith("./secrets/"), f"{name}: env file {env_file} outside docker/secrets"
    for secret in COMPOSE["secrets"].values():
        assert secret["file"].startswith("./secrets/")
    ignored = (DOCKER / "secrets" / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "*" in ignored, "docker/secrets must ignore everything"


def test_each_broker_user_of_an_env_file_gets_its_password_in_the_definitions() -> None:
    roles = {u.name: u.role for u in broker_users(environment(SERVICES["hub"])["RENKEI_EXCHANGE_PREFIX"])}
    argv = next(
        argv
        for name in RENKEI_SERVICES
        for argv in invocations(SERVICES[name])
        if argv[:2] == ["topology", "definitions"]
    )
    with_password = {argv[i + 1].split("=", 1)[0] for i, word in enumerate(argv) if word == "--password-file"}
    for name in RENKEI_SERVICES:
        for example in env_example(SERVICES[name]):
            url = read_env_file(example).get("RENKEI_AMQP_URL")
            if url:
                user = urlparse(url).username
                assert user in roles, f"{example.name}: {user} is not a broker user of the definitions"
                assert roles[user] in with_password, f"broker-definitions gives {user} no password"


def test_health_checks_run_the_services_own_check() -> None:
    for name in RENKEI_SERVICES:
        argv = invocations(SERVICES[name])[0]
        if argv[:1] == ["run"]:
            assert SERVICES[name]["healthcheck"]["test"] == ["CMD", "renkei-healthcheck", *argv[1:]], name


# -- infrastructure ---------------------------------------------------------------------------------------


def test_three_rabbitmq_nodes_with_one_cookie_and_classic_peer_discovery() -> None:
    nodes = {
        name: svc
        for name, svc in SERVICES.items()
        if str(svc.get("image", "")).startswith("rabbitmq:") and svc.get("command") == ["rabbitmq-server"]
    }
    assert len(nodes) == 3, sorted(nodes)
    # One supported 4.x series on every node (4.0 gave quorum queues a default delivery limit of 20;
    # renkei sets x-delivery-limit itself either way).
    images = {svc["image"] for svc in nodes.values()}
    assert images == {"rabbitmq:4.2-management"}
    every = {svc["image"] for svc in SERVICES.values() if str(svc.get("image", "")).startswith("rabbitmq:")}
    assert every == images
    cookie_sources = {
        tuple(sorted(s for s in svc.get("secrets", []) if "cookie" in s)) for svc in nodes.values()
    }
    assert cookie_sources == {("erlang_cookie",)}, "every node must read the same cookie secret"
    assert all("RABBITMQ_ERLANG_COOKIE" not in environment(svc) for svc in nodes.values())
    hostnames = {svc["hostname"] for svc in nodes.values()}
    assert len(hostnames) == 3
    conf = (DOCKER / "rabbitmq" / "rabbitmq.conf").read_text(encoding="utf-8")
    assert re.search(
        r"^cluster_formation\.peer_discovery_backend\s*=\s*rabbit_peer_discovery_classic_config", conf, re.M
    )
    listed = set(re.findall(r"^cluster_formation\.classic_config\.nodes\.\d+\s*=\s*rabbit@(\S+)", conf, re.M))
    assert listed == hostnames
    for svc in nodes.values():
        assert any(c["source"] == "rabbitmq_conf" for c in svc["configs"])


def test_the_broker_takes_every_body_a_consumer_would_read() -> None:
    # Above every limit (a lawful bulk message must pass the broker), and set at all: RabbitMQ 4's own
    # default, 16 MiB, would refuse a lawful 32 MiB bulk message at the broker.
    conf = (DOCKER / "rabbitmq" / "rabbitmq.conf").read_text(encoding="utf-8")
    found = re.findall(r"^max_message_size\s*=\s*(\d+)\s*$", conf, re.M)
    assert len(found) == 1, "the broker's max_message_size is set once"
    assert Settings().body_limit.largest <= int(found[0]) <= 512 * 1024 * 1024


def test_postgres_is_pinned_to_15() -> None:
    images = [svc["image"] for svc in SERVICES.values() if str(svc.get("image", "")).startswith("postgres")]
    assert images
    assert all(re.fullmatch(r"postgres:15(\.\d+)*(-[a-z0-9]+)?", image) for image in images), images


def test_every_long_running_service_has_a_health_check() -> None:
    for name, service in SERVICES.items():
        restart = service.get("restart")
        assert restart is not None, f"{name}: say whether it is one-shot (restart: 'no') or long-running"
        if restart != "no":
            assert service.get("healthcheck", {}).get("test"), f"{name} runs for good without a health check"


def test_the_image_runs_renkei_as_a_non_root_user() -> None:
    instructions = dockerfile_instructions()
    bases = [args.split()[0] for instruction, args in instructions if instruction == "FROM"]
    assert bases
    assert all(base.startswith("python:3.11-slim") for base in bases), bases
    entrypoints = [json.loads(args) for instruction, args in instructions if instruction == "ENTRYPOINT"]
    assert entrypoints[-1] == ["renkei"]
    users = [args for instruction, args in instructions if instruction == "USER"]
    assert users
    assert users[-1].split(":")[0] not in {"0", "root"}
    for instruction, args in instructions:
        if instruction in {"ENV", "ARG"}:
            assert not re.search(r"(PASS|SECRET|TOKEN|COOKIE|KEY)\w*=", args), f"secret baked in: {args}"
        if instruction in {"COPY", "ADD"}:
            assert "var/" not in args, f"copies local state: {args}"
            assert "secrets" not in args, f"copies secrets: {args}"
    ignore = (DOCKER / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
    assert "**" in ignore, "the build context must be an allow-list (keeps var/ and its keys out)"
