"""The J-LIS adapter: inquiries from the hub become request files, result files become result messages.

Two exchanges share it: the survival/change inquiry (生存異動照会, by number) and number acquisition by
基本4情報 (個人番号の取得照会, by 4情報; :mod:`adapters.jlis.mapping_acquisition`). The message type picks
the exchange on the way out, the file name on the way back.

:class:`JlisAdapter` implements :class:`contracts.link.Adapter`. It is stateless: the request file is named
after the inquiry's message id and the result message id is derived from the result file's name, so a
redelivered input produces the same output and is deduplicated downstream. It never logs a number, and its
errors name fields and records only.
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Final

from pydantic import BaseModel

from adapters.dispatch import Receivers, Route, Routes, receive, route
from adapters.files import files_written, message_for_hub, message_read
from adapters.jlis import mapping_acquisition, wire_acquisition
from adapters.jlis.errors import JlisFileError
from adapters.jlis.mapping import (
    INQUIRY_TYPE,
    JLIS_PURPOSE,
    RESULT_TYPE,
    request_from_inquiry,
    result_message_id,
    result_payload,
)
from adapters.jlis.names import (
    COUNTERPART,
    FileFlow,
    FileName,
    correlation_of,
    parse_name,
    request_file_name,
)
from adapters.jlis.wire import parse_result, write_request
from contracts.envelope import Envelope, Purpose
from contracts.link import AdapterOutput, CounterpartFile
from contracts.messages.jlis_acquisition import JlisNumberAcquisitionQuery
from contracts.messages.survival import JlisSurvivalChangeInquiry
from contracts.registry import Decoded
from contracts.sealing import Sealer, Unsealer

__all__ = ["FROM_COUNTERPART", "FROM_HUB", "JlisAdapter"]


class JlisAdapter:
    """The J-LIS adapter of the survival/change inquiry (生存異動照会) and of number acquisition.

    Args:
        unsealer: opens numbers the hub sealed for ``jlis``.
        sealer: seals new numbers for the hub.
    """

    name: str = COUNTERPART
    file_error = JlisFileError
    not_received = "not a J-LIS result file name"

    def __init__(self, unsealer: Unsealer, sealer: Sealer) -> None:
        self._unsealer = unsealer
        self._sealer = sealer

    def from_hub(self, message: Decoded) -> AdapterOutput:
        """Write the request file of an inquiry, or the query file of a number acquisition query.

        Handles the message types of :data:`FROM_HUB`.

        Raises:
            UnknownMessageType: any other message type or version.
            JlisPurposeRefused: the inquiry's purpose has no J-LIS purpose code.
            SealError: a sealed number does not open for this message and field.
        """
        return route(FROM_HUB, self, message)

    def _request_file(self, env: Envelope, inquiry: JlisSurvivalChangeInquiry) -> AdapterOutput:
        request = request_from_inquiry(env.message_id, env.purpose.code, inquiry, self._unsealer)
        return _to_jlis(env, "survival", write_request(request), len(request.records))

    def _query_file(self, env: Envelope, query: JlisNumberAcquisitionQuery) -> AdapterOutput:
        file_ = mapping_acquisition.query_file_from_message(env.message_id, env.purpose.code, query)
        return _to_jlis(env, "acquisition", wire_acquisition.write_query(file_), len(file_.records))

    def from_counterpart(self, file: CounterpartFile) -> AdapterOutput:
        """Turn a result file into a ``jlis.survival_change.result`` or ``number_acquisition.result`` message.

        Handles the file kinds of :data:`FROM_COUNTERPART`.

        Raises:
            JlisFileError: not a J-LIS result file, or its header answers another request.
            JlisWireError: the file breaks the layout.
            JlisMappingError: a record breaks the contract.
        """
        name = parse_name(file.name, "result")
        return receive(FROM_COUNTERPART, self, file, name.code, name)

    def _survival_result(self, file: CounterpartFile, name: FileName) -> AdapterOutput:
        correlation_id = correlation_of(file)
        result = parse_result(file.content)
        _check_answers(result.header.request_id, name.request_id, "request")
        message_id = result_message_id(file.name)
        payload = result_payload(result, message_id, self._sealer)
        counts = Counter(r.outcome.value for r in result.records)
        return _to_hub(
            (RESULT_TYPE, JLIS_PURPOSE),
            payload,
            correlation_id=correlation_id,
            request_id=name.request_id,
            message_id=message_id,
            counts=counts,
            fee_units=result.fee_units,
        )

    def _acquisition_result(self, file: CounterpartFile, name: FileName) -> AdapterOutput:
        correlation_id = correlation_of(file)
        acquisition = wire_acquisition.parse_result(file.content)
        _check_answers(acquisition.header.request_id, name.request_id, "query")
        message_id = result_message_id(file.name)
        answers = mapping_acquisition.acquisition_result_payload(acquisition, message_id, self._sealer)
        counts = Counter(r.match_status.value for r in answers.records)
        return _to_hub(
            (mapping_acquisition.RESULT_TYPE, mapping_acquisition.ACQUISITION_PURPOSE),
            answers,
            correlation_id=correlation_id,
            request_id=name.request_id,
            message_id=message_id,
            counts=counts,
            fee_units=acquisition.fee_units,
        )


FROM_HUB: Final[Routes[JlisAdapter]] = {
    INQUIRY_TYPE: Route(JlisSurvivalChangeInquiry, JlisAdapter._request_file),
    mapping_acquisition.QUERY_TYPE: Route(JlisNumberAcquisitionQuery, JlisAdapter._query_file),
}
"""The dispatch table: each message type the hub sends to J-LIS, and its handler."""

FROM_COUNTERPART: Final[Receivers[JlisAdapter, FileName]] = {
    "SVR1": JlisAdapter._survival_result,
    "NAR1": JlisAdapter._acquisition_result,
}
"""The files J-LIS sends (:data:`~adapters.jlis.names.INBOUND`), by kind, and their handlers."""

_DETAIL: Final[dict[FileFlow, str]] = {"survival": "requested_records", "acquisition": "queried_records"}


def _to_jlis(env: Envelope, flow: FileFlow, content: bytes, records: int) -> AdapterOutput:
    """The request (or query) file of one hub message, named after the message."""
    written = [(request_file_name(env.message_id, flow), content)]
    return files_written(COUNTERPART, env, written, {_DETAIL[flow]: records})


def _check_answers(answered: uuid.UUID, request_id: uuid.UUID, what: str) -> None:
    if answered != request_id:
        raise JlisFileError(f"the result file's header answers another {what} than its name")


def _to_hub(
    answer: tuple[tuple[str, int], Purpose],
    payload: BaseModel,
    *,
    correlation_id: uuid.UUID,
    request_id: uuid.UUID,
    message_id: uuid.UUID,
    counts: Counter[str],
    fee_units: int,
) -> AdapterOutput:
    """The result message made from a result file (its type and purpose, its payload), with its counts."""
    message_type, purpose = answer
    envelope = message_for_hub(
        COUNTERPART,
        message_type,
        purpose,
        payload,
        correlation_id=correlation_id,
        causation_id=request_id,
        message_id=message_id,
    )
    return message_read(envelope, records=sum(counts.values()), details={**counts, "fee_units": fee_units})
