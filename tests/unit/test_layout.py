"""The house a newcomer reads: packages by concept, small enough to read, and the README's Layout says so.

* no package under ``hub/core`` or ``hub/infra`` holds more than 15 modules (issue 20: before, ``hub/infra``
  held 51 flat modules and ``hub/core`` 32);
* no module is left at the top of ``hub/core``, and only the few that belong to no concept at the top of
  ``hub/infra``;
* every such package is named in the README's Layout section, and every layer of the import-linter layers
  contract too, in the contract's order.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
LAYOUT = README.split("## Layout", 1)[1].split("\n## ", 1)[0]
MAX_MODULES = 15


def packages() -> list[Path]:
    found = []
    for top in (ROOT / "hub" / "core", ROOT / "hub" / "infra"):
        found += [p.parent for p in top.rglob("__init__.py") if "migrations" not in p.parts]
    return sorted(found)


def modules(package: Path) -> list[str]:
    return sorted(p.stem for p in package.glob("*.py") if p.name != "__init__.py")


@pytest.mark.parametrize("package", packages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_package_is_a_flat_room(package: Path) -> None:
    assert len(modules(package)) <= MAX_MODULES, modules(package)


def test_the_core_and_the_infrastructure_are_split_by_concept() -> None:
    assert modules(ROOT / "hub" / "core") == []
    assert modules(ROOT / "hub" / "infra") == ["private_files", "runner", "service_names"]


@pytest.mark.parametrize(
    "package",
    [p for p in packages() if p.parent.name in ("core", "infra", "db")],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_the_readme_layout_names_every_package(package: Path) -> None:
    assert re.search(rf"^\s+{re.escape(package.name)}/\s", LAYOUT, re.M), f"{package.name}/ not in Layout"


def test_the_readme_names_the_layers_in_order() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = pyproject["tool"]["importlinter"]["contracts"]
    (layers,) = [c["layers"] for c in contracts if c["type"] == "layers"]
    named = re.findall(r"`(hub\.[a-z_.]+)`", LAYOUT.split("layers, top to bottom:", 1)[1].split(";", 1)[0])
    assert named == layers
