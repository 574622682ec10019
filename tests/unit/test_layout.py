"""The house a newcomer reads: packages by concept, small enough to read, and the README's Layout says so.

* no package under ``hub/core`` or ``hub/infra`` holds more than 15 modules (issue 20: before, ``hub/infra``
  held 51 flat modules and ``hub/core`` 32);
* no module is left at the top of ``hub/core``, and only the few that belong to no concept at the top of
  ``hub/infra``;
* every such package is named in the README's Layout section, and every layer of the import-linter layers
  contract too, in the contract's order;
* the adapters share one skeleton (issue 20): the same core modules with the same meaning (``wire``,
  ``mapping``, ``names``, ``service``, ``simulator``, ``errors``), no ``gateway`` module, and each service
  declares its dispatch table the same way, ``FROM_HUB``, a module-level mapping from message type and
  version to an :class:`adapters.dispatch.Route`, holding every type the sender table (``hub/senders.toml``)
  sends to that adapter's queue, each one registered in the contracts with the route's payload class;
* and each service with a counterpart line takes that line's files the same way, ``FROM_COUNTERPART``, a
  module-level mapping from the file kind its ``names`` module reads from a name to a handler, with an entry
  for every kind ``names.INBOUND`` says the counterpart sends and none for a kind it does not (a file going
  the other way is refused by :func:`adapters.dispatch.receive`); the pension adapter, whose counterpart is
  a directory, has no line and no such table.
"""

from __future__ import annotations

import importlib
import inspect
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path

import pytest

from adapters.dispatch import Route
from contracts.registry import payload_model
from hub.bootstrap.adapters import ADAPTER_SPECS

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


SENDERS = tomllib.loads((ROOT / "hub" / "senders.toml").read_text(encoding="utf-8"))["message"]
ADAPTERS = sorted(
    {row["queue"].removeprefix("adapter.") for row in SENDERS if row["queue"].startswith("adapter.")}
)
"""Every adapter the hub sends to (a new counterpart enters the sender table, then gets the skeleton)."""
CORE_MODULES = ("wire", "mapping", "names", "service", "simulator", "errors")


def test_the_adapters_are_the_six_counterparts() -> None:
    assert ADAPTERS == ["eltax", "implementing_bodies", "intermediate_server", "jlis", "nta", "pension"]


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_every_adapter_has_the_core_modules(adapter: str) -> None:
    present = set(modules(ROOT / "adapters" / adapter))
    assert set(CORE_MODULES) <= present, sorted(set(CORE_MODULES) - present)
    assert "gateway" not in present, "file naming lives in names.py, directory I/O in a module named for it"


def sent_to(adapter: str) -> set[str]:
    """The message types the sender table routes to ``adapter.<adapter>``."""
    return {row["type"] for row in SENDERS if row["queue"] == f"adapter.{adapter}"}


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_every_service_dispatches_by_one_table(adapter: str) -> None:
    service = importlib.import_module(f"adapters.{adapter}.service")
    table = getattr(service, "FROM_HUB", None)
    assert isinstance(table, Mapping), f"adapters.{adapter}.service declares no FROM_HUB table"
    assert table, "an empty dispatch table"
    for key, route in table.items():
        assert isinstance(route, Route), key
        message_type, version = key
        assert issubclass(payload_model(message_type, version), route.payload), key
    assert sent_to(adapter) <= {message_type for message_type, _ in table}, (
        "a type the hub sends has no route"
    )
    assert sent_to(adapter), f"the sender table sends nothing to adapter.{adapter}"


LINKED = sorted(name for name in ADAPTERS if ADAPTER_SPECS[name].link)
"""The adapters whose counterpart sends files over a line (the pension system's link is a directory)."""


def test_the_line_adapters_are_four() -> None:
    assert LINKED == ["eltax", "implementing_bodies", "intermediate_server", "jlis", "nta"]


@pytest.mark.parametrize("adapter", LINKED)
def test_every_line_is_read_by_one_table(adapter: str) -> None:
    service = importlib.import_module(f"adapters.{adapter}.service")
    names = importlib.import_module(f"adapters.{adapter}.names")
    table = getattr(service, "FROM_COUNTERPART", None)
    assert isinstance(table, Mapping), f"adapters.{adapter}.service declares no FROM_COUNTERPART table"
    inbound = getattr(names, "INBOUND", None)
    assert inbound, f"adapters.{adapter}.names does not say which kinds its counterpart sends (INBOUND)"
    assert set(table) == set(inbound), "every kind the counterpart sends has a handler, and no other kind"
    (adapter_class,) = {handler.__qualname__.split(".")[0] for handler in table.values()}
    cls = getattr(service, adapter_class)
    for kind, handler in table.items():
        assert callable(handler), kind
        assert list(inspect.signature(handler).parameters) == ["self", "file", "name"], kind
    source = inspect.getsource(cls.from_counterpart)
    assert "receive(FROM_COUNTERPART, self, file," in source, "from_counterpart dispatches by its table"


def test_the_directory_adapter_has_no_line_table() -> None:
    service = importlib.import_module("adapters.pension.service")
    assert not ADAPTER_SPECS["pension"].link
    assert not hasattr(service, "FROM_COUNTERPART")
