"""The simulated J-LIS: answers survival/change request files from a synthetic population.

:class:`JlisSimulator` implements :class:`contracts.link.Simulator` (and the counterpart side of
:mod:`adapters.jlis.names`). It reads a request file, asks :class:`~adapters.jlis.population.
SyntheticPopulation` what to answer for each number, and writes the paired result file. It keeps no
per-person state, only two counters; the answers are deterministic, so a redelivered request gets the same
result file, byte for byte. A number outside the population is answered ``not_found`` with reason
``number_unknown``: the simulator never makes up a person.

Like the real network, it charges per queried record (情報提供手数料): ``fee_units_per_record`` for every
record of every request handled, redeliveries included, counted in :attr:`JlisSimulator.fee_units` and
written in the result header.

It also answers number acquisition queries by 基本4情報 (``JLIS-NAQ1-*`` files) from a
:class:`~adapters.jlis.register.NewEntitlementRegister`: unique matches, several candidates on three-item
queries (namesakes of the other sex), and records without a 住民票コード (answered ``none``). The query has
its own fee per record (``fee_units_per_acquisition``), counted in :attr:`JlisSimulator.acquisition_fee_units`
and in the total :attr:`JlisSimulator.fee_units`.

Not modelled yet (later issues): error/acknowledgement files for malformed requests (a malformed request
raises :class:`~adapters.jlis.errors.JlisWireError` here).
"""

from __future__ import annotations

import uuid
from dataclasses import fields
from typing import Final

from adapters.jlis import wire_acquisition
from adapters.jlis.errors import JlisFileError
from adapters.jlis.names import COUNTERPART, correlation_of, flow_of, request_id_of, result_file_name
from adapters.jlis.population import PersonOutcome, SyntheticPopulation
from adapters.jlis.register import NewEntitlementRegister
from adapters.jlis.simulator_acquisition import answer_query
from adapters.jlis.wire import OutcomeFacts, ResultFile, ResultRecord, parse_request, write_result
from contracts.link import CounterpartFile

__all__ = ["JlisSimulator", "result_record"]

_NAME: Final = "jlis"
_FACTS: Final = tuple(f.name for f in fields(OutcomeFacts))


def result_record(record_seq: int, ref: str, outcome: PersonOutcome) -> ResultRecord:
    """The result file's data record of one answer: its outcome and every fact of it."""
    facts = {name: getattr(outcome, name) for name in _FACTS}
    return ResultRecord(record_seq=record_seq, ref=ref, outcome=outcome.outcome, **facts)


class JlisSimulator:
    """A simulated J-LIS answering from ``population`` (and, for number acquisition, ``register``).

    Args:
        population: the synthetic people J-LIS knows by number (survival/change inquiry).
        register: the people J-LIS finds by 4情報 (number acquisition); without it nobody is found.
        fee_units_per_record: the fee charged per record of a survival/change inquiry.
        fee_units_per_acquisition: the fee charged per record of a number acquisition query.

    Attributes:
        fee_units: fee units charged so far, over every request handled (both kinds).
        acquisition_fee_units: of which for number acquisition queries.
        records_answered: records answered so far (both kinds).
        acquisition_records_answered: of which number acquisition query records.
    """

    __slots__ = (
        "acquisition_fee_units",
        "acquisition_records_answered",
        "fee_units",
        "fee_units_per_acquisition",
        "fee_units_per_record",
        "name",
        "population",
        "records_answered",
        "register",
    )

    def __init__(
        self,
        population: SyntheticPopulation,
        *,
        register: NewEntitlementRegister | None = None,
        fee_units_per_record: int = 1,
        fee_units_per_acquisition: int = 1,
    ) -> None:
        if fee_units_per_record < 0 or fee_units_per_acquisition < 0:
            raise ValueError("a fee is not negative")
        self.name: str = _NAME
        self.population = population
        self.register = register
        self.fee_units_per_record = fee_units_per_record
        self.fee_units_per_acquisition = fee_units_per_acquisition
        self.fee_units = 0
        self.records_answered = 0
        self.acquisition_fee_units = 0
        self.acquisition_records_answered = 0

    def handle(self, file: CounterpartFile) -> list[CounterpartFile]:
        """Answer one request file with its result file.

        Raises:
            JlisFileError: the file is not a J-LIS request file.
            JlisWireError: the request breaks the layout.
        """
        request_id = request_id_of(file.name, "request")
        correlation_of(file)
        if flow_of(file.name) == "acquisition":
            return [self._answer_acquisition(file, request_id)]
        request = parse_request(file.content)
        if request.header.request_id != request_id:
            raise JlisFileError("the request file's header names another request than its name")
        cycle = request.header.cycle
        answers = self.population.answers((r.individual_number for r in request.records), cycle)
        records = tuple(
            result_record(r.record_seq, r.ref, outcome)
            for r, outcome in zip(request.records, answers, strict=True)
        )
        fee = self.fee_units_per_record * len(records)
        self.fee_units += fee
        self.records_answered += len(records)
        content = write_result(ResultFile(request.header, fee, records))
        return [
            CounterpartFile(
                counterpart=COUNTERPART,
                name=result_file_name(request_id),
                content=content,
                correlation_id=file.correlation_id,
            )
        ]

    def _answer_acquisition(self, file: CounterpartFile, request_id: uuid.UUID) -> CounterpartFile:
        query = wire_acquisition.parse_query(file.content)
        if query.header.request_id != request_id:
            raise JlisFileError("the query file's header names another request than its name")
        fee = self.fee_units_per_acquisition * len(query.records)
        result = answer_query(self.register, query, fee)
        self.fee_units += fee
        self.acquisition_fee_units += fee
        self.records_answered += len(query.records)
        self.acquisition_records_answered += len(query.records)
        return CounterpartFile(
            counterpart=COUNTERPART,
            name=result_file_name(request_id, "acquisition"),
            content=wire_acquisition.write_result(result),
            correlation_id=file.correlation_id,
        )
