"""The simulated intermediate server: the network and several municipalities, answering by code.

:class:`IntermediateServerSimulator` implements :class:`contracts.link.Simulator` and the counterpart side of
:mod:`adapters.intermediate_server.names`:

* 符号取得: issues the federation's code of a person (a keyed function of the number; the number itself is
  not kept) and registers it under the 宛名番号; one person in ``code_failure_every`` fails.
* 情報照会: answers by code. At reception it refuses, with the network's own errors, a 宛名番号 without
  a code (``符号が未取得``), a record id already used, and a query its permission table does not allow; a
  municipality that is down refuses the whole file (:class:`~adapters.intermediate_server.errors.
  ProviderUnavailable`, retried later by the link). Accepted queries are answered when the municipality's
  ``delay_ticks`` have passed (late answers); one query in ``no_data_every`` finds nothing.
* 副本登録: inserts, updates and deletes 副本 records (``レコード識別番号が既に存在`` on a repeated insert),
  and for every ``notice_every``-th insert serves another institution and notices it ``notice_delay_ticks``
  later (情報提供通知).

Time is counted in ticks (:meth:`IntermediateServerSimulator.tick`), so runs are deterministic and bounded:
the demo ticks a few times a second. A redelivered request file gets the same immediate answer back.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter, OrderedDict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final, TypeVar

from adapters.intermediate_server._municipal import (
    DEMO_MUNICIPALITIES,
    DEMO_PERMISSIONS,
    LOCAL_TAX_SPI,
    REQUESTERS,
    Municipality,
    Permission,
    Requester,
    Synthetic,
)
from adapters.intermediate_server._state import NetworkState
from adapters.intermediate_server.errors import IsFileError, ProviderUnavailable
from adapters.intermediate_server.names import COUNTERPART, correlation_of, file_name, parse_name
from adapters.intermediate_server.wire import (
    ACCEPTANCE,
    ACCEPTED,
    ANSWER,
    CODE_REQUEST,
    CODE_RESULT,
    DETAIL_NORMAL_END,
    DUPLICATE_REQUEST,
    DUPLICATE_RESULT,
    NOTICE,
    QUERY,
    REGISTERED,
    SPI_NO_DATA,
    SPI_NORMAL,
    AcceptanceRow,
    AnswerRow,
    CodeResultRow,
    DuplicateRequestRow,
    DuplicateResultRow,
    FileHeader,
    Layout,
    NoticeRow,
    QueryRow,
    parse,
    write,
)
from contracts.ids import stable_id
from contracts.link import CounterpartFile
from contracts.messages.intermediate_server import DuplicateOperation, IsError

__all__ = ["MESSAGES", "IntermediateServerSimulator"]

_NAMESPACE: Final = uuid.UUID("1c7d2e94-5a3b-5f60-8d21-73696d756c61")
_CACHE: Final = 10_000
R = TypeVar("R")
MESSAGES: Final = {
    IsError.CODE_NOT_ACQUIRED: "指定された団体内統合宛名番号「{atena}」は符号が未取得です。",
    IsError.DUPLICATE_RECORD_ID: "「レコード識別番号」が既に存在しています。",
    IsError.QUERY_NOT_PERMITTED: "指定された特定個人情報名「{spi}」の照会は許可されていません。",
    IsError.RECORD_NOT_FOUND: "指定された「レコード識別番号」は存在しません。",
}
"""The network's error messages; the first three as quoted from public municipal code (domain.md §2.3)."""
_FULL_WIDTH: Final = {c: c + 0xFEE0 for c in range(ord("0"), ord("Z") + 1) if chr(c).isalnum()}
"""ASCII digits and capitals to their full-width forms, as the network writes a code in a message."""
_CODE_FAILED: Final = "取得番号による符号の取得ができませんでした。"


def _message(error: IsError, **values: str) -> str:
    return MESSAGES[error].format(**values)


class IntermediateServerSimulator:
    """A simulated 中間サーバー / 情報提供ネットワークシステム.

    Args:
        seed: makes codes and answers deterministic.
        municipalities: the providers on the network.
        permissions: what the federation may ask a municipality (the network's own permission table).
        state_file: where registrations are kept across restarts (``None``: memory only).
        code_failure_every: one person in this many gets no code (0: never).
        no_data_every: one query in this many finds no data (0: never).
        notice_every: every this-many-th accepted 副本 insert is served to another institution (0: never).
        notice_delay_ticks: ticks between a served 副本 insert and its provision notice.

    Attributes:
        files_received: request files handled (redeliveries and outages included).
        queries_received: query records that reached the network (outages included).
        refusals: errors returned, by kind.
        codes_issued: codes registered.
        answers_made: answers made (released at once, or held for later).
        notices_made: provision notices made (all held for later).
        late_released: files released by :meth:`tick` after they were held (late answers, notices).
    """

    name: str = COUNTERPART

    def __init__(
        self,
        *,
        seed: int = 0,
        municipalities: Iterable[Municipality] = DEMO_MUNICIPALITIES,
        permissions: Iterable[Permission] = DEMO_PERMISSIONS,
        requesters: Iterable[Requester] = REQUESTERS,
        state_file: Path | None = None,
        code_failure_every: int = 50,
        no_data_every: int = 20,
        notice_every: int = 1,
        notice_delay_ticks: int = 1,
        today: date | None = None,
    ) -> None:
        self._synthetic = Synthetic(seed)
        self.municipalities = {m.code: m for m in municipalities}
        self.permissions = tuple(permissions)
        self.requesters = tuple(requesters) or REQUESTERS
        self._state = NetworkState.load(state_file)
        self._every = {"code": code_failure_every, "no_data": no_data_every, "notice": notice_every}
        self._notice_delay = notice_delay_ticks
        self._today = today
        self._lock = threading.Lock()
        self._clock = 0
        self._held: list[tuple[int, CounterpartFile]] = []
        self._released: OrderedDict[str, CounterpartFile] = OrderedDict()
        self._answered: OrderedDict[str, list[CounterpartFile]] = OrderedDict()
        self._deliveries: Counter[str] = Counter()
        self._inserts = 0
        self.files_received = 0
        self.queries_received = 0
        self.refusals: Counter[IsError] = Counter()
        self.codes_issued = 0
        self.answers_made = 0
        self.notices_made = 0
        self.late_released = 0

    # -- the link ----------------------------------------------------------------------------------------

    def handle(self, file: CounterpartFile) -> list[CounterpartFile]:
        """Answer one request file at once (late answers come from :meth:`tick`).

        Raises:
            IsFileError: not a request file of this network.
            IsWireError: the file breaks its layout.
            ProviderUnavailable: the municipality asked is down (the link retries the file later).
        """
        kind, request_id, provider = parse_name(file.name)
        correlation_of(file)
        with self._lock:
            self.files_received += 1
            if file.name in self._answered:
                return list(self._answered[file.name])
            if kind == "FGQ1":
                answers = self._codes(file, request_id)
            elif kind == "SKQ1" and provider is not None:
                answers = self._queries(file, request_id, provider)
            elif kind == "DBQ1":
                answers = self._duplicates(file, request_id)
            else:
                raise IsFileError("only request files go to the intermediate server")
            self._state.flush()
            self._answered[file.name] = answers
            while len(self._answered) > _CACHE:
                self._answered.popitem(last=False)
            return list(answers)

    def tick(self) -> list[CounterpartFile]:
        """Let one tick pass; return every released file not yet confirmed (oldest first)."""
        with self._lock:
            self._clock += 1
            due = [f for at, f in self._held if at <= self._clock]
            self._held = [(at, f) for at, f in self._held if at > self._clock]
            self.late_released += len(due)
            for released in due:
                self._released[released.name] = released
            return list(self._released.values())

    def confirm(self, names: Sequence[str]) -> None:
        """These released files were carried to the adapter."""
        with self._lock:
            for name in names:
                self._released.pop(name, None)

    def forget_codes(self) -> None:
        """Lose every code registration, as a network restored without its registrations would."""
        with self._lock:
            self._state.forget_codes()
            self._state.flush()

    @property
    def held(self) -> int:
        """Files held for later release."""
        with self._lock:
            return len(self._held) + len(self._released)

    # -- 符号取得 ------------------------------------------------------------------------------------------

    def _codes(self, file: CounterpartFile, request_id: uuid.UUID) -> list[CounterpartFile]:
        header, rows = parse(CODE_REQUEST, file.content)
        results = []
        for row in rows:
            code = self._synthetic.code(row.individual_number)
            every = self._every["code"]
            taken = self._state.codes.get(row.atena_no)
            if (every and self._synthetic.draw("fail", code) % every == 0) or taken not in (None, code):
                results.append(CodeResultRow(row.record_seq, row.atena_no, False, None, _CODE_FAILED))
                continue
            self._state.register_code(row.atena_no, code)
            self.codes_issued += 1
            results.append(CodeResultRow(row.record_seq, row.atena_no, True, code, None))
        return [_reply(CODE_RESULT, results, file, request_id, batch_id=header.batch_id)]

    # -- 情報照会 ------------------------------------------------------------------------------------------

    def _refusal(self, row: QueryRow) -> IsError | None:
        if self._state.codes.get(row.atena_no) != row.code:
            return IsError.CODE_NOT_ACQUIRED
        if row.record_id in self._state.query_ids:
            return IsError.DUPLICATE_RECORD_ID
        allowed = row.provider_org_code in self.municipalities and any(
            p.allows(row.jimu_code, row.current_item, row.current_article, row.legacy_item, row.spi_code)
            for p in self.permissions
        )
        return None if allowed else IsError.QUERY_NOT_PERMITTED

    def _queries(self, file: CounterpartFile, request_id: uuid.UUID, provider: str) -> list[CounterpartFile]:
        header, rows = parse(QUERY, file.content)
        self.queries_received += len(rows)
        municipality = self.municipalities.get(provider)
        if municipality is not None and municipality.outage_deliveries:
            self._deliveries[file.name] += 1
            if self._deliveries[file.name] <= municipality.outage_deliveries:
                self.refusals[IsError.PROVIDER_UNAVAILABLE] += 1
                raise ProviderUnavailable(f"情報提供者「{provider}」の中間サーバーに接続できません。")
            del self._deliveries[file.name]
        acceptance, answers = [], []
        for row in rows:
            error = self._refusal(row)
            if error is None:
                self._state.accept_query(row.record_id)
                acceptance.append(AcceptanceRow(row.record_id, ACCEPTED))
                answers.append(self._answer(row, municipality))
                continue
            self.refusals[error] += 1
            text = _message(error, atena=row.atena_no, spi=row.spi_code.translate(_FULL_WIDTH))
            acceptance.append(AcceptanceRow(row.record_id, error, text))
        out = [_reply(ACCEPTANCE, acceptance, file, request_id, batch_id=header.batch_id, provider=provider)]
        if answers and municipality is not None:
            answer = _reply(ANSWER, answers, file, request_id, batch_id=header.batch_id, provider=provider)
            self.answers_made += len(answers)
            if municipality.delay_ticks == 0:
                out.append(answer)
            else:
                self._held.append((self._clock + municipality.delay_ticks, answer))
        return out

    def _answer(self, row: QueryRow, municipality: Municipality | None) -> AnswerRow:
        assert municipality is not None  # a query to an unknown provider is refused before
        now = datetime.now(UTC).replace(microsecond=0)
        base: dict[str, Any] = {
            "atena_no": row.atena_no,
            "record_id": row.record_id,
            "provider_org_code": municipality.code,
            "provider_name": municipality.name,
            "detail_status": DETAIL_NORMAL_END,
            "provided_at": now,
        }
        every = self._every["no_data"]
        if every and self._synthetic.draw("no_data", row.code, municipality.code, row.spi_code) % every == 0:
            return AnswerRow(**base, spi_status=SPI_NO_DATA, message="該当する特定個人情報が存在しません。")
        if row.spi_code == LOCAL_TAX_SPI:
            year = row.tax_year or self._synthetic.default_tax_year(self._today or date.today())
            tax = self._synthetic.tax(row.code, municipality.code, year)
            return AnswerRow(
                **base,
                spi_status=SPI_NORMAL,
                tax_year=year,
                taxable=tax.taxable,
                per_capita_levy=tax.per_capita_levy,
                income_levy=tax.income_levy,
            )
        household = self._synthetic.household(row.code, municipality.code)
        return AnswerRow(
            **base,
            spi_status=SPI_NORMAL,
            household_head=household.household_head,
            relationship=household.relationship,
            household_size=household.household_size,
        )

    # -- 副本登録 and 情報提供 -----------------------------------------------------------------------------

    def _duplicate_error(self, row: DuplicateRequestRow) -> IsError | None:
        if row.atena_no not in self._state.codes:
            return IsError.CODE_NOT_ACQUIRED
        held = row.record_id in self._state.duplicates
        if row.operation is DuplicateOperation.INSERT and held:
            return IsError.DUPLICATE_RECORD_ID
        if row.operation is not DuplicateOperation.INSERT and not held:
            return IsError.RECORD_NOT_FOUND
        return None

    def _duplicates(self, file: CounterpartFile, request_id: uuid.UUID) -> list[CounterpartFile]:
        header, rows = parse(DUPLICATE_REQUEST, file.content)
        results, notices = [], []
        for row in rows:
            error = self._duplicate_error(row)
            if error is not None:
                self.refusals[error] += 1
                text = _message(error, atena=row.atena_no, spi=row.spi_code)
                results.append(
                    DuplicateResultRow(
                        row.record_seq, row.record_id, row.atena_no, row.operation, error, text
                    )
                )
                continue
            if row.operation is DuplicateOperation.DELETE:
                self._state.drop_duplicate(row.record_id)
            else:
                self._state.hold_duplicate(row.record_id, row.atena_no)
            if row.operation is DuplicateOperation.INSERT:
                self._inserts += 1
                every = self._every["notice"]
                if every and self._inserts % every == 0:
                    notices.append(self._notice(row))
            results.append(
                DuplicateResultRow(row.record_seq, row.record_id, row.atena_no, row.operation, REGISTERED)
            )
        out = [_reply(DUPLICATE_RESULT, results, file, request_id, batch_id=header.batch_id)]
        if notices:
            notice = _reply(NOTICE, notices, file, stable_id(_NAMESPACE, file.name))
            self._held.append((self._clock + self._notice_delay, notice))
            self.notices_made += len(notices)
        return out

    def _notice(self, row: DuplicateRequestRow) -> NoticeRow:
        chosen = self._synthetic.draw("requester", row.record_id) % len(self.requesters)
        requester = self.requesters[chosen]
        now = datetime.now(UTC).replace(microsecond=0)
        return NoticeRow(
            provision_id=stable_id(_NAMESPACE, f"provision/{row.record_id}").hex.upper(),
            record_id=row.record_id,
            atena_no=row.atena_no,
            requester_org_code=requester.org_code,
            requester_name=requester.name,
            spi_code=row.spi_code,
            jimu_name=requester.jimu_name,
            current_item=requester.current_item,
            current_article=requester.current_article,
            legacy_item=requester.legacy_item,
            requested_at=now,
            provided_at=now,
        )


def _reply(
    layout: Layout[R],
    rows: list[R],
    request: CounterpartFile,
    request_id: uuid.UUID,
    *,
    batch_id: str | None = None,
    provider: str | None = None,
) -> CounterpartFile:
    """A file of ``layout`` that the network sends about ``request``, carrying the request's correlation id.

    Its name and its control line agree on kind, request (a provision notice's own id), batch and provider.
    """
    name = file_name(layout.kind, request_id, provider)
    content = write(layout, FileHeader(layout.kind, request_id, batch_id, provider), rows)
    return CounterpartFile(COUNTERPART, name, content, request.correlation_id)
