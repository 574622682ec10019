"""Checkpoint anchors: the signed checkpoints' digests, kept where the database administrator cannot write.

A checkpoint pins every record behind it, and each checkpoint names the digest of the one before. What it
cannot pin is itself: whoever can write the database can delete the newest checkpoints together with the
records after an older one, and what is left still verifies (security.md §4.4). An anchor closes that gap.
``renkei audit anchor FILE`` appends the newest checkpoint's id, time and digest to ``FILE`` as one JSON
line; kept on another host, a write-once bucket or paper, the file is out of the administrator's reach.
``renkei audit verify --anchors FILE`` then requires every anchored checkpoint to be in the database with
the same digest, and so, through the links between checkpoints, every record it sealed.

An anchor line holds no record, no token and no number: ``{"checkpoint": 12, "at": "...", "digest": "..."}``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from sqlalchemy import Connection, select

from contracts.errors import ConfigurationError
from hub.infra.audit.checkpoint import stored_digest
from hub.infra.audit.codec import canonical_at
from hub.infra.audit.verify_chain import Problem, ProblemKind
from hub.infra.db.tables.audit import audit_checkpoints

__all__ = ["Anchor", "append_anchor", "check_anchors", "newest_anchor", "read_anchors"]

_MAX_LINE: Final = 1_000
"""An anchor line is about 120 bytes; a longer one is not an anchor."""


@dataclass(frozen=True, slots=True)
class Anchor:
    """A copy of one checkpoint's identity: its id, its time and the digest of its signed message."""

    checkpoint: int
    at: str
    digest: str

    def line(self) -> str:
        """The anchor as the one JSON line the file holds."""
        return json.dumps({"checkpoint": self.checkpoint, "at": self.at, "digest": self.digest}) + "\n"


def _digests(conn: Connection, ids: Sequence[int] | None = None) -> dict[int, tuple[str, str]]:
    """``id -> (at, digest)`` of the stored checkpoints (all of them, or those of ``ids``)."""
    query = select(audit_checkpoints)
    if ids is not None:
        query = query.where(audit_checkpoints.c.id.in_(list(ids)))
    found = {}
    for row in conn.execute(query).mappings():
        found[int(row["id"])] = (canonical_at(row["at"]), stored_digest(row))
    return found


def newest_anchor(conn: Connection) -> Anchor | None:
    """The anchor of the newest checkpoint, or ``None`` when no checkpoint was written yet."""
    newest = conn.execute(select(audit_checkpoints.c.id).order_by(audit_checkpoints.c.id.desc()).limit(1))
    checkpoint = newest.scalar()
    if checkpoint is None:
        return None
    at, digest = _digests(conn, [checkpoint])[checkpoint]
    return Anchor(checkpoint, at, digest)


def read_anchors(path: Path) -> tuple[list[Anchor], list[Problem]]:
    """The anchors of ``path``, and a problem for each line that is not one (or goes backwards).

    Raises:
        ConfigurationError: the file cannot be read.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"the anchor file {path} cannot be read: {exc.__class__.__name__}") from exc
    anchors: list[Anchor] = []
    problems: list[Problem] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        anchor = _parse(line)
        if anchor is None:
            problems.append(
                Problem(ProblemKind.BAD_CHECKPOINT, f"anchor file line {number} is not an anchor")
            )
        elif anchors and anchor.checkpoint < anchors[-1].checkpoint:
            problems.append(
                Problem(
                    ProblemKind.BAD_CHECKPOINT,
                    f"anchor file line {number} goes back to checkpoint {anchor.checkpoint}",
                    checkpoint_id=anchor.checkpoint,
                )
            )
        else:
            anchors.append(anchor)
    return anchors, problems


def _parse(line: str) -> Anchor | None:
    if len(line) > _MAX_LINE:
        return None
    try:
        value = json.loads(line)
    except ValueError:
        return None
    if not isinstance(value, dict) or set(value) != {"checkpoint", "at", "digest"}:
        return None
    checkpoint, at, digest = value["checkpoint"], value["at"], value["digest"]
    if (
        type(checkpoint) is not int
        or checkpoint < 1
        or not isinstance(at, str)
        or not isinstance(digest, str)
    ):
        return None
    return Anchor(checkpoint, at, digest)


def append_anchor(path: Path, anchor: Anchor) -> bool:
    """Append ``anchor`` to ``path`` and sync it to disk; ``False`` when the file ends with it already.

    Raises:
        ConfigurationError: the file cannot be read or written.
    """
    try:
        if path.exists() and _last_line(path) == anchor.line().strip():
            return False
        with path.open("a", encoding="utf-8") as out:
            out.write(anchor.line())
            out.flush()
            os.fsync(out.fileno())
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(
            f"the anchor file {path} cannot be written: {exc.__class__.__name__}"
        ) from exc
    return True


def _last_line(path: Path) -> str:
    """The file's last non-empty line, read from its tail only (the file grows by a line a checkpoint)."""
    with path.open("rb") as data:
        size = data.seek(0, os.SEEK_END)
        data.seek(max(0, size - 2 * _MAX_LINE))
        tail = data.read().decode("utf-8")
    lines = [line for line in tail.splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


def check_anchors(conn: Connection, anchors: Sequence[Anchor]) -> list[Problem]:
    """A problem for every anchored checkpoint the database no longer holds as it was anchored."""
    # Every stored checkpoint in one pass (there are about as many as anchors), not an IN list of them all.
    stored = _digests(conn) if anchors else {}
    problems = []
    for anchor in anchors:
        found = stored.get(anchor.checkpoint)
        if found is None:
            problems.append(
                Problem(
                    ProblemKind.DELETED,
                    f"checkpoint {anchor.checkpoint}, anchored outside the database ({anchor.at}), is gone: "
                    "the access record was cut back behind it",
                    checkpoint_id=anchor.checkpoint,
                )
            )
        elif found[1] != anchor.digest:
            problems.append(
                Problem(
                    ProblemKind.BAD_CHECKPOINT,
                    f"checkpoint {anchor.checkpoint} is not the one anchored outside the database "
                    f"({anchor.at}): it was rewritten",
                    checkpoint_id=anchor.checkpoint,
                )
            )
    return problems
