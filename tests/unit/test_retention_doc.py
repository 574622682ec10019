"""docs/retention.md is the retention model in force (generated, kept equal here); every row has its job.

Run with ``RENKEI_WRITE_DOCS=1`` to rewrite the document after changing ``hub/core/rules/retention_model.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

from contracts.purpose_table import default_table
from hub.core.rules.retention import DEPENDANTS_DECLARATION
from hub.core.rules.retention_model import (
    ENTITLEMENT,
    RETENTION_MODEL,
    Enforcer,
    Kind,
    kind_of_basis,
    retention_markdown,
)
from hub.infra.retention.run import STEPS

DOC = Path(__file__).resolve().parents[2] / "docs" / "retention.md"


def test_the_documented_retention_model_is_the_one_in_force() -> None:
    expected = retention_markdown()
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    if os.environ.get("RENKEI_WRITE_DOCS") == "1" and text != expected:
        DOC.write_text(expected, encoding="utf-8")
        text = expected
    assert text == expected, "docs/retention.md differs from the model: run with RENKEI_WRITE_DOCS=1"


def test_every_kind_has_one_row_and_a_job_that_enforces_it() -> None:
    kinds = [row.kind for row in RETENTION_MODEL]
    assert sorted(kinds) == sorted(Kind), "every kind once"
    for row in RETENTION_MODEL:
        if row.enforcer in (Enforcer.RETENTION_RUN, Enforcer.RELAY):
            assert row.job in STEPS, f"{row.kind}: {row.job!r} is no step of renkei retention run"
        else:
            assert row.job in ("operator", "broker")
        assert all((row.what, row.where, row.basis, row.retention, row.at_end))


def test_the_document_names_every_kind() -> None:
    text = retention_markdown()
    for kind in Kind:
        assert f"`{kind.value}`" in text


def test_the_vault_rows_take_their_legal_basis_from_the_purpose_table() -> None:
    # The law is stated once, in the purpose table: each vault row of the retention model names the table's
    # retention basis and every article its [[held_under]] rows obtain and keep numbers under.
    table = default_table()
    rows = {row.kind: row for row in RETENTION_MODEL}
    for kind, retention in (
        (Kind.VAULT_ENTITLEMENT, ENTITLEMENT),
        (Kind.VAULT_DEPENDANTS, DEPENDANTS_DECLARATION),
    ):
        held = table.held_under_retention(retention)
        assert held, f"the purpose table keeps no number with {retention}"
        assert kind_of_basis(retention) is kind
        for h in held:
            for basis in (*h.bases, *h.kept_under):
                assert basis.text in rows[kind].basis
    # every retention basis the table names has a row of its own in the model
    assert {kind_of_basis(h.retention) for h in table.held_under.values()} <= {
        Kind.VAULT_ENTITLEMENT,
        Kind.VAULT_DEPENDANTS,
    }
