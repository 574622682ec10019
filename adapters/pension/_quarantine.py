"""The ``rejected/`` directory: refused request files, their manifests, and a report each.

The report is written first and the files moved after it, so that a crash in between leaves a report
behind rather than an unexplained file; a manifest left in ``inbound/`` by such a crash is moved next to
its data file on the next look (matched by the digest of the original name, which the report keeps).
A file name that holds an Individual Number is never repeated: logs, reports and the stored file use a
neutral ``redacted-<digest>`` instead.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from adapters.pension._fs import fsync_dir, rename, restrict, write_bytes
from adapters.pension.errors import (
    MalformedPensionFile,
    PensionDirectoryUnavailable,
    PensionFileProblem,
    Reason,
)
from adapters.pension.names import MANIFEST_SUFFIX, REPORT_SUFFIX, manifest_name, name_digest, shown_name

__all__ = ["Quarantine", "Rejection"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Rejection:
    """A request file refused whole and moved to ``rejected/`` (what its report says)."""

    name: str
    stored_as: str
    reason: Reason
    problem: str
    action: str
    line: int | None = None
    column: str | None = None


class Quarantine:
    """Moves refused files from ``inbound`` to ``rejected`` with their reports."""

    def __init__(self, inbound: Path, rejected: Path) -> None:
        self.inbound = inbound
        self.rejected = rejected

    def reports(self) -> list[dict[str, object]]:
        """Every report, in name order."""
        return [
            json.loads(path.read_text(encoding="utf-8"))
            for path in sorted(self.rejected.glob("*" + REPORT_SUFFIX))
        ]

    def reject(self, name: str, problem: PensionFileProblem, *, keep_data: bool = True) -> Rejection:
        """Refuse ``inbound/name`` (and its manifest, if any) for ``problem``.

        Args:
            name: the data file in ``inbound/``.
            problem: why it is refused.
            keep_data: move the data file to ``rejected/`` (the default); ``False`` deletes it instead, for
                files that may hold Individual Numbers (dependants' declarations), which must not rest
                outside the vault; the report and the manifest are kept.

        Raises:
            PensionDirectoryUnavailable: the files cannot be moved or the report written.
        """
        shown = shown_name(name)
        stored = self._free_name(shown)
        rejection = Rejection(
            name=shown,
            stored_as=stored,
            reason=problem.reason,
            problem=problem.problem,
            action=problem.action,
            line=problem.line,
            column=problem.column,
        )
        report = {
            "file_name": shown,
            "name_digest": name_digest(name),
            "stored_as": stored,
            "rejected_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "refused": "whole file; no record was taken"
            + ("" if keep_data else "; the data file was deleted (it may hold Individual Numbers)"),
            "reason": problem.reason.value,
            "problem": problem.problem,
            "line": problem.line,
            "column": problem.column,
            "action": problem.action,
            "format": "docs/formats/pension.md",
        }
        body = (json.dumps(report, ensure_ascii=False, indent=2) + "\n").encode()
        try:
            write_bytes(self.rejected / (stored + REPORT_SUFFIX), body)
            if not keep_data and os.path.lexists(self.inbound / name):
                os.unlink(self.inbound / name)
                fsync_dir(self.inbound)
            for source, target in ((name, stored), (manifest_name(name), manifest_name(stored))):
                if os.path.lexists(self.inbound / source):
                    rename(self.inbound / source, self.rejected / target)
                    restrict(self.rejected / target)
        except OSError as exc:
            raise PensionDirectoryUnavailable(f"cannot move inbound/{shown} to rejected/") from exc
        log.warning(
            "request file rejected",
            extra={
                "file": shown,
                "reason": problem.reason.value,
                "line": problem.line,
                "column": problem.column,
            },
        )
        return rejection

    def settle_orphan_manifest(self, manifest_file: str, processed: Path) -> Rejection | None:
        """A manifest whose data file is gone: finish an interrupted move, or refuse the manifest.

        Raises:
            PensionDirectoryUnavailable: the directories cannot be read or written.
        """
        data = manifest_file[: -len(MANIFEST_SUFFIX)]
        try:
            if (processed / data).exists() and not (processed / manifest_file).exists():
                rename(self.inbound / manifest_file, processed / manifest_file)
                return None
            digest = name_digest(data)
            for report in self.reports():
                stored = str(report.get("stored_as", ""))
                if (
                    report.get("name_digest") == digest
                    and not (self.rejected / manifest_name(stored)).exists()
                ):
                    rename(self.inbound / manifest_file, self.rejected / manifest_name(stored))
                    return None
        except (OSError, ValueError) as exc:
            raise PensionDirectoryUnavailable(f"cannot settle inbound/{shown_name(manifest_file)}") from exc
        return self.reject(
            data, MalformedPensionFile("a manifest without its data file", reason=Reason.ORPHAN_MANIFEST)
        )

    def _free_name(self, shown: str) -> str:
        """``shown``, or ``stem.N.ext`` for the first N that collides with nothing in ``rejected/``."""
        stem, dot, ext = shown.rpartition(".")
        for attempt in range(1000):
            candidate = (
                shown if attempt == 0 else (f"{stem}.{attempt}.{ext}" if dot else f"{shown}.{attempt}")
            )
            if not any(
                os.path.lexists(self.rejected / p)
                for p in (candidate, manifest_name(candidate), candidate + REPORT_SUFFIX)
            ):
                return candidate
        raise PensionDirectoryUnavailable("rejected/ holds too many files of the same name; clean it up")
