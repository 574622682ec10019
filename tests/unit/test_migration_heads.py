"""The migrations form one line: a single Alembic head, every revision reachable from it."""

from __future__ import annotations

from alembic.script import ScriptDirectory

from hub.infra.db.migrate import alembic_config


def test_the_migrations_have_one_head_and_one_line_of_history() -> None:
    scripts = ScriptDirectory.from_config(alembic_config())
    assert scripts.get_heads() == ["0011_erasure_notice"]
    line = [s.revision for s in scripts.walk_revisions()]
    assert line[:3] == ["0011_erasure_notice", "0010_purpose_and_actors", "0009_erasure"]
    assert line[-1] == "0001"
    assert all(not isinstance(s.down_revision, tuple) for s in scripts.walk_revisions())  # no merge points
