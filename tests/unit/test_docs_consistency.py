"""The documents say what the code does: the README's services, `renkei run` names, topology figures.

* every service of docker/compose.yaml has a row in the README's "What runs where" table (and no row names
  a service that does not exist); where the row gives a renkei command, it is the service's command;
* every `renkei run …` in the README, docs/deploy.md and compose.yaml is a command the CLI accepts;
* docs/topology.md's default delivery limit is the code's;
* no project document cites a file outside the repository.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from hub.bootstrap.adapters import ADAPTER_SPECS
from hub.bootstrap.simulators import SIMULATOR_SPECS
from hub.cli.main import app
from hub.settings import RetrySettings
from tests.unit.test_deploy_consistency import check_command, invocations, is_renkei

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
COMPOSE = yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]
OUTSIDE = r"shared/reference|\.\./shared|/work/shared"


def services_table() -> dict[str, str]:
    """Compose service name -> the row's command cell, from the README's "What runs where" table."""
    section = README.split("## What runs where", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 4 or not cells[0].startswith("`"):
            continue
        for name in re.findall(r"`([^`]+)`", cells[0]):
            rows[name] = cells[2]
    return rows


def test_every_compose_service_is_in_the_readme_table():
    rows = services_table()
    assert set(rows) == set(SERVICES), (
        f"missing from the README: {sorted(set(SERVICES) - set(rows))}; "
        f"not in compose.yaml: {sorted(set(rows) - set(SERVICES))}"
    )


@pytest.mark.parametrize("name", sorted(n for n, s in SERVICES.items() if is_renkei(s)))
def test_the_readme_gives_each_renkei_service_its_command(name):
    cell = services_table()[name]
    commands = [c for c in re.findall(r"`([^`]+)`", cell) if c.startswith("renkei ")]
    assert commands, f"{name}: the README names no renkei command"
    if "…" in commands[0]:
        return  # abbreviated (its arguments are secrets' paths)
    runs = [part.split() for part in commands[0].split("&&")]
    assert [run[1:] for run in runs] == invocations(SERVICES[name]), name


def renkei_runs(text: str) -> list[list[str]]:
    found = []
    for match in re.finditer(r"renkei run ([a-z_ |A-Z-]+?)(?=[`\"\n)(]|$)", text):
        words = shlex.split(match.group(1))
        if "|" in match.group(1) or any(w.isupper() for w in words):
            continue  # a usage line (hub|adapter NAME|...), not a command
        found.append(["run", *words])
    return found


def documented_runs() -> list[tuple[str, list[str]]]:
    found = [("README.md", argv) for argv in renkei_runs(README)]
    found += [("docs/deploy.md", argv) for argv in renkei_runs((ROOT / "docs" / "deploy.md").read_text())]
    for name, service in SERVICES.items():
        if is_renkei(service):
            found += [(f"compose {name}", argv) for argv in invocations(service) if argv[:1] == ["run"]]
    return found


def test_the_documents_name_every_adapter_and_simulator():
    runs = [argv for _, argv in documented_runs()]
    for adapter in ADAPTER_SPECS:
        assert ["run", "adapter", adapter] in runs
    for simulator in SIMULATOR_SPECS:
        assert ["run", "simulator", simulator] in runs


@pytest.mark.parametrize(
    ("where", "argv"), documented_runs(), ids=lambda v: " ".join(v) if isinstance(v, list) else v
)
def test_every_documented_renkei_run_is_accepted(where, argv):
    assert check_command(argv) == "real", where


@pytest.mark.parametrize("group", ["adapter", "simulator"])
def test_run_help_names_every_choice(group):
    known = ADAPTER_SPECS if group == "adapter" else SIMULATOR_SPECS
    result = CliRunner().invoke(app, ["run", group, "--help"], terminal_width=200)
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    for name in known:
        assert name in text, f"`renkei run {group} --help` does not name {name}"


def test_topology_doc_gives_the_codes_delivery_limit():
    text = (ROOT / "docs" / "topology.md").read_text(encoding="utf-8")
    default = RetrySettings.model_fields["delivery_limit"].default
    stated = re.findall(r"delivery_limit`? \(default (\d+)\)", text)
    assert stated, "docs/topology.md no longer states the default delivery limit"
    assert {int(n) for n in stated} == {default}


def test_no_document_cites_a_file_outside_the_repository():
    offenders = []
    for path in [ROOT / "README.md", *ROOT.glob("docs/**/*.md"), *ROOT.glob("docker/**/*")]:
        if path.is_file() and path.suffix in {".md", ".yaml", ".yml", ".sh", ".py", ".cfg", ".conf", ""}:
            text = path.read_text(encoding="utf-8", errors="replace")
            if re.search(OUTSIDE, text):
                offenders.append(str(path.relative_to(ROOT)))
    for package in ("hub", "adapters", "contracts"):
        for path in (ROOT / package).rglob("*"):
            readable = path.is_file() and path.suffix in {".py", ".md", ".toml", ".html"}
            if readable and re.search(OUTSIDE, path.read_text(encoding="utf-8")):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
