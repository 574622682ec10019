"""The bad-input corpus through the running services: refused with reasons, no crash, nothing lost.

One deployment (hub, J-LIS, pension, intermediate server and eLTAX adapters, J-LIS simulator, each its own
process) meets every case of the corpus (:mod:`tests.corpus.ingress`, :mod:`tests.corpus.links`,
:mod:`tests.corpus.pension`), with valid messages and files published between them. Afterwards:

* every ingress and link case is in the dead-letter store with the reason its case names (never a crash
  or the delivery limit), and every refused request file has a rejection report with its reason;
* every valid neighbour completed: its people have exactly one outcome each;
* a message id published twice is handled once; odd but plain names reach the outcome file verbatim;
* every process still runs, none logged a crash, and no number reached the access record or the
  dead-letter store in clear.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pika
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from adapters.jlis import result_message_id
from contracts.errors import BrokerUnavailable
from contracts.ids import new_id
from contracts.individual_number import synthetic_individual_number
from contracts.redaction import find_numbers
from contracts.usage_number import UsageNumber, UsageNumberKind
from hub.core.flows.survival import JLIS_REF_SCOPE
from hub.infra.broker.credentials import url_user
from hub.infra.crypto.sealing import HpkeSealer
from hub.ports.dead_letters import DeadLetter, DeadLetterQuery
from hub.settings import RetrySettings
from tests.corpus.builders import survival_request_envelope
from tests.corpus.ingress import CASE_HEADER, TEXT_NAMES, IngressCase, ingress_cases, result_envelope
from tests.corpus.links import LinkCase, eltax_cases, intermediate_server_cases, jlis_cases, link_body
from tests.corpus.pension import PensionCase, duplicate_cases, pension_cases, valid_request, write_case
from tests.faults._broker import PrivateBroker
from tests.faults.conftest import delete_topology, fault_settings
from tests.faults.harness import Deployment

pytestmark = [pytest.mark.rabbitmq, pytest.mark.e2e, pytest.mark.slow]

RECORDS = 300
SERVICES = ("hub", "jlis", "pension", "simulator", "intermediate_server", "eltax")
NEVER = {"crash", "delivery_limit", "unknown"}
"""Reasons that mean a consumer crashed on the case rather than refusing it."""


@pytest.fixture
def corpus_deployment(fault_broker: PrivateBroker, tmp_path: Path) -> Iterator[Deployment]:
    # On the suite's own broker: the corpus publishes some 50 MB of bad input in a minute, which other
    # tests sharing a broker with it should not have to wait behind.
    settings = fault_settings(
        fault_broker,
        tmp_path / "var",
        chunk_records=50,
        retry=RetrySettings(max_attempts=3, delays_ms=(200, 500, 1_000), delivery_limit=20),
    )
    d = Deployment(settings, RECORDS, tmp_path / "logs", services=SERVICES)
    try:
        d.prepare()
        yield d
    finally:
        d.close()
        with contextlib.suppress(BrokerUnavailable):
            delete_topology(fault_broker.url, settings)


class Publisher:
    """Publishes with confirms on a connection of the test's own."""

    def __init__(self, url: str) -> None:
        self._user = url_user(url)  # stamped as user_id, as every renkei transport does (Validated User-ID)
        self._connection = pika.BlockingConnection(pika.URLParameters(url))
        self._channel = self._connection.channel()
        self._channel.confirm_delivery()

    def publish(
        self,
        exchange: str,
        routing_key: str,
        body: bytes,
        *,
        case: str,
        message_id: str | None,
        message_type: str | None,
        correlation_id: str | None = None,
    ) -> None:
        props = pika.BasicProperties(
            delivery_mode=2,
            message_id=message_id,
            type=message_type,
            correlation_id=correlation_id,
            headers={CASE_HEADER: case},
            user_id=self._user,
        )
        self._channel.basic_publish(exchange, routing_key, body, props, mandatory=True)

    def close(self) -> None:
        self._connection.close()


def _usage(i: int) -> str:
    return f"P{i:010d}"


def _known_refs(d: Deployment, usage: list[str]) -> list[str]:
    """The J-LIS reference tokens of enrolled people (as the hub gives them in its inquiries)."""
    with d.hub.uow_factory()() as uow:
        numbers = [UsageNumber(kind=UsageNumberKind.PENSION_CERTIFICATE, value=v) for v in usage]
        subjects = uow.vault.subjects_by_usage(numbers)
        tokens = uow.vault.tokens(JLIS_REF_SCOPE, [subjects[n] for n in numbers])
        uow.commit()
    return [tokens[subjects[n]] for n in numbers]


def _dead_letters(d: Deployment, by_message_id: dict[str, str]) -> dict[str, DeadLetter]:
    """Dead letters by corpus case: by the case header, or by message id for cases that are dead-lettered
    after an adapter made a new message of them (which carries no header of the case's)."""
    found: dict[str, DeadLetter] = {}
    with d.hub.uow_factory()() as uow:
        after = 0
        for _ in range(100):  # bounded paging
            page = uow.dead_letters.find(DeadLetterQuery(statuses=(), after_id=after, limit=200))
            if not page:
                break
            for letter in page:
                case = letter.headers.get(CASE_HEADER)
                if not isinstance(case, str):
                    case = by_message_id.get(letter.message_id or "")
                if isinstance(case, str):
                    found[case] = letter
            after = page[-1].id
    return found


def _reports(d: Deployment) -> dict[str, list[dict[str, object]]]:
    """Rejection reports by the digest of the refused file's name (a name may be refused twice)."""
    rejected = d.settings.wire_dir / "pension" / "rejected"
    reports: dict[str, list[dict[str, object]]] = {}
    for path in rejected.glob("*.report.json"):
        report = json.loads(path.read_text(encoding="utf-8"))
        reports.setdefault(str(report["name_digest"]), []).append(report)
    return reports


def _digest(name: str) -> str:
    from adapters.pension.names import name_digest

    return name_digest(name)


@pytest.mark.timeout(300)
def test_every_bad_input_is_refused_with_its_reason_and_every_valid_neighbour_completes(corpus_deployment):
    d = corpus_deployment
    d.start()
    names = d.hub.names
    usage = [_usage(i) for i in range(RECORDS)]
    refs = _known_refs(d, usage[:4])
    sealer = HpkeSealer(d.hub.keyring.sealing_for())
    number = synthetic_individual_number()

    def seal(message_id: uuid.UUID, recipient: str, field: str) -> str:
        return sealer.seal(number, recipient=recipient, message_id=message_id, field=field)

    ingress = list(ingress_cases(usage[:3], refs, seal))
    correlation = str(new_id())
    links = [
        *jlis_cases(correlation, refs),
        *intermediate_server_cases(correlation),
        *eltax_cases(correlation),
    ]
    files = list(pension_cases(usage))
    valid_batches: dict[str, int] = {}  # batch id -> people it asks about

    # -- the pension exchange: bad files with valid ones between them (taken in name order) -----------
    pension = d.hub.pension_system()  # the pension system's side (it makes the directories)
    inbound = pension.inbound
    for i, case in enumerate(files):
        write_case(inbound, case)
        if i % 8 == 4:
            batch = f"valid-file-{i}"
            name = f"{case.name[:3]}-zz-{batch}.csv"
            people = usage[10 + i : 14 + i]
            data, manifest = valid_request(name, batch, people)
            write_case(inbound, PensionCase(batch, name, data, manifest, frozenset()))
            valid_batches[batch] = len(people)

    # -- the hub's ingress and the counterpart links ----------------------------------------------------
    publisher = Publisher(d.settings.amqp_url)
    try:
        for i, sent in enumerate(ingress):
            publisher.publish(
                names.ingress_exchange,
                "hub",
                sent.body,
                case=sent.id,
                message_id=sent.message_id,
                message_type=sent.message_type,
                correlation_id=sent.correlation_id,
            )
            if i % 8 == 4:
                batch = f"valid-ingress-{i}"
                people = usage[100 + i : 103 + i]
                envelope = survival_request_envelope(batch_id=batch, usage_values=people)
                publisher.publish(
                    names.ingress_exchange,
                    "hub",
                    json.dumps(envelope).encode(),
                    case=batch,
                    message_id=envelope["message_id"],
                    message_type=envelope["message_type"],
                )
                valid_batches[batch] = len(people)
        # A message id twice with the same body, then once more with another body: handled once.
        twice = survival_request_envelope(batch_id="dup-first", usage_values=usage[200:203])
        other = survival_request_envelope(batch_id="dup-other", usage_values=usage[203:206])
        other["message_id"] = twice["message_id"]
        for body, tag in ((twice, "dup-1"), (twice, "dup-2"), (other, "dup-3")):
            publisher.publish(
                names.ingress_exchange,
                "hub",
                json.dumps(body).encode(),
                case=tag,
                message_id=twice["message_id"],
                message_type="pension.survival_inquiry.requested",
            )
        valid_batches["dup-first"] = 3
        # Odd but plain names (SQL, markup, a path): carried as text into the outcome file.
        for i, name in enumerate(TEXT_NAMES):
            record = {"record_seq": 1, "ref": refs[1], "outcome": "name_changed", "new_name": name}
            envelope = result_envelope(refs=refs[1:2], batch_id=f"names-{i}", records=[record])
            publisher.publish(
                names.ingress_exchange,
                "hub",
                json.dumps(envelope, ensure_ascii=False).encode(),
                case=f"names-{i}",
                message_id=envelope["message_id"],
                message_type=envelope["message_type"],
            )
        for link in links:
            publisher.publish(
                names.counterpart_exchange,
                names.counterpart_routing_key(link.counterpart, "inbound"),
                link_body(d.hub, link),
                case=link.id,
                message_id=str(new_id()),
                message_type=f"{link.counterpart}.file",
                correlation_id=correlation,
            )
    finally:
        publisher.close()
    d.note(f"published {len(ingress)} ingress, {len(links)} link and {len(files)} file cases")

    # -- wait (bounded) until everything is settled ------------------------------------------------------
    expected_letters = {c.id for c in ingress} | {c.id for c in links}
    later = {  # well-formed J-LIS files the hub refuses: found by the message id their adapter gives them
        str(result_message_id(c.file.name)): c.id
        for c in links
        if c.file and c.reasons == {"validation_failed"}
    }

    missing: list[str] = []

    def settled() -> bool:
        letters, reports = _dead_letters(d, later), _reports(d)
        missing[:] = [f"no dead letter for {c}" for c in sorted(expected_letters - set(letters))]
        missing.extend(f"no report for {c.id}" for c in files if _digest(c.name) not in reports)
        batches = {**valid_batches, **{f"names-{i}": 1 for i in range(len(TEXT_NAMES))}}
        missing.extend(f"{b} incomplete" for b, n in batches.items() if pension.completed(b) < n)
        return not missing

    try:
        d.wait_until(settled, "every case settled and every valid neighbour completed", 200, poll_s=1.0)
    except AssertionError as exc:
        raise AssertionError(f"still missing: {missing[:20]}") from exc

    # -- files that repeat a processed one, one at a time ------------------------------------------------
    first_valid = sorted(inbound.parent.glob("processed/c*-zz-valid-file-*.csv"))[0].name
    batch = first_valid.split("-zz-")[1].removesuffix(".csv")
    people = usage[10 + int(batch.rsplit("-", 1)[1]) : 14 + int(batch.rsplit("-", 1)[1])]
    for case in duplicate_cases(first_valid, batch, people):
        before = len(_reports(d).get(_digest(case.name), []))
        write_case(inbound, case)
        d.wait_until(
            lambda c=case, n=before: len(_reports(d).get(_digest(c.name), [])) > n, f"report of {case.id}", 60
        )
        files.append(case)
    d.note("duplicates of a processed file refused")

    letters, reports = _dead_letters(d, later), _reports(d)
    problems: list[str] = []
    lettered: list[IngressCase | LinkCase] = [*ingress, *links]
    for bad in lettered:
        failure = letters[bad.id].failure
        if failure.reason_code not in bad.reasons or failure.reason_code in NEVER or not failure.reason_text:
            problems.append(f"{bad.id}: {failure.reason_code} ({failure.stage}: {failure.reason_text})")
    for case in files:
        mine = [r for r in reports[_digest(case.name)] if r["reason"] in case.reasons]
        if not mine or not all(r["problem"] and r["action"] for r in mine):
            problems.append(f"{case.id}: reports say {[r['reason'] for r in reports[_digest(case.name)]]}")
    assert not problems, "\n".join(problems)

    # Valid neighbours: exactly one outcome per person asked.
    for batch_id, asked in valid_batches.items():
        rows = pension.read_outcomes(batch_id)
        assert len(rows) == asked == len({r.record_seq for r in rows}), batch_id
    assert pension.read_outcomes("dup-other") == [], "a second body under a handled id was not handled"
    assert d.log_count("hub", "duplicate delivery skipped") >= 2
    for i, name in enumerate(TEXT_NAMES):
        [row] = pension.read_outcomes(f"names-{i}")
        assert row.new_name == name
    # Nothing crashed, every process still runs.
    for service in d.services.values():
        assert service.alive(), f"{service.name}\n{d.diagnosis()}"
        assert service.generation == 1, service.name
    crashes = sum(d.log_count(s, e) for s in SERVICES for e in ("handler crashed", "crashed; the delivery"))
    assert crashes == 0, d.diagnosis()
    _assert_no_number_in_clear(d, [number.reveal(), *(c.secret for c in ingress if c.secret)])
    d.note(f"{len(ingress) + len(links) + len(files)} cases refused with their reasons")
    print("\n".join(d.events))


_SCANNED = {
    "access_records": ("message_id", "correlation_id", "message_type", "reason", "details", "purpose"),
    "dead_letters": (
        "message_key",
        "message_id",
        "correlation_id",
        "message_type",
        "reason_text",
        "headers",
        "body",
    ),
    "outbox": ("message_id", "correlation_id", "body"),
}
"""Columns holding what producers sent (hashes and digests elsewhere may hold number-like runs by chance)."""


def _assert_no_number_in_clear(d: Deployment, secrets: list[str]) -> None:
    """No Individual Number in the access record, the dead-letter store or the outbox, in clear."""
    engine = create_engine(d.settings.database_url, poolclass=NullPool)
    found: list[str] = []
    try:
        with engine.connect() as conn:
            for table, columns in _SCANNED.items():
                query = text(f"SELECT {', '.join(columns)} FROM {table}")
                for row in conn.execute(query):
                    for column, value in zip(columns, row, strict=True):
                        shown = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
                        if isinstance(shown, str) and (
                            any(s in shown for s in secrets) or find_numbers(shown)
                        ):
                            found.append(f"{table}.{column}")
    finally:
        engine.dispose()
    assert not found, f"a number in clear in {sorted(set(found))}"
