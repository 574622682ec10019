"""docker/compose.yaml is valid against the Compose Specification's JSON Schema (docker/schema/).

No Docker engine runs where the tests run, so `docker compose config` cannot check the file; the schema
(copied from the compose-spec project, Apache-2.0, docker/schema/README.md) can.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "docker" / "schema" / "compose-spec.json").read_text(encoding="utf-8"))


def errors(document: object) -> list[str]:
    validator = jsonschema.Draft7Validator(SCHEMA)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


def test_the_compose_file_is_valid():
    compose = yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text(encoding="utf-8"))
    assert errors(compose) == []


def test_the_schema_catches_a_mistake():
    compose = yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text(encoding="utf-8"))
    compose["services"]["hub"]["restart_policy"] = (
        "always"  # not a service attribute (deploy.restart_policy is)
    )
    compose["services"]["hub"]["healthcheck"]["intervall"] = "30s"  # a typo
    found = errors(compose)
    assert any("restart_policy" in e for e in found), found
    assert any("intervall" in e for e in found), found
