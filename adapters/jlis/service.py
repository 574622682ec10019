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

import logging
import uuid
from collections import Counter
from typing import Final

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
    correlation_of,
    flow_of,
    request_file_name,
    request_id_of,
)
from adapters.jlis.wire import parse_result, write_request
from contracts.envelope import new_envelope
from contracts.errors import UnknownMessageType
from contracts.link import AdapterOutput, CounterpartFile
from contracts.messages.jlis_acquisition import JlisNumberAcquisitionQuery
from contracts.messages.survival import JlisSurvivalChangeInquiry
from contracts.registry import Decoded, payload_dict
from contracts.sealing import Sealer, Unsealer

__all__ = ["JlisAdapter"]

log = logging.getLogger(__name__)
_NAME: Final = "jlis"


class JlisAdapter:
    """The J-LIS adapter of the survival/change inquiry (生存異動照会).

    Args:
        unsealer: opens numbers the hub sealed for ``jlis``.
        sealer: seals new numbers for the hub.
    """

    name: str = _NAME

    def __init__(self, unsealer: Unsealer, sealer: Sealer) -> None:
        self._unsealer = unsealer
        self._sealer = sealer

    def from_hub(self, message: Decoded) -> AdapterOutput:
        """Write the request file of an inquiry, or the query file of a number acquisition query.

        Handles ``jlis.survival_change.inquiry`` v1 and ``jlis.number_acquisition.query`` v1.

        Raises:
            UnknownMessageType: any other message type or version.
            JlisPurposeRefused: the inquiry's purpose has no J-LIS purpose code.
            SealError: a sealed number does not open for this message and field.
        """
        env = message.envelope
        inquiry = message.payload
        if (env.message_type, env.schema_version) == mapping_acquisition.QUERY_TYPE and isinstance(
            inquiry, JlisNumberAcquisitionQuery
        ):
            return self._query_file(message, inquiry)
        if (env.message_type, env.schema_version) != INQUIRY_TYPE or not isinstance(
            inquiry, JlisSurvivalChangeInquiry
        ):
            raise UnknownMessageType(
                f"the J-LIS adapter does not handle {env.message_type} v{env.schema_version}"
            )
        request = request_from_inquiry(env.message_id, env.purpose.code, inquiry, self._unsealer)
        file = CounterpartFile(
            counterpart=COUNTERPART,
            name=request_file_name(env.message_id),
            content=write_request(request),
            correlation_id=str(env.correlation_id),
        )
        log.info(
            "jlis request file written message_id=%s correlation_id=%s records=%d",
            env.message_id,
            env.correlation_id,
            len(request.records),
        )
        return AdapterOutput(to_counterpart=(file,), details={"requested_records": len(request.records)})

    def from_counterpart(self, file: CounterpartFile) -> AdapterOutput:
        """Turn a result file into a ``jlis.survival_change.result`` or ``number_acquisition.result`` message.

        Raises:
            JlisFileError: not a J-LIS result file, or its header answers another request.
            JlisWireError: the file breaks the layout.
            JlisMappingError: a record breaks the contract.
        """
        request_id = request_id_of(file.name, "result")
        correlation_id = correlation_of(file)
        if flow_of(file.name) == "acquisition":
            return self._acquisition_result(file, request_id, correlation_id)
        result = parse_result(file.content)
        if result.header.request_id != request_id:
            raise JlisFileError("the result file's header answers another request than its name")
        message_id = result_message_id(file.name)
        payload = result_payload(result, message_id, self._sealer)
        envelope = new_envelope(
            message_type=RESULT_TYPE[0],
            schema_version=RESULT_TYPE[1],
            source="jlis",
            destination="hub",
            purpose=JLIS_PURPOSE,
            payload=payload_dict(payload),
            correlation_id=correlation_id,
            causation_id=request_id,
            message_id=message_id,
        )
        outcomes = Counter(r.outcome.value for r in result.records)
        log.info(
            "jlis result file read message_id=%s correlation_id=%s records=%d fee_units=%d",
            message_id,
            correlation_id,
            len(result.records),
            result.fee_units,
        )
        return AdapterOutput(
            to_hub=(envelope,),
            completed_records=len(result.records),
            details={**outcomes, "fee_units": result.fee_units},
        )

    def _query_file(self, message: Decoded, query: JlisNumberAcquisitionQuery) -> AdapterOutput:
        env = message.envelope
        file_ = mapping_acquisition.query_file_from_message(env.message_id, env.purpose.code, query)
        file = CounterpartFile(
            counterpart=COUNTERPART,
            name=request_file_name(env.message_id, "acquisition"),
            content=wire_acquisition.write_query(file_),
            correlation_id=str(env.correlation_id),
        )
        log.info(
            "jlis acquisition query file written message_id=%s correlation_id=%s records=%d",
            env.message_id,
            env.correlation_id,
            len(file_.records),
        )
        return AdapterOutput(to_counterpart=(file,), details={"queried_records": len(file_.records)})

    def _acquisition_result(
        self, file: CounterpartFile, request_id: uuid.UUID, correlation_id: uuid.UUID
    ) -> AdapterOutput:
        result = wire_acquisition.parse_result(file.content)
        if result.header.request_id != request_id:
            raise JlisFileError("the result file's header answers another query than its name")
        message_id = result_message_id(file.name)
        payload = mapping_acquisition.acquisition_result_payload(result, message_id, self._sealer)
        envelope = new_envelope(
            message_type=mapping_acquisition.RESULT_TYPE[0],
            schema_version=mapping_acquisition.RESULT_TYPE[1],
            source="jlis",
            destination="hub",
            purpose=mapping_acquisition.ACQUISITION_PURPOSE,
            payload=payload_dict(payload),
            correlation_id=correlation_id,
            causation_id=request_id,
            message_id=message_id,
        )
        statuses = Counter(r.match_status.value for r in payload.records)
        log.info(
            "jlis acquisition result file read message_id=%s correlation_id=%s records=%d fee_units=%d",
            message_id,
            correlation_id,
            len(payload.records),
            result.fee_units,
        )
        return AdapterOutput(
            to_hub=(envelope,),
            completed_records=len(payload.records),
            details={**statuses, "fee_units": result.fee_units},
        )
