"""The intermediate server adapter: hub messages become request files, network files become hub messages.

:class:`IntermediateServerAdapter` implements :class:`contracts.link.Adapter`. It is stateless: request files
are named after the hub message they were written from, and the message made from a network file takes an
id derived from the file's name, so a redelivered input produces the same output and is deduplicated
downstream. It never logs a number or a code, and its errors name fields and lines only.
"""

from __future__ import annotations

import uuid
from typing import Final, TypeVar

from pydantic import BaseModel

from adapters.dispatch import Receivers, Route, Routes, receive, route
from adapters.files import files_written, message_for_hub, message_read
from adapters.intermediate_server import wire
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
from adapters.intermediate_server.names import COUNTERPART, FileName, correlation_of, file_name, parse_name
from adapters.intermediate_server.wire import CODE_REQUEST, DUPLICATE_REQUEST, QUERY, FileHeader, parse, write
from contracts.envelope import Envelope
from contracts.link import AdapterOutput, CounterpartFile
from contracts.messages.intermediate_server import (
    IsCodeAcquisitionRequest,
    IsDuplicateRegister,
    IsInfoQueryRequest,
)
from contracts.registry import Decoded
from contracts.sealing import Unsealer

__all__ = ["FROM_COUNTERPART", "FROM_HUB", "IntermediateServerAdapter"]

Row = TypeVar("Row")
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
    file_error = IsFileError
    not_received = "a request file came back from the intermediate server"

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

        Handles the file kinds of :data:`FROM_COUNTERPART`.

        Raises:
            IsFileError: not a network file, or its control line disagrees with its name.
            IsWireError: the file breaks its layout.
            IsMappingError: a record breaks the contract.
        """
        name = parse_name(file.name)
        return receive(FROM_COUNTERPART, self, file, name.kind, name)

    def _code_result(self, file: CounterpartFile, name: FileName) -> AdapterOutput:
        correlation, header, rows = _read(file, name, wire.CODE_RESULT)
        return _to_hub(file, name, code_result_payload(_batch(header), rows), correlation, len(rows))

    def _acceptance(self, file: CounterpartFile, name: FileName) -> AdapterOutput:
        correlation, _, rows = _read(file, name, wire.ACCEPTANCE)
        errors = acceptance_records(name.provider or "", rows)
        if not errors:
            return AdapterOutput(details={"accepted": len(rows)})
        return _to_hub(file, name, query_result_payload(errors), correlation, len(rows))

    def _answers(self, file: CounterpartFile, name: FileName) -> AdapterOutput:
        correlation, _, rows = _read(file, name, wire.ANSWER)
        return _to_hub(file, name, query_result_payload(answer_records(rows)), correlation, len(rows))

    def _duplicate_result(self, file: CounterpartFile, name: FileName) -> AdapterOutput:
        correlation, header, rows = _read(file, name, wire.DUPLICATE_RESULT)
        payload = duplicate_result_payload(_batch(header), rows)
        return _to_hub(file, name, payload, correlation, len(rows))

    def _provision_notice(self, file: CounterpartFile, name: FileName) -> AdapterOutput:
        correlation, _, rows = _read(file, name, wire.NOTICE)
        return _to_hub(file, name, notice_payload(rows), correlation, len(rows), caused=False)


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

FROM_COUNTERPART: Final[Receivers[IntermediateServerAdapter, FileName]] = {
    "FGR1": IntermediateServerAdapter._code_result,
    "SKA1": IntermediateServerAdapter._acceptance,
    "SKR1": IntermediateServerAdapter._answers,
    "DBR1": IntermediateServerAdapter._duplicate_result,
    "TKN1": IntermediateServerAdapter._provision_notice,
}
"""The files the network sends (:data:`~adapters.intermediate_server.names.INBOUND`), by kind, and their
handlers."""


def _read(
    file: CounterpartFile, name: FileName, layout: wire.Layout[Row]
) -> tuple[uuid.UUID, FileHeader, list[Row]]:
    """The correlation id, control line and rows of a network file of ``layout`` that answers its name.

    Raises:
        IsFileError: the file is not from the network's link, or its control line names another request.
        IsWireError: the file breaks its layout.
    """
    correlation = correlation_of(file)
    header, rows = parse(layout, file.content)
    if header.request_id != name.request_id or header.provider != name.provider:
        raise IsFileError("the file's control line names another request than its name")
    return correlation, header, rows


def _batch(header: FileHeader) -> str:
    if header.batch_id is None:
        raise IsFileError("the file's control line names no batch")
    return header.batch_id


def _to_hub(
    file: CounterpartFile,
    name: FileName,
    payload: BaseModel,
    correlation: uuid.UUID,
    records: int,
    *,
    caused: bool = True,
) -> AdapterOutput:
    """The message made from a network file, its id derived from the file's name (redeliveries drop).

    ``caused``: the file answers a request of ours (a provision notice does not).
    """
    envelope = message_for_hub(
        COUNTERPART,
        (_RESULT_TYPES[name.kind], 1),
        INBOUND_PURPOSES[name.kind],
        payload,
        correlation_id=correlation,
        causation_id=name.request_id if caused else None,
        message_id=inbound_message_id(file.name),
    )
    return message_read(envelope, records=records, details={name.kind: records})


def _to_network(env: Envelope, written: list[tuple[str, bytes]], records: int) -> AdapterOutput:
    """The request files written from one hub message, for the intermediate server link."""
    return files_written(COUNTERPART, env, written, {"requested_records": records})
