"""docs/security.md shows the sender table (``hub/senders.toml``) and the key table (``KEY_NEEDS``) in force.

Run with ``RENKEI_WRITE_DOCS=1`` to rewrite the sections after changing a table.
"""

from __future__ import annotations

import os
from pathlib import Path

from hub.core.runtime.senders import load_sender_table, with_senders_section
from hub.infra.keys.needs import key_table_markdown, with_key_table

DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"


def test_the_documented_sender_table_is_the_one_in_force() -> None:
    text = DOC.read_text(encoding="utf-8")
    expected = with_senders_section(text, load_sender_table())
    if os.environ.get("RENKEI_WRITE_DOCS") == "1" and text != expected:
        DOC.write_text(expected, encoding="utf-8")
        text = expected
    assert text == expected, "docs/security.md differs from hub/senders.toml: run with RENKEI_WRITE_DOCS=1"


def test_the_documented_key_table_is_the_one_in_force() -> None:
    text = DOC.read_text(encoding="utf-8")
    expected = with_key_table(text)
    if os.environ.get("RENKEI_WRITE_DOCS") == "1" and text != expected:
        DOC.write_text(expected, encoding="utf-8")
        text = expected
    assert text == expected, "docs/security.md differs from KEY_NEEDS: run with RENKEI_WRITE_DOCS=1"
    assert key_table_markdown() in text
