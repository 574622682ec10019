"""The pension adapter: request files in, ``pension.survival_inquiry.requested`` out; outcomes back as files.

The pension benefit system (年金給付システム) never sees an Individual Number and is not on the broker: its
link is the exchange directory. The host polls (:class:`contracts.link.PollingAdapter`)::

    while (polled := adapter.poll()) is not None:
        publish(polled.output.to_hub)          # with confirms
        adapter.acknowledge(polled.source)     # after the confirms

Every request kind comes this way (:data:`adapters.pension.kinds.REQUEST_KINDS`): survival inquiries,
number acquisition requests, dependants' declarations, whose Individual Numbers the adapter seals for the
hub at once with the :class:`~contracts.sealing.Sealer` it is given, tax reports and notices, and the
intermediate server's requests. The first three's answers go back as CSV outcome files, the others' as JSON
message files.

A file becomes chunks of ``chunk_records`` records, one message each; a kind that keeps a person's rows
together (the 副本 changes) cuts its chunks at person boundaries only. A large file is handed out in slices
of whole chunks, so that memory stays bounded whatever the file's size; the file moves to ``processed/``
when its last slice is acknowledged. Until then a slice that was polled and not acknowledged is handed out
again, identical. A crash anywhere re-reads the file from the start and publishes the same messages again
with the same ids, which the hub's inbox drops.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any, Final

from pydantic import BaseModel

from adapters.dispatch import Route, Routes, route
from adapters.pension.directory import ExchangeDirectory, InboundFile, Rejection
from adapters.pension.errors import AcknowledgeRefused, DirectoryLinkOnly, MalformedPensionFile, Reason
from adapters.pension.kinds import OUTCOME_WRITERS, OutcomeWriter
from adapters.pension.messages import HUB_MESSAGE_TYPES, write_message_file
from contracts.envelope import Envelope
from contracts.errors import ConfigurationError, ValidationFailed
from contracts.link import AdapterOutput, CounterpartFile, Polled
from contracts.messages.survival import MAX_RECORDS
from contracts.registry import Decoded
from contracts.sealing import Sealer

__all__ = ["FROM_HUB", "PensionAdapter"]

log = logging.getLogger(__name__)

_MAX_REJECTIONS_PER_POLL: Final = 100
"""Bad files refused in one :meth:`PensionAdapter.poll` before it gives the rest to the next poll."""


@dataclass(slots=True)
class _Cursor:
    """Where the adapter is in the file it is handing out."""

    file: InboundFile
    rows: Generator[Any, None, None]
    """The file's rows, read lazily and kept open between slices."""
    sizes: Sequence[int]
    """The rows of each chunk (:meth:`~adapters.pension.directory.InboundFile.chunk_sizes`)."""
    next_chunk: int = 0
    pending: Polled | None = None
    rejected: int = 0

    @property
    def chunk_count(self) -> int:
        """The file's chunks."""
        return len(self.sizes)


class PensionAdapter:
    """The adapter between renkei and the pension benefit system's exchange directory.

    Args:
        directory: the exchange directory (:class:`~adapters.pension.directory.ExchangeDirectory`).
        chunk_records: records per ``pension.survival_inquiry.requested`` message (1 to 50,000).
        max_records_per_poll: records handed out by one :meth:`poll` (rounded down to whole chunks, at
            least one chunk): bounds the memory a large file takes.
        sealer: seals the numbers of dependants' declarations for the hub (without it such a file cannot
            be handed out).

    Raises:
        ConfigurationError: ``chunk_records`` or ``max_records_per_poll`` is out of range.
    """

    name: str = "pension"

    def __init__(
        self,
        directory: ExchangeDirectory,
        *,
        chunk_records: int,
        max_records_per_poll: int = 50_000,
        sealer: Sealer | None = None,
    ) -> None:
        if not 1 <= chunk_records <= MAX_RECORDS:
            raise ConfigurationError(f"chunk_records must be between 1 and {MAX_RECORDS}")
        if max_records_per_poll < 1:
            raise ConfigurationError("max_records_per_poll must be positive")
        self.directory = directory
        self._sealer = sealer
        self.chunk_records = chunk_records
        self._chunks_per_poll = max(1, max_records_per_poll // chunk_records)
        self._cursor: _Cursor | None = None
        self.recent_rejections: deque[Rejection] = deque(maxlen=100)
        """The latest files refused by :meth:`poll` (their reports are in ``rejected/``)."""

    # -- pension system -> hub -------------------------------------------------------------------------

    def poll(self) -> Polled | None:
        """The next slice of the current request file, or of the next complete one; ``None`` if none.

        Invalid files met on the way are moved to ``rejected/`` with a report and skipped.

        Raises:
            PensionDirectoryUnavailable: the directory cannot be read (retry later).
            MalformedPensionFile: the file changed while it was being handed out (it is refused at the
                next poll).
        """
        if self._cursor is not None and self._cursor.pending is not None:
            return self._cursor.pending
        try:
            cursor = self._cursor or self._open_next()
            if cursor is None:
                return None
            self._cursor = cursor
            return self._next_slice(cursor)
        except BaseException:
            self._drop_cursor()
            raise

    def acknowledge(self, source: str) -> None:
        """The slice ``source`` is published and confirmed; after the last slice, file to ``processed/``.

        Raises:
            AcknowledgeRefused: ``source`` is not the slice last polled, or the file changed meanwhile.
            PensionDirectoryUnavailable: the file cannot be moved (acknowledge again later).
        """
        cursor = self._cursor
        if cursor is None or cursor.pending is None or cursor.pending.source != source:
            raise AcknowledgeRefused("the acknowledged source is not the slice last polled")
        if cursor.next_chunk < cursor.chunk_count:
            cursor.pending = None
            return
        try:
            self.directory.mark_processed(cursor.file)
        except AcknowledgeRefused:
            self._drop_cursor()
            raise
        self._drop_cursor()

    def _drop_cursor(self) -> None:
        """Forget the current file (closing it); the next poll looks at the directory afresh."""
        if self._cursor is not None:
            self._cursor.rows.close()
            self._cursor = None

    def _open_next(self) -> _Cursor | None:
        rejected = 0
        for _ in range(_MAX_REJECTIONS_PER_POLL):
            taken = self.directory.take_next()
            if taken is None:
                return None
            if isinstance(taken, Rejection):
                self.recent_rejections.append(taken)
                rejected += 1
                continue
            sizes = taken.chunk_sizes(self.chunk_records)
            return _Cursor(file=taken, rows=self.directory.rows(taken), sizes=sizes, rejected=rejected)
        return None

    def _next_slice(self, cursor: _Cursor) -> Polled:
        rows = cursor.rows
        first = cursor.next_chunk
        envelopes = tuple(
            cursor.file.kind.envelopes(
                cursor.file.manifest,
                rows,
                chunk_records=self.chunk_records,
                sizes=cursor.sizes,
                first_chunk=first,
                max_chunks=self._chunks_per_poll,
                sealer=self._sealer,
            )
        )
        cursor.next_chunk = first + len(envelopes)
        if cursor.next_chunk >= cursor.chunk_count:
            # Exhaust the rows so that the end-of-file checks (count, checksum) run before the last slice
            # is handed out: a file changed since it was taken is never acknowledged.
            for _row in rows:
                pass
        elif not envelopes:
            raise MalformedPensionFile(
                "the file ended early: it changed after it was taken", reason=Reason.CHECKSUM_MISMATCH
            )
        records = sum(len(env.payload["records"]) for env in envelopes)
        last = cursor.next_chunk - 1
        source = f"{cursor.file.name}#chunks={first}-{last}/{cursor.chunk_count}"
        cursor.pending = Polled(
            output=AdapterOutput(
                to_hub=envelopes,
                details={"records": records, "chunks": len(envelopes), "rejected_files": cursor.rejected},
            ),
            source=source,
        )
        cursor.rejected = 0
        log.info(
            "request slice ready",
            extra={"file": cursor.file.name, "first_chunk": first, "last_chunk": last, "records": records},
        )
        return cursor.pending

    # -- hub -> pension system -------------------------------------------------------------------------

    def from_hub(self, message: Decoded) -> AdapterOutput:
        """Write a hub message for the pension system, idempotently (the message types of :data:`FROM_HUB`).

        Answers with a CSV format (survival/change outcomes, number acquisition outcomes, dependants'
        declaration acknowledgements) are written as outcome files by their writers in
        :data:`~adapters.pension.kinds.OUTCOME_WRITERS`; the intermediate server's and eLTAX's answers
        (:data:`~adapters.pension.messages.HUB_MESSAGE_TYPES`) as one JSON file per message
        (:mod:`adapters.pension.messages`).

        Raises:
            UnknownMessageType: any other message.
            ValidationFailed: the message is not addressed to the pension system.
            OutcomeFileConflict: a different outcome file for the same chunk already exists.
            IndividualNumberInFile: an outcome would carry a value with the form of an Individual Number.
            PensionDirectoryUnavailable: the outbound directory cannot be written (retry later).
        """
        return route(FROM_HUB, self, message)

    def from_counterpart(self, file: CounterpartFile) -> AdapterOutput:
        """Never used: the pension system's link is the exchange directory, read by :meth:`poll`.

        This is why the pension adapter, alone of the four, declares no ``FROM_COUNTERPART`` table
        (:mod:`adapters.dispatch`): no file of its counterpart ever comes over a line. Its request files
        are read from ``inbound/`` and go one way, by the kind their manifest names (not their file name):
        :data:`~adapters.pension.kinds.REQUEST_KINDS` is that table, from the kind to its row parser and the
        builder of its messages, and a manifest of any other kind is refused to ``rejected/`` with a report.

        Raises:
            DirectoryLinkOnly: always.
        """
        raise DirectoryLinkOnly(
            "the pension system exchanges files through its directory, not the broker; use poll()"
        )

    def _write_outcome(self, env: Envelope, payload: BaseModel, write: OutcomeWriter) -> AdapterOutput:
        """Write one outcome file of a kind of :data:`~adapters.pension.kinds.OUTCOME_WRITERS`."""
        _check_addressed(env)
        name, content, manifest = write(payload, env.actor)
        written = self.directory.publish_outcome(name, content, manifest)
        return AdapterOutput(
            completed_records=manifest.record_count,
            details={"outcome_files_written": int(written), "outcome_files_unchanged": int(not written)},
        )

    def _message_file(self, env: Envelope, payload: BaseModel) -> AdapterOutput:
        """Write a message without a CSV format as its JSON file (:mod:`adapters.pension.messages`)."""
        _check_addressed(env)
        return write_message_file(self.directory.outbound, Decoded(env, payload))


def _check_addressed(env: Envelope) -> None:
    if env.destination != "pension":
        raise ValidationFailed(f"the message is addressed to {env.destination}, not to pension")


def _outcome(write: OutcomeWriter) -> Callable[[PensionAdapter, Envelope, BaseModel], AdapterOutput]:
    def handle(adapter: PensionAdapter, env: Envelope, payload: BaseModel) -> AdapterOutput:
        return adapter._write_outcome(env, payload, write)

    return handle


FROM_HUB: Final[Routes[PensionAdapter]] = {
    **{key: Route(payload, _outcome(write)) for key, (payload, write) in OUTCOME_WRITERS.items()},
    **{key: Route(BaseModel, PensionAdapter._message_file) for key in sorted(HUB_MESSAGE_TYPES)},
}
"""The dispatch table: each message type the hub sends to the pension system, and its handler."""
