"""The intermediate server adapter: hub messages become request files, network files become hub messages.

:class:`IntermediateServerAdapter` implements :class:`contracts.link.Adapter`. It is stateless: request files
are named after the hub message they were written from, and the message made from a network file takes an
id derived from the file's name, so a redelivered input produces the same output and is deduplicated
downstream. It never logs a number or a code, and its errors name fields and lines only.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any, Final

from adapters.dispatch import Route, Routes, route
from adapters.intermediate_server.errors import IsFileError
from adapters.intermediate_server.mapping import (
    INBOUND_PURPOSES,
    acceptance_records,
    answer_records,
    code_request_rows,
    code_result_payload,
    duplicate_request_rows,
    duplicate_result_payload,
    inbound_message_id,
    notice_payload,
    query_result_payload,
    query_rows_by_provider,
)
from adapters.intermediate_server.names import ANSWERS, COUNTERPART, correlation_of, file_name, parse_name
from adapters.intermediate_server.wire import (
    CODE_REQUEST,
    DUPLICATE_REQUEST,
    LAYOUTS,
    QUERY,
    FileHeader,
    parse,
    write,
)
from contracts.envelope import Envelope, new_envelope
from contracts.link import AdapterOutput, CounterpartFile
from contracts.messages.intermediate_server import (
    IsCodeAcquisitionRequest,
    IsDuplicateRegister,
    IsInfoQueryRequest,
)
from contracts.registry import Decoded, payload_dict
from contracts.sealing import Unsealer

__all__ = ["FROM_HUB", "IntermediateServerAdapter"]

log = logging.getLogger(__name__)
_RESULT_TYPES: Final = {
    "FGR1": "intermediate_server.code_acquisition.result",
    "SKA1": "intermediate_server.info_query.result",
    "SKR1": "intermediate_server.info_query.result",
    "DBR1": "intermediate_server.duplicate.result",
    "TKN1": "intermediate_server.provision.notice",
}


class IntermediateServerAdapter:
    """The adapter of 符号取得, 情報照会, 副本登録 and 情報提供通知.

    Args:
        unsealer: opens numbers the hub sealed for ``intermediate_server`` (code acquisition only).
    """

    name: str = COUNTERPART

    def __init__(self, unsealer: Unsealer) -> None:
        self._unsealer = unsealer

    def from_hub(self, message: Decoded) -> AdapterOutput:
        """Write the request file(s) of a hub message (the message types of :data:`FROM_HUB`).

        Raises:
            UnknownMessageType: a message this adapter does not handle.
            SealError: a sealed number does not open for this message and field.
            IsWireError: a value does not fit the file layout.
        """
        return route(FROM_HUB, self, message)

    def _code_request(self, env: Envelope, request: IsCodeAcquisitionRequest) -> AdapterOutput:
        rows = code_request_rows(env.message_id, request, self._unsealer)
        header = FileHeader("FGQ1", env.message_id, request.batch_id)
        file = (file_name("FGQ1", env.message_id), write(CODE_REQUEST, header, rows))
        return _to_network(env, [file], len(request.records))

    def _info_query(self, env: Envelope, query: IsInfoQueryRequest) -> AdapterOutput:
        files = []
        for provider, query_rows in sorted(query_rows_by_provider(query).items()):
            header = FileHeader("SKQ1", env.message_id, query.batch_id, provider)
            files.append((file_name("SKQ1", env.message_id, provider), write(QUERY, header, query_rows)))
        return _to_network(env, files, len(query.records))

    def _duplicate_register(self, env: Envelope, register: IsDuplicateRegister) -> AdapterOutput:
        header = FileHeader("DBQ1", env.message_id, register.batch_id)
        content = write(DUPLICATE_REQUEST, header, duplicate_request_rows(register))
        return _to_network(env, [(file_name("DBQ1", env.message_id), content)], len(register.records))

    def from_counterpart(self, file: CounterpartFile) -> AdapterOutput:
        """Turn a network file into a message for the hub (none for a reception without errors).

        Raises:
            IsFileError: not a network file, or its control line disagrees with its name.
            IsWireError: the file breaks its layout.
            IsMappingError: a record breaks the contract.
        """
        kind, request_id, provider = parse_name(file.name)
        if kind in ANSWERS:
            raise IsFileError("a request file came back from the intermediate server")
        correlation = correlation_of(file)
        header, rows = parse(LAYOUTS[kind], file.content)
        if header.request_id != request_id or header.provider != provider:
            raise IsFileError("the file's control line names another request than its name")
        payload: Any
        if kind == "FGR1":
            payload = code_result_payload(self._batch(header), rows)
        elif kind == "SKA1":
            errors = acceptance_records(provider or "", rows)
            if not errors:
                return AdapterOutput(details={"accepted": len(rows)})
            payload = query_result_payload(errors)
        elif kind == "SKR1":
            payload = query_result_payload(answer_records(rows))
        elif kind == "DBR1":
            payload = duplicate_result_payload(self._batch(header), rows)
        else:
            payload = notice_payload(rows)
        envelope = self._envelope(
            kind, file.name, payload, correlation, None if kind == "TKN1" else request_id
        )
        log.info(
            "intermediate server file read message_id=%s kind=%s records=%d",
            envelope.message_id,
            kind,
            len(rows),
        )
        return AdapterOutput(to_hub=(envelope,), completed_records=len(rows), details={kind: len(rows)})

    @staticmethod
    def _batch(header: FileHeader) -> str:
        if header.batch_id is None:
            raise IsFileError("the file's control line names no batch")
        return header.batch_id

    @staticmethod
    def _envelope(
        kind: str, name: str, payload: Any, correlation: uuid.UUID, cause: uuid.UUID | None
    ) -> Envelope:
        return new_envelope(
            message_type=_RESULT_TYPES[kind],
            schema_version=1,
            source=COUNTERPART,
            destination="hub",
            purpose=INBOUND_PURPOSES[kind],
            payload=payload_dict(payload),
            correlation_id=correlation,
            causation_id=cause,
            message_id=inbound_message_id(name),
        )


FROM_HUB: Final[Routes[IntermediateServerAdapter]] = {
    ("intermediate_server.code_acquisition.request", 1): Route(
        IsCodeAcquisitionRequest, IntermediateServerAdapter._code_request
    ),
    ("intermediate_server.info_query.request", 1): Route(
        IsInfoQueryRequest, IntermediateServerAdapter._info_query
    ),
    ("intermediate_server.duplicate.register", 1): Route(
        IsDuplicateRegister, IntermediateServerAdapter._duplicate_register
    ),
}
"""The dispatch table: each message type the hub sends to the intermediate server, and its handler."""


def _to_network(env: Envelope, written: list[tuple[str, bytes]], records: int) -> AdapterOutput:
    """The request files written from one hub message, for the intermediate server link."""
    correlation = str(env.correlation_id)
    files = tuple(
        CounterpartFile(counterpart=COUNTERPART, name=name, content=content, correlation_id=correlation)
        for name, content in written
    )
    log.info(
        "intermediate server request written message_id=%s type=%s files=%d records=%d",
        env.message_id,
        env.message_type,
        len(files),
        records,
    )
    return AdapterOutput(to_counterpart=files, details={"requested_records": records})
