"""A simulated pension benefit system (年金給付システム) on the far side of the exchange directory.

It does what the real system is asked to do (docs/formats/pension.md): drop request files the right way
(``NAME.tmp``, rename, manifest last) and read only complete outcome files (manifest present, checksum
and record count right). It streams both ways, so a cycle of a million pensioners needs no more memory
than a line: rows are written as they come, outcome files are read lazily, and :meth:`completed` keeps a
bitmap of the ``record_seq`` seen rather than the rows.

It never hides a duplicate: :meth:`read_outcomes` returns every row of every outcome file, so a test
that compares its length with :meth:`completed` sees any record answered twice.
"""

from __future__ import annotations

import hashlib
import json
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from adapters.pension._fs import AtomicWriter, ensure_private_dir, open_regular, write_bytes
from adapters.pension._manifest import AnyManifest, RequestManifest, new_manifest
from adapters.pension._reader import check_integrity, iter_rows
from adapters.pension.errors import MalformedPensionFile, Reason
from adapters.pension.wire import (
    INQUIRY_COLUMNS,
    INQUIRY_KIND,
    MANIFEST_SUFFIX,
    MAX_MANIFEST_BYTES,
    InquiryManifest,
    InquiryRow,
    OutcomeManifest,
    OutcomeRow,
    dump_manifest,
    encode_rows,
    format_inquiry_row,
    inquiry_file_name,
    manifest_name,
    outcome_columns,
    outcome_file_prefix,
    parse_manifest,
    parse_outcome_row,
)
from contracts.usage_number import UsageNumber

__all__ = ["PensionSide", "PensionSystemSimulator", "distinct_count"]

_PLACEHOLDER_SHA = "0" * 64
_MAX_BITMAP_BYTES = 1 << 24  # record_seq below 2**27: 16 MiB at most

Parse = Callable[[Sequence[str], int], Any]


def distinct_count(seqs: Iterable[int]) -> int:
    """How many distinct non-negative integers ``seqs`` holds (a bitmap up to 2**27, a set beyond)."""
    bitmap, beyond = bytearray(), set()
    for seq in seqs:
        byte, bit = divmod(seq, 8)
        if byte >= _MAX_BITMAP_BYTES:
            beyond.add(seq)
            continue
        if byte >= len(bitmap):
            bitmap.extend(bytes(byte + 1 - len(bitmap)))
        bitmap[byte] |= 1 << bit
    return int.from_bytes(bitmap, "little").bit_count() + len(beyond)


class PensionSide:
    """The pension system's side of the exchange directory under ``root``: what every simulated part does.

    It drops request files the right way (``NAME.tmp``, rename, manifest last) and reads only complete
    answer files (manifest present, checksum and record count verified), streaming both ways.

    Args:
        root: the same root the adapter's :class:`~adapters.pension.directory.ExchangeDirectory` uses.
    """

    name = "pension"

    def __init__(self, root: Path) -> None:
        self.inbound = root / "inbound"
        self.outbound = root / "outbound"
        for directory in (root, self.inbound, self.outbound):
            ensure_private_dir(directory)
        # Complete answer files never change: what was counted in one is kept, keyed by its checksum.
        self._seen: dict[tuple[str, str], array[int]] = {}

    def _drop(
        self,
        name: str,
        columns: Sequence[str],
        rows: Iterable[Sequence[str]],
        model: Callable[..., RequestManifest],
        *,
        batch_id: str,
        actor: str | None,
        invalid: str = "invalid file name or manifest field",
        **fields: Any,
    ) -> Path:
        """Write a request file from ``rows`` and then its manifest, a ``model`` with the kind's ``fields``.

        ``actor``: on whose behalf (a version 2 manifest); ``None`` writes version 1 (the federation's).

        Raises:
            MalformedPensionFile: the manifest's fields are invalid (checked before anything is written),
                with the text ``invalid``.
        """

        def manifest(count: int, sha256: str) -> RequestManifest:
            return new_manifest(
                model,
                actor=actor,
                file_name=name,
                record_count=count,
                sha256=sha256,
                batch_id=batch_id,
                **fields,
            )

        try:
            manifest(0, _PLACEHOLDER_SHA)  # validate the manifest's fields before writing anything
        except ValueError:
            raise MalformedPensionFile(invalid, reason=Reason.BAD_FIELD) from None
        count = 0
        with AtomicWriter(self.inbound / name, unique_tmp=False) as writer:
            for chunk in encode_rows(columns, rows):
                writer.write(chunk)
                count += 1
            writer.commit()
            sha256 = writer.sha256
        final = manifest(count - 1, sha256)
        write_bytes(self.inbound / manifest_name(name), dump_manifest(final), unique_tmp=False)
        return self.inbound / name

    def _answers(
        self, prefix: str, kind: type[AnyManifest], batch_id: str | None = None
    ) -> Iterator[tuple[Path, Any]]:
        """The complete answer files whose names start with ``prefix``, in name order, with their manifests.

        Raises:
            MalformedPensionFile: a manifest is invalid or describes another file (or another batch).
        """
        for manifest_path in sorted(self.outbound.glob(f"{prefix}*{MANIFEST_SUFFIX}")):
            with open_regular(manifest_path) as stream:
                manifest: Any = parse_manifest(stream.read(MAX_MANIFEST_BYTES + 1))
            data_name = manifest_path.name[: -len(MANIFEST_SUFFIX)]
            if (
                not isinstance(manifest, kind)
                or manifest.file_name != data_name
                or (batch_id is not None and manifest.batch_id != batch_id)
            ):
                raise MalformedPensionFile(
                    "the manifest does not describe its outcome file", reason=Reason.MANIFEST_MISMATCH
                )
            yield self.outbound / data_name, manifest

    def _distinct(self, files: Iterable[tuple[Path, Any]], rows: Callable[[Path, Any], Iterable[Any]]) -> int:
        """How many distinct ``record_seq`` the answer ``files`` hold (each file read once, by checksum)."""

        def seqs() -> Iterator[int]:
            for path, manifest in files:
                key = (path.name, manifest.sha256)
                if key not in self._seen:
                    self._seen[key] = array("Q", (row.record_seq for row in rows(path, manifest)))
                yield from self._seen[key]

        return distinct_count(seqs())

    @staticmethod
    def _rows_of(path: Path, manifest: Any, columns: Sequence[str], parse: Parse) -> Iterator[Any]:
        """The rows of one answer file, after its checksum is verified."""
        with open_regular(path) as stream:
            check_integrity(stream, expected_sha256=manifest.sha256)
            stream.seek(0)
            yield from iter_rows(
                stream,
                columns=columns,
                parse=parse,
                expected_count=manifest.record_count,
                expected_sha256=manifest.sha256,
            )


class PensionSystemSimulator(PensionSide):
    """The pension system's side of the survival/change exchange under ``root``.

    Args:
        root: the same root the adapter's :class:`~adapters.pension.directory.ExchangeDirectory` uses.
    """

    def drop_survival_request(
        self,
        usage_numbers: Iterable[UsageNumber],
        *,
        cycle: str,
        as_of: date,
        batch_id: str,
        file_name: str | None = None,
        actor: str | None = None,
    ) -> Path:
        """Write a request file (rows numbered from 1) and its manifest; returns the data file's path.

        ``actor``: on whose behalf the file is sent (a version 2 manifest); ``None`` writes version 1.

        Rows are written as ``usage_numbers`` yields them, so a generator of any length is fine.

        Raises:
            MalformedPensionFile: the cycle, as_of or batch id is not valid for a manifest.
        """
        name = file_name or inquiry_file_name(batch_id)
        rows = (format_inquiry_row(InquiryRow(seq, u)) for seq, u in enumerate(usage_numbers, start=1))
        return self._drop(
            name,
            INQUIRY_COLUMNS,
            rows,
            InquiryManifest,
            batch_id=batch_id,
            actor=actor,
            invalid="invalid file name, cycle, as_of or batch id",
            kind=INQUIRY_KIND,
            cycle=cycle,
            as_of=as_of,
        )

    def drop_raw_file(
        self,
        name: str,
        content: bytes,
        *,
        manifest: Mapping[str, object] | bytes | None = None,
        **fields: object,
    ) -> Path:
        """Drop arbitrary bytes as a request file, for fault injection (tests, demos of rejection).

        Args:
            name: the data file's name.
            content: its bytes, as they are.
            manifest: the manifest's raw bytes, or a mapping to serialise; ``None`` builds a correct one
                from ``content`` (record count = lines after the header), with ``fields`` overriding.
            **fields: manifest fields to override in the built manifest.
        """
        write_bytes(self.inbound / name, content, unique_tmp=False)
        if isinstance(manifest, bytes):
            raw = manifest
        else:
            data: dict[str, object] = {
                "format_version": 1,
                "kind": "survival_inquiry",
                "file_name": name,
                "record_count": max(0, len(content.splitlines()) - 1),
                "sha256": hashlib.sha256(content).hexdigest(),
                "cycle": "2026-12",
                "as_of": "2026-11-20",
                "batch_id": "raw",
            }
            data.update(manifest or {})
            data.update(fields)
            raw = json.dumps(data, ensure_ascii=False).encode()
        write_bytes(self.inbound / manifest_name(name), raw, unique_tmp=False)
        return self.inbound / name

    def outcome_files(self, batch_id: str) -> list[tuple[Path, OutcomeManifest]]:
        """The complete outcome files of a batch (manifest present), in name order.

        Raises:
            MalformedPensionFile: a manifest is invalid or describes another file or batch.
        """
        return list(self._answers(outcome_file_prefix(batch_id), OutcomeManifest, batch_id))

    def iter_outcomes(self, batch_id: str) -> Iterator[OutcomeRow]:
        """Every outcome row of a batch, file by file, lazily; each file is verified before it is read.

        Raises:
            MalformedPensionFile: an outcome file is corrupt (checksum, count or format).
            IndividualNumberInFile: an outcome file holds a value with the form of an Individual Number.
        """
        for path, manifest in self.outcome_files(batch_id):
            yield from self._outcome_rows(path, manifest)

    def read_outcomes(self, batch_id: str) -> list[OutcomeRow]:
        """Every outcome row of a batch, duplicates included."""
        return list(self.iter_outcomes(batch_id))

    def completed(self, batch_id: str) -> int:
        """How many distinct ``record_seq`` of the batch have an outcome so far."""
        return self._distinct(self.outcome_files(batch_id), self._outcome_rows)

    def _outcome_rows(self, path: Path, manifest: OutcomeManifest) -> Iterator[OutcomeRow]:
        return self._rows_of(path, manifest, outcome_columns(manifest.format_version), parse_outcome_row)
