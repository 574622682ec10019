"""What the tests of the pension adapter's request files share: draining the adapter, reading a refusal."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from adapters.pension import PensionAdapter
from adapters.pension.errors import MalformedPensionFile, PensionFileProblem
from contracts.envelope import Envelope

__all__ = ["assert_row_refused", "drain", "fails_only_as_a_file_problem", "report_of"]


def drain(adapter: PensionAdapter) -> list[Envelope]:
    """Poll and acknowledge every file, as the host does; returns the envelopes (bounded: 1,000 polls)."""
    envelopes: list[Envelope] = []
    for _ in range(1000):
        polled = adapter.poll()
        if polled is None:
            return envelopes
        envelopes.extend(polled.output.to_hub)
        adapter.acknowledge(polled.source)
    raise AssertionError("the adapter never ran dry")


def report_of(root: Path, name: str) -> dict[str, Any]:
    """The refusal report the adapter left in ``rejected/`` for the data file ``name``."""
    report: dict[str, Any] = json.loads((root / "rejected" / (name + ".report.json")).read_text())
    return report


def fails_only_as_a_file_problem(parse: Callable[[Sequence[str], int], object], cells: list[str]) -> None:
    """Assert that a row parser, given any cells, returns or raises the adapter's error naming line 2."""
    try:
        parse(cells, 2)
    except PensionFileProblem as exc:
        failed: PensionFileProblem | None = exc
    else:
        failed = None
    assert failed is None or failed.line == 2


def assert_row_refused(
    parse: Callable[[Sequence[str], int], object], cells: list[str], column: str, changed: dict[str, str]
) -> None:
    """Assert that a row is refused naming its line and ``column``, and never quoting a ``changed`` value."""
    with pytest.raises(MalformedPensionFile) as info:
        parse(cells, 7)
    assert (info.value.line, info.value.column) == (7, column)
    for value in changed.values():
        if value:
            assert value not in str(info.value)
