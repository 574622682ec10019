"""The directory exchange with the pension benefit system (年金給付システム): ``inbound/`` to ``processed/``.

Layout under the exchange root (every directory 0o700, every file renkei writes 0o600)::

    inbound/     the pension system drops request files here (NAME.tmp, rename to NAME, manifest last)
    outbound/    renkei writes outcome files here, the same way
    processed/   request files whose messages the broker confirmed, with their manifests
    rejected/    refused request files, with their manifests and a NAME.report.json each

A request file is taken only when complete: its manifest exists and the file's SHA-256 and record count
match it. A file that breaks any rule is moved, with its manifest, to ``rejected/`` with a report that
says what is wrong and what to do; no message is ever made from part of a file. A name holding an
Individual Number is never repeated: the file is stored and reported under a neutral name.

The request kinds (:mod:`adapters.pension.kinds`) share these rules. Dependants' declarations, the one
kind that carries Individual Numbers, never rest here: once their messages are confirmed the data file is
deleted and only its manifest moves to ``processed/`` (logged as an audit event), and a refused one is
deleted with only its report and manifest kept in ``rejected/``. For a kind that keeps each person's rows
together (副本 changes), validating a file also notes the length of each person's run
(:attr:`InboundFile.runs`), from which the adapter cuts its chunks.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, Final

from adapters.pension._fs import (
    TMP_SUFFIX,
    ensure_private_dir,
    fsync_dir,
    open_regular,
    rename,
    restrict,
    write_bytes,
)
from adapters.pension._manifest import AnyManifest, RequestManifest, manifest_holds_a_number
from adapters.pension._quarantine import Quarantine, Rejection
from adapters.pension._reader import check_integrity, iter_rows
from adapters.pension.errors import (
    AcknowledgeRefused,
    IndividualNumberInFile,
    MalformedPensionFile,
    OutcomeFileConflict,
    PensionDirectoryUnavailable,
    PensionFileProblem,
    Reason,
)
from adapters.pension.kinds import RequestKind, actor_refusal, carries_numbers, request_kind
from adapters.pension.names import DATA_NAME, shown_name
from adapters.pension.wire import (
    MANIFEST_SUFFIX,
    MAX_MANIFEST_BYTES,
    REPORT_SUFFIX,
    dump_manifest,
    manifest_name,
    parse_manifest,
)
from contracts.redaction import holds_number

__all__ = ["ExchangeDirectory", "InboundFile", "Rejection"]

log = logging.getLogger(__name__)

_MAX_SCAN: Final = 10_000  # entries looked at per call; the rest wait for the next poll


@dataclass(frozen=True, slots=True)
class InboundFile:
    """A complete, valid request file in ``inbound/``, not yet acknowledged."""

    name: str
    manifest: RequestManifest
    runs: Sequence[int] = ()
    """The lengths of its runs of one person's rows, in file order, for a kind that keeps them together."""

    @property
    def kind(self) -> RequestKind:
        """The file's request kind."""
        kind = request_kind(self.manifest)
        assert kind is not None  # a taken file's manifest is a request manifest
        return kind

    def chunk_sizes(self, chunk_records: int) -> list[int]:
        """The rows of each of its chunks, ``chunk_records`` a message (:meth:`RequestKind.chunk_sizes`)."""
        return self.kind.chunk_sizes(self.manifest, self.runs, chunk_records)


class ExchangeDirectory:
    """The pension exchange directories under ``root``, created owner-only (0o700) if missing.

    Raises:
        ConfigurationError: an existing exchange directory is open to group or others.
        PensionDirectoryUnavailable: a directory cannot be created.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.inbound = root / "inbound"
        self.outbound = root / "outbound"
        self.processed = root / "processed"
        self.rejected = root / "rejected"
        for directory in (root, self.inbound, self.outbound, self.processed, self.rejected):
            ensure_private_dir(directory)
        self._quarantine = Quarantine(self.inbound, self.rejected)

    # -- inbound ---------------------------------------------------------------------------------------

    def take_next(self) -> InboundFile | Rejection | None:
        """Look at ``inbound/`` in name order: the first complete file, valid or refused.

        Data files without a manifest are left alone (still being written). A manifest without its data
        file either finishes an interrupted move or is refused. Returns ``None`` when nothing is ready.

        Raises:
            PensionDirectoryUnavailable: the directory cannot be read or a file cannot be moved.
        """
        try:
            with os.scandir(self.inbound) as entries:
                names = sorted(entry.name for entry in islice(entries, _MAX_SCAN))
        except OSError as exc:
            raise PensionDirectoryUnavailable("cannot list inbound/") from exc
        present = set(names)
        for name in names:
            if name.endswith((TMP_SUFFIX, REPORT_SUFFIX)) or name.startswith("."):
                continue
            if name.endswith(MANIFEST_SUFFIX):
                if name[: -len(MANIFEST_SUFFIX)] not in present:
                    if self._settle_deleted(name):
                        continue
                    rejection = self._quarantine.settle_orphan_manifest(name, self.processed)
                    if rejection is not None:
                        return rejection
                continue
            if manifest_name(name) not in present:
                continue  # still being written: the manifest comes last
            try:
                return self._validate(name)
            except PensionFileProblem as problem:
                return self._quarantine.reject(name, problem, keep_data=not carries_numbers(name))
            except FileNotFoundError:
                continue  # taken away meanwhile
            except OSError as exc:
                raise PensionDirectoryUnavailable(f"cannot read inbound/{shown_name(name)}") from exc
        return None

    def rows(self, file: InboundFile) -> Generator[Any, None, None]:
        """The rows of a taken file, streamed; the checksum and count are checked again at the end.

        Raises:
            MalformedPensionFile: the file changed since it was taken.
            PensionDirectoryUnavailable: it cannot be read.
        """
        manifest, kind = file.manifest, file.kind
        try:
            with open_regular(self.inbound / file.name) as stream:
                yield from iter_rows(
                    stream,
                    columns=kind.columns,
                    parse=kind.parser(manifest),
                    expected_count=manifest.record_count,
                    expected_sha256=manifest.sha256,
                )
        except OSError as exc:
            raise PensionDirectoryUnavailable(f"cannot read inbound/{shown_name(file.name)}") from exc

    def mark_processed(self, file: InboundFile) -> None:
        """Move a taken file and its manifest to ``processed/``; its messages are confirmed.

        Idempotent: a file already moved (for example by an interrupted earlier call) is left there. A kind
        that is deleted after publishing (dependants' declarations) is deleted instead, and its manifest
        moved; the deletion is logged as an audit event.

        Raises:
            AcknowledgeRefused: the file is gone, or changed since it was taken.
            PensionDirectoryUnavailable: it cannot be moved.
        """
        name, manifest = file.name, manifest_name(file.name)
        if file.kind.delete_after_publishing:
            self._delete_published(file)
            return
        try:
            if not (self.inbound / name).exists():
                if (self.processed / name).exists():
                    if (self.inbound / manifest).exists():
                        rename(self.inbound / manifest, self.processed / manifest)
                    return
                raise AcknowledgeRefused(f"inbound/{shown_name(name)} is gone; it was not acknowledged")
            if (
                self._digest(self.inbound / name) != file.manifest.sha256
                or self._read_manifest(self.inbound / manifest) != file.manifest
            ):
                raise AcknowledgeRefused(f"inbound/{shown_name(name)} changed after it was taken")
            if (self.processed / name).exists():
                raise AcknowledgeRefused(f"processed/{shown_name(name)} already exists")
            rename(self.inbound / name, self.processed / name)
            rename(self.inbound / manifest, self.processed / manifest)
            restrict(self.processed / name)
            restrict(self.processed / manifest)
        except (PensionFileProblem, FileNotFoundError) as exc:
            raise AcknowledgeRefused(f"inbound/{shown_name(name)} changed after it was taken") from exc
        except OSError as exc:
            raise PensionDirectoryUnavailable(f"cannot move inbound/{shown_name(name)}") from exc
        log.info("request file processed", extra={"file": name, "batch_id": file.manifest.batch_id})

    def rejection_reports(self) -> list[dict[str, object]]:
        """Every report in ``rejected/``, in name order (for operators and tests)."""
        return self._quarantine.reports()

    def _read_manifest(self, path: Path) -> AnyManifest:
        with open_regular(path) as stream:
            return parse_manifest(stream.read(MAX_MANIFEST_BYTES + 1))

    @staticmethod
    def _digest(path: Path) -> str:
        digest = hashlib.sha256()
        with open_regular(path) as stream:
            while block := stream.read(1 << 20):
                digest.update(block)
        return digest.hexdigest()

    def _validate(self, name: str) -> InboundFile:
        if holds_number(name):
            raise IndividualNumberInFile(column="file name")
        if not DATA_NAME.fullmatch(name):
            raise MalformedPensionFile("the file name is not supported", reason=Reason.UNSUPPORTED_NAME)
        try:
            read = self._read_manifest(self.inbound / manifest_name(name))
            with open_regular(self.inbound / name) as stream:
                kind = request_kind(read)
                if kind is None:
                    raise MalformedPensionFile(
                        f"manifest: kind {read.kind} is not accepted in inbound/",
                        reason=Reason.MANIFEST_MISMATCH,
                    )
                manifest: RequestManifest = read  # type: ignore[assignment]  # a request kind, checked above
                if manifest.file_name != name:
                    raise MalformedPensionFile(
                        "manifest: file_name does not name this data file", reason=Reason.MANIFEST_MISMATCH
                    )
                refused = actor_refusal(manifest)
                if refused is not None:
                    raise MalformedPensionFile(f"manifest: {refused}", reason=Reason.ACTOR_NOT_PERMITTED)
                if carries_numbers(name) != bool(kind.number_columns):
                    raise MalformedPensionFile(
                        "manifest: only a dependants_declaration.* file is of kind dependants_declaration",
                        reason=Reason.MANIFEST_MISMATCH,
                    )
                check_integrity(
                    stream, expected_sha256=manifest.sha256, allow_numbers=bool(kind.number_columns)
                )
                self._check_history(name, manifest)
                stream.seek(0)
                runs = kind.runs(
                    iter_rows(
                        stream,
                        columns=kind.columns,
                        parse=kind.parser(manifest),
                        expected_count=manifest.record_count,
                        expected_sha256=manifest.sha256,
                    )
                )
        except IsADirectoryError:
            raise MalformedPensionFile("not a regular file", reason=Reason.NOT_REGULAR_FILE) from None
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # a symbolic link, refused by O_NOFOLLOW
                raise MalformedPensionFile("not a regular file", reason=Reason.NOT_REGULAR_FILE) from None
            raise
        log.info(
            "request file taken",
            extra={"file": name, "batch_id": manifest.batch_id, "records": manifest.record_count},
        )
        return InboundFile(name=name, manifest=manifest, runs=runs)

    def _check_history(self, name: str, manifest: RequestManifest) -> None:
        """Refuse a file that repeats an earlier processed file's name, or its batch id within its kind."""
        for path in self.processed.glob("*" + MANIFEST_SUFFIX):
            try:
                earlier = self._read_manifest(path)
            except (PensionFileProblem, OSError):
                continue
            if earlier.kind != manifest.kind:
                if earlier.file_name == name:
                    raise MalformedPensionFile(
                        "an earlier file had this name", reason=Reason.NAME_ALREADY_USED
                    )
                continue
            # The same data under another batch is a new cycle asking about the same people: fine.
            if earlier == manifest:
                raise MalformedPensionFile(
                    "this exact request was processed before", reason=Reason.ALREADY_PROCESSED
                )
            if earlier.batch_id == manifest.batch_id:
                raise MalformedPensionFile("an earlier file had this batch id", reason=Reason.BATCH_ID_REUSED)
            if earlier.file_name == name:
                raise MalformedPensionFile("an earlier file had this name", reason=Reason.NAME_ALREADY_USED)

    def _delete_published(self, file: InboundFile) -> None:
        """Delete a number-bearing file whose messages are confirmed; keep its manifest in ``processed/``."""
        name, manifest = file.name, manifest_name(file.name)
        data, kept = self.inbound / name, self.processed / manifest
        try:
            if data.exists():
                if self._digest(data) != file.manifest.sha256:
                    raise AcknowledgeRefused(f"inbound/{shown_name(name)} changed after it was taken")
                # The manifest is copied first: a crash after it finds the file already processed (and
                # refuses it again, deleting it); a crash after the deletion settles the manifest by copy.
                if not kept.exists():
                    write_bytes(kept, dump_manifest(file.manifest))
                os.unlink(data)
                fsync_dir(self.inbound)
                log.warning(
                    "number-bearing request file deleted after publishing",
                    extra={
                        "event": "pension.file_deleted",
                        "file": name,
                        "kind": file.manifest.kind,
                        "batch_id": file.manifest.batch_id,
                        "records": file.manifest.record_count,
                        "sha256": file.manifest.sha256,
                    },
                )
            elif not kept.exists():
                raise AcknowledgeRefused(f"inbound/{shown_name(name)} is gone; it was not acknowledged")
            if (self.inbound / manifest).exists():
                os.unlink(self.inbound / manifest)
                fsync_dir(self.inbound)
        except FileNotFoundError as exc:
            raise AcknowledgeRefused(f"inbound/{shown_name(name)} changed after it was taken") from exc
        except OSError as exc:
            raise PensionDirectoryUnavailable(f"cannot delete inbound/{shown_name(name)}") from exc

    def _settle_deleted(self, manifest_file: str) -> bool:
        """A manifest left in ``inbound/`` after its data file was deleted as published: remove it.

        Only when ``processed/`` holds the identical manifest, which :meth:`_delete_published` writes
        before deleting the data file.
        """
        kept = self.processed / manifest_file
        try:
            if not kept.exists() or kept.read_bytes() != (self.inbound / manifest_file).read_bytes():
                return False
            os.unlink(self.inbound / manifest_file)
            fsync_dir(self.inbound)
        except OSError:
            return False
        return True

    # -- outbound --------------------------------------------------------------------------------------

    def publish_outcome(self, name: str, content: bytes, manifest: AnyManifest) -> bool:
        """Write an outcome file and then its manifest to ``outbound/``, idempotently.

        Returns:
            ``True`` if written, ``False`` if the identical complete file was already there.

        Raises:
            OutcomeFileConflict: a complete file of that name exists with other content.
            IndividualNumberInFile: the name or manifest would carry a value with the form of a number.
            PensionDirectoryUnavailable: the directory cannot be written.
        """
        manifest_bytes = dump_manifest(manifest)
        if holds_number(name) or manifest_holds_a_number(manifest_bytes.decode()):
            raise IndividualNumberInFile(column="file name or manifest")
        if manifest.file_name != name or manifest.sha256 != hashlib.sha256(content).hexdigest():
            raise ValueError("the manifest does not describe this content")
        data_path, manifest_path = self.outbound / name, self.outbound / manifest_name(name)
        try:
            if data_path.exists() and manifest_path.exists():
                if data_path.read_bytes() == content and manifest_path.read_bytes() == manifest_bytes:
                    return False
                raise OutcomeFileConflict(
                    f"outbound/{name} exists with other content: a second, different answer for this chunk"
                )
            write_bytes(data_path, content)
            write_bytes(manifest_path, manifest_bytes)
        except OSError as exc:
            raise PensionDirectoryUnavailable(f"cannot write outbound/{name}") from exc
        log.info("outcome file written", extra={"file": name, "records": manifest.record_count})
        return True
