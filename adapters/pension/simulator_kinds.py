"""The simulated pension system's side of number acquisition and dependants' declarations.

Like :class:`~adapters.pension.simulator.PensionSystemSimulator` it follows the exchange's discipline
(``NAME.tmp``, rename, manifest last; read only complete answers, checksum and count verified) and streams
both ways, so a million rows need no more memory than a line; counting distinct answered rows takes a
bitmap of ``record_seq``, not the rows.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from adapters.pension import acquisition, dependants
from adapters.pension._fs import AtomicWriter, ensure_private_dir, open_regular, write_bytes
from adapters.pension._manifest import (
    AcquisitionManifest,
    AcquisitionOutcomeManifest,
    AnyManifest,
    DependantsAckManifest,
    DependantsManifest,
    RequestManifest,
)
from adapters.pension._reader import check_integrity, iter_rows
from adapters.pension.errors import MalformedPensionFile, Reason
from adapters.pension.wire import (
    MANIFEST_SUFFIX,
    MAX_MANIFEST_BYTES,
    dump_manifest,
    encode_rows,
    manifest_name,
    parse_manifest,
)

__all__ = ["PensionRequestsSimulator", "distinct_count"]

_PLACEHOLDER_SHA = "0" * 64
_MAX_BITMAP_BYTES = 1 << 24


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


class PensionRequestsSimulator:
    """Drops number acquisition requests and dependants' declarations, reads their answers.

    Args:
        root: the exchange root the adapter's exchange directory uses.
    """

    name = "pension"

    def __init__(self, root: Path) -> None:
        self.inbound = root / "inbound"
        self.outbound = root / "outbound"
        for directory in (root, self.inbound, self.outbound):
            ensure_private_dir(directory)
        # Complete answer files never change: what was counted in one is kept, keyed by its checksum.
        self._seen: dict[tuple[str, str], array[int]] = {}

    # -- requests ------------------------------------------------------------------------------------

    def drop_acquisition_request(
        self,
        rows: Iterable[acquisition.AcquisitionRow],
        *,
        as_of: date,
        batch_id: str,
        actor: str | None = None,
    ) -> Path:
        """Write a number acquisition request file and its manifest; returns the data file's path.

        ``actor``: on whose behalf (a version 2 manifest); ``None`` writes version 1 (the federation's).
        """
        name = acquisition.acquisition_file_name(batch_id)

        def manifest(count: int, sha256: str) -> AcquisitionManifest:
            return AcquisitionManifest(
                format_version=2 if actor is not None else 1,
                actor=actor,
                kind="number_acquisition",
                file_name=name,
                record_count=count,
                sha256=sha256,
                batch_id=batch_id,
                as_of=as_of,
            )

        cells = (acquisition.format_acquisition_row(r) for r in rows)
        return self._drop(name, acquisition.ACQUISITION_COLUMNS, cells, manifest)

    def drop_dependants_declarations(
        self,
        rows: Iterable[dependants.DeclarationRow],
        *,
        tax_year: int,
        filing_deadline: date,
        batch_id: str,
        actor: str | None = None,
    ) -> Path:
        """Write a dependants' declaration file (numbers in the clear, as this kind has them) and manifest.

        ``actor``: the 構成組合 on whose behalf (事務(2) is theirs alone); ``None`` writes version 1.
        """
        name = dependants.declaration_file_name(batch_id)

        def manifest(count: int, sha256: str) -> DependantsManifest:
            return DependantsManifest(
                format_version=2 if actor is not None else 1,
                actor=actor,
                kind="dependants_declaration",
                file_name=name,
                record_count=count,
                sha256=sha256,
                batch_id=batch_id,
                tax_year=tax_year,
                filing_deadline=filing_deadline,
            )

        cells = (dependants.format_declaration_row(r) for r in rows)
        return self._drop(name, dependants.DECLARATION_COLUMNS, cells, manifest)

    def _drop(
        self,
        name: str,
        columns: Sequence[str],
        rows: Iterable[Sequence[str]],
        manifest: Callable[[int, str], RequestManifest],
    ) -> Path:
        try:
            manifest(0, _PLACEHOLDER_SHA)  # validate the manifest's fields before writing anything
        except ValueError:
            raise MalformedPensionFile(
                "invalid file name or manifest field", reason=Reason.BAD_FIELD
            ) from None
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

    # -- answers -------------------------------------------------------------------------------------

    def acquisition_outcomes(self, batch_id: str) -> Iterator[acquisition.AcquisitionOutcomeRow]:
        """Every outcome row of a number acquisition batch, file by file, duplicates included."""
        return self._rows(
            acquisition.outcome_file_prefix(batch_id),
            AcquisitionOutcomeManifest,
            acquisition.OUTCOME_COLUMNS,
            acquisition.parse_outcome_row,
        )

    def completed_acquisitions(self, batch_id: str) -> int:
        """How many distinct ``record_seq`` of the batch have an outcome so far."""
        return self._distinct(
            acquisition.outcome_file_prefix(batch_id),
            AcquisitionOutcomeManifest,
            acquisition.OUTCOME_COLUMNS,
            acquisition.parse_outcome_row,
        )

    def dependants_acks(self, batch_id: str) -> Iterator[dependants.AckRow]:
        """Every acknowledgement row of a declaration batch, file by file, duplicates included."""
        return self._rows(
            dependants.ack_file_prefix(batch_id),
            DependantsAckManifest,
            dependants.ACK_COLUMNS,
            dependants.parse_ack_row,
        )

    def acknowledged_declarations(self, batch_id: str) -> int:
        """How many distinct declarations of the batch are acknowledged so far."""
        return self._distinct(
            dependants.ack_file_prefix(batch_id),
            DependantsAckManifest,
            dependants.ACK_COLUMNS,
            dependants.parse_ack_row,
        )

    def _distinct(
        self,
        prefix: str,
        kind: type[AnyManifest],
        columns: Sequence[str],
        parse: Callable[[Sequence[str], int], Any],
    ) -> int:
        def seqs() -> Iterator[int]:
            for path, manifest in self._files(prefix, kind):
                key = (path.name, manifest.sha256)
                if key not in self._seen:
                    rows = self._rows_of(path, manifest, columns, parse)
                    self._seen[key] = array("Q", (row.record_seq for row in rows))
                yield from self._seen[key]

        return distinct_count(seqs())

    def _rows(
        self,
        prefix: str,
        kind: type[AnyManifest],
        columns: Sequence[str],
        parse: Callable[[Sequence[str], int], Any],
    ) -> Iterator[Any]:
        for path, manifest in self._files(prefix, kind):
            yield from self._rows_of(path, manifest, columns, parse)

    def _files(self, prefix: str, kind: type[AnyManifest]) -> Iterator[tuple[Path, Any]]:
        for manifest_path in sorted(self.outbound.glob(f"{prefix}*{MANIFEST_SUFFIX}")):
            with open_regular(manifest_path) as stream:
                manifest: Any = parse_manifest(stream.read(MAX_MANIFEST_BYTES + 1))
            data_name = manifest_path.name[: -len(MANIFEST_SUFFIX)]
            if not isinstance(manifest, kind) or manifest.file_name != data_name:
                raise MalformedPensionFile(
                    "the manifest does not describe its outcome file", reason=Reason.MANIFEST_MISMATCH
                )
            yield self.outbound / data_name, manifest

    @staticmethod
    def _rows_of(
        path: Path, manifest: Any, columns: Sequence[str], parse: Callable[[Sequence[str], int], Any]
    ) -> Iterator[Any]:
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
