"""docs/security.md shows the sender table as it is in ``hub/senders.toml`` (generated, kept equal here).

Run with ``RENKEI_WRITE_DOCS=1`` to rewrite the section after changing the table.
"""

from __future__ import annotations

import os
from pathlib import Path

from hub.core.senders import load_sender_table, with_senders_section

DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"


def test_the_documented_sender_table_is_the_one_in_force() -> None:
    text = DOC.read_text(encoding="utf-8")
    expected = with_senders_section(text, load_sender_table())
    if os.environ.get("RENKEI_WRITE_DOCS") == "1" and text != expected:
        DOC.write_text(expected, encoding="utf-8")
        text = expected
    assert text == expected, "docs/security.md differs from hub/senders.toml: run with RENKEI_WRITE_DOCS=1"
