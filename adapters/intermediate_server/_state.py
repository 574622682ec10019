"""What the simulated network remembers: codes registered, record ids seen, 副本 records held.

Kept in memory and, when a file is given, appended to it as JSON lines and read back on start, so that a
simulator run as its own process keeps its registrations across restarts like the real network. The file
holds 宛名番号, codes and record ids, never an Individual Number. Answers still held (late answers) are not
kept: a restart drops them, as an outage of the real network would delay them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["NetworkState"]


@dataclass
class NetworkState:
    """Registrations of the simulated network.

    Attributes:
        codes: 宛名番号 -> the federation's code registered for it.
        query_ids: record identification numbers of queries accepted so far.
        duplicates: レコード識別番号 of 副本 records held -> their 宛名番号.
    """

    path: Path | None = None
    codes: dict[str, str] = field(default_factory=dict)
    query_ids: set[str] = field(default_factory=set)
    duplicates: dict[str, str] = field(default_factory=dict)
    _pending: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path | None) -> NetworkState:
        """The state kept in ``path`` (empty when there is none yet)."""
        state = cls(path)
        if path is None or not path.exists():
            return state
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    state._apply(json.loads(line))
        return state

    def _apply(self, entry: dict[str, Any]) -> None:
        kind = entry.get("t")
        if kind == "code":
            self.codes[entry["a"]] = entry["c"]
        elif kind == "query":
            self.query_ids.add(entry["r"])
        elif kind == "dup":
            self.duplicates[entry["r"]] = entry["a"]
        elif kind == "undup":
            self.duplicates.pop(entry["r"], None)
        elif kind == "forget":
            self.codes.clear()

    def _log(self, entry: dict[str, Any]) -> None:
        self._apply(entry)
        self._pending.append(entry)

    def register_code(self, atena_no: str, code: str) -> None:
        """Register the code of a 宛名番号."""
        self._log({"t": "code", "a": atena_no, "c": code})

    def accept_query(self, record_id: str) -> None:
        """Remember a query's record identification number."""
        self._log({"t": "query", "r": record_id})

    def hold_duplicate(self, record_id: str, atena_no: str) -> None:
        """Hold (insert or update) a 副本 record."""
        self._log({"t": "dup", "r": record_id, "a": atena_no})

    def drop_duplicate(self, record_id: str) -> None:
        """Delete a 副本 record."""
        self._log({"t": "undup", "r": record_id})

    def forget_codes(self) -> None:
        """Lose every code registration (a test's way to make the network forget)."""
        self._log({"t": "forget"})

    def flush(self) -> None:
        """Append what changed since the last flush to the file, durably."""
        if self.path is None or not self._pending:
            self._pending.clear()
            return
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        lines = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in self._pending)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            handle.write(lines)
            handle.flush()
            os.fsync(handle.fileno())
        self._pending.clear()
