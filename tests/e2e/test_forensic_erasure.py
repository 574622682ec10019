"""Erased means unrecoverable with every key and byte the deployment keeps: a forensic examination.

People are enrolled with known synthetic numbers and every demo flow runs, so that their numbers are sealed
for J-LIS, the intermediate server, eLTAX and the hub; some messages are dead-lettered, some numbers held
for an operator; the KEK is rotated and every data key re-wrapped (``renkei keys rotate``, ``rewrap``: old
wrapped keys go to free pages and the WAL; the old KEK is kept, not retired). Then half of the people are
made due and ``renkei retention run`` runs with the operator's keyring. An examiner
(:mod:`tests.e2e.forensic`) holding every keyring file the deployment keeps (every service's, loaded through
the project's own loader: KEKs, blind-index and token keys, the recipients' HPKE private keys, link keys,
and ``seal_v1`` keys where there are any) then tries to recover each erased number from every byte renkei
keeps: the database file and its WAL byte for byte, every table through SQL, PostgreSQL's relation files
where the test may read them, every file under the data directory (logs, exchange files, simulators'
state), and every message left in the test's queues. Every sealed value found (v1 and v2) and every
wrapped data key is tried with every key.

It must recover none of the erased numbers (nor find an erased person's subject id, from which their
tokens derive), and it must recover every number of the people kept (the examiner works), including a kept
person's number from a sealed v2 value resting in a hold (its HPKE opener works). The figures are printed
on one ``FORENSIC`` line per backend.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import sqlite3
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pika
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Engine, create_engine, inspect, select, text, update
from sqlalchemy.engine import make_url

from adapters.jlis import SyntheticPopulation
from contracts.errors import ValidationFailed
from contracts.individual_number import IndividualNumber, synthetic_individual_number
from contracts.link import CounterpartFile
from contracts.messages.jlis_acquisition import HoldReason
from contracts.sealing import seal_context
from hub.cli import keys
from hub.cli.retention import run_retention, today_in_japan
from hub.core.operator.holds import hold_id_for, seal_for_hold
from hub.core.runtime.retry import dead_letter_message
from hub.demo.data import demo_population
from hub.demo.deployment import LocalDeployment, local_deployment
from hub.demo.runner import run_demo
from hub.infra.broker.topology import ADAPTERS, COUNTERPARTS, renkei_topology
from hub.infra.crypto.blind_index import BlindIndexer
from hub.infra.crypto.link_cipher import AeadLinkCipher
from hub.infra.crypto.sealing import HpkeSealer
from hub.infra.db.engine import make_engine
from hub.infra.db.scratch import drop_database
from hub.infra.db.tables.vault import numbers, subject_keys, subjects
from hub.infra.keys.keyring import KeyKind, KeyName, Keyring, generate_keyring, keyring_from_v1_json
from hub.infra.keys.keyring_files import deployment_keyring
from hub.infra.keys.needs import cut
from hub.infra.service_names import SERVICE_NAMES
from hub.ports.holds import HeldCandidate, Hold, HoldFlow, QueriedInfo
from hub.ports.transport import Delivery
from hub.ports.vault import SubjectId
from hub.settings import BrokerIdentity, BrokerSettings, RetrySettings, Settings
from tests._amqp import Got, get
from tests._availability import unavailable
from tests.e2e.conftest import amqp_url, delete_prefixed
from tests.e2e.forensic import (
    Examiner,
    Findings,
    VaultBlobs,
    encodings_of,
    keyring_files,
    load_keyrings,
)

pytestmark = [pytest.mark.rabbitmq, pytest.mark.e2e]

RECORDS = 12
"""Pensioners per flow: tens of people in all (pensioners, spouses, dependants, households)."""


# --- the deployment under examination ----------------------------------------------------------------------


@dataclass
class Case:
    settings: Settings
    backend: str
    admin_url: str | None = None
    database: str | None = None


def _settings(tmp_path: Path, db_url: str = "") -> Settings:
    return Settings(
        amqp_url=amqp_url(),
        data_dir=tmp_path / "var",
        db_url=db_url,
        exchange_prefix=f"t{uuid.uuid4().hex[:8]}",
        log_json=True,
        batch_wait_ms=5,
        retry=RetrySettings(max_attempts=3, delays_ms=(200, 500, 1000), delivery_limit=5),
        # Every service as the URL's user: the examination is about what renkei keeps, not who logs in (a
        # set of broker users per test would cost rabbitmqctl calls; test_broker_identity covers them).
        broker=BrokerSettings(identity=BrokerIdentity.SHARED),
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def case(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Case]:
    if request.param == "sqlite":
        found = Case(_settings(tmp_path), "sqlite")
    else:
        admin_url = os.environ.get("RENKEI_TEST_PG_URL", "")
        if not admin_url:
            unavailable("RENKEI_TEST_PG_URL is not set", tests="PostgreSQL tests")
        name = f"renkei_forensic_{uuid.uuid4().hex[:12]}"
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
        found = Case(_settings(tmp_path, url), "postgresql", admin_url, name)
    try:
        yield found
    finally:
        s = found.settings
        topology = renkei_topology(s.exchange_prefix, s.retry)
        queues = [q.name for q in topology.queues] + [f"{s.exchange_prefix}.spy"]
        delete_prefixed(s.amqp_url, s.exchange_prefix, queues, [e.name for e in topology.exchanges])
        if found.admin_url and found.database:
            admin = create_engine(found.admin_url, isolation_level="AUTOCOMMIT")
            drop_database(admin, found.database)
            admin.dispose()


def _bind_spy(settings: Settings) -> str:
    """A queue that receives a copy of every message the hub sends to an adapter or receives."""
    spy = f"{settings.exchange_prefix}.spy"
    p = settings.exchange_prefix
    connection = pika.BlockingConnection(pika.URLParameters(settings.amqp_url))
    try:
        channel = connection.channel()
        channel.queue_declare(spy, durable=True)
        for key in ADAPTERS:
            channel.queue_bind(spy, f"{p}.route", routing_key=key)
        channel.queue_bind(spy, f"{p}.ingress", routing_key="hub")
    finally:
        connection.close()
    return spy


def _drain(url: str, queues: list[str], *, delete: bool = False) -> list[Got]:
    seen: list[Got] = []
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        for queue in queues:
            for _ in range(100_000):  # bounded
                got = get(channel, queue)
                if got is None:
                    break
                seen.append(got)
            if delete:
                channel.queue_delete(queue)
    finally:
        connection.close()
    return seen


def _dead_letter_some(hub: LocalDeployment, captured: list[Got]) -> int:
    """Dead-letter one copy of each kind of message that carried a sealed number, as its consumer would."""
    chosen: dict[tuple[str, str], Got] = {}
    for got in captured:
        if b"sealed:" in got.body:
            chosen.setdefault((got.routing_key, got.properties.type or ""), got)
    assert len(chosen) >= 4, f"too few kinds of sealed messages to dead-letter: {sorted(chosen)}"
    group = hub.hub_services()
    group.start()
    try:
        transport = hub.transport("forensic")
        for got in chosen.values():
            props = got.properties
            delivery = Delivery(
                queue=f"{hub.settings.exchange_prefix}.{got.routing_key}",
                body=got.body,
                message_id=props.message_id,
                message_type=props.type,
                correlation_id=props.correlation_id,
                headers={},
                redelivered=False,
                delivery_tag=0,
                routing_key=got.routing_key,
                exchange=got.exchange,
            )
            error = ValidationFailed("the forensic test refused it")
            transport.publish(
                [dead_letter_message(delivery, error, stage="forensic", exchanges=hub.exchanges)]
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and _stored_dead_letters(hub) < len(chosen):
            time.sleep(0.2)
        assert _stored_dead_letters(hub) >= len(chosen), "the dead letters were not stored"
    finally:
        group.shutdown()
    return len(chosen)


def _stored_dead_letters(hub: LocalDeployment) -> int:
    with hub.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM dead_letters")).scalar_one())


def _hold_some(
    hub: LocalDeployment,
    ring: Keyring,
    holder: SubjectId,
    erased_holder: SubjectId,
    erased: list[str],
    kept: list[str],
) -> None:
    """Hold links for an operator with erased and kept people's numbers among the candidates."""
    sealer = HpkeSealer(ring.sealing_for(("hub",)))
    now = datetime.now(UTC)
    with hub.uow_factory()() as uow:
        usage = uow.vault.usage_of([holder, erased_holder])

    def hold(subject: SubjectId, candidates: list[str], seq: int) -> Hold:
        hold_id = hold_id_for(uuid.uuid4(), seq)
        return Hold(
            hold_id=hold_id,
            flow=HoldFlow.NUMBER_ACQUISITION,
            reason=HoldReason.MULTIPLE_CANDIDATES,
            subject=subject,
            usage_number=usage[subject],
            batch_id="forensic",
            chunk_index=0,
            chunk_count=1,
            total_records=2,
            record_seq=seq,
            correlation_id=str(uuid.uuid4()),
            source_message_id=str(uuid.uuid4()),
            created_at=now,
            queried=QueriedInfo(name="連携\u3000花子", birth_date=None),
            candidates=tuple(
                HeldCandidate(
                    i, seal_for_hold(sealer, IndividualNumber(n), hold_id, i), QueriedInfo(name="候補")
                )
                for i, n in enumerate(candidates, start=1)
            ),
        )

    with hub.uow_factory()() as uow:
        uow.holds.add([hold(holder, [erased[0], kept[0]], 1), hold(erased_holder, [kept[1]], 2)])
        uow.commit()


def _usage_of(hub, subject: str):
    with hub.uow_factory()() as uow:
        return uow.vault.usage_of([subject])[subject]


def _vault_blobs(
    engine: Engine,
    ring: Keyring,
    erased: set[SubjectId],
    numbers_of: dict[SubjectId, set[str]],
    into: VaultBlobs,
) -> None:
    """Note every wrapped key, ciphertext and blind index the vault holds now for the erased people."""
    with engine.connect() as conn:
        for subject, version, kek_id, wrapped in conn.execute(
            select(
                subject_keys.c.subject_id,
                subject_keys.c.dek_version,
                subject_keys.c.kek_id,
                subject_keys.c.wrapped_dek,
            )
        ):
            if subject in erased:
                into.wrapped.setdefault(subject, set()).add((int(version), kek_id, bytes(wrapped)))
        for subject, nonce, ciphertext in conn.execute(
            select(numbers.c.subject_id, numbers.c.nonce, numbers.c.ciphertext)
        ):
            if subject in erased:
                into.ciphertexts.setdefault(subject, set()).add((bytes(nonce), bytes(ciphertext)))
    indexer = BlindIndexer(ring.blind_index)
    for subject in erased:
        for number in numbers_of.get(subject, ()):
            for index in indexer.all_indexes(IndividualNumber(number)).values():
                into.blind[index] = number


# --- the examination ---------------------------------------------------------------------------------------


def _pg_data_dir(conn) -> Path | None:
    given = os.environ.get("RENKEI_TEST_PG_DATA_DIR")
    if given:
        return Path(given)
    major = int(conn.execute(text("SELECT current_setting('server_version_num')")).scalar_one()) // 10_000
    candidate = Path(f"/var/lib/postgresql/{major}/main")
    return candidate if candidate.is_dir() else None


def _examine_postgresql_files(examiner: Examiner, engine, kept_keys: set[bytes]) -> tuple[int, int]:
    """The relation files of every table, index and TOAST table, and of the planner's samples.

    Returns how many files were read, and how many of the kept people's wrapped keys they hold: the files
    must show the vault as it is (a rewrite writes them at once), or reading them would prove nothing.
    """
    with engine.connect() as conn:
        root = _pg_data_dir(conn)
        rows = conn.execute(
            text(
                "SELECT c.relname, pg_relation_filepath(c.oid) FROM pg_class c JOIN pg_namespace n "
                "ON n.oid = c.relnamespace WHERE (n.nspname IN ('public', 'pg_toast') AND c.relkind IN "
                "('r', 'i', 't', 'm')) OR c.relname = 'pg_statistic'"
            )
        ).all()
    if root is None or not os.access(root, os.R_OK | os.X_OK):
        examiner.findings.not_searched.append("PostgreSQL relation files: the data directory is not readable")
        return 0, 0
    files, kept_found = 0, set()
    for name, relative in rows:
        if relative is None:
            continue
        base = root / relative
        for segment in [base, *sorted(base.parent.glob(base.name + ".[0-9]*"))]:
            if segment.exists():
                examiner.search_file(segment, f"relation file of {name}")
                data = segment.read_bytes()
                kept_found |= {k for k in kept_keys if k in data}
                files += 1
    return files, len(kept_found)


def _examine_tables(examiner: Examiner, engine) -> None:
    with engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                values = [
                    bytes(v) if isinstance(v, bytes | bytearray | memoryview) else str(v).encode("utf-8")
                    for v in row
                    if v is not None
                ]
                context = b"\x00".join(values)  # the row's other columns: the message id a value is bound to
                for value in values:
                    examiner.search(value, f"table {table}", context=context)
        examiner.vault_rows(
            [
                (s, int(v), k, bytes(w))
                for s, v, k, w in conn.execute(
                    select(
                        subject_keys.c.subject_id,
                        subject_keys.c.dek_version,
                        subject_keys.c.kek_id,
                        subject_keys.c.wrapped_dek,
                    )
                )
            ],
            [
                (s, bytes(n), bytes(c))
                for s, n, c in conn.execute(
                    select(numbers.c.subject_id, numbers.c.nonce, numbers.c.ciphertext)
                )
            ],
            "the vault's tables, read through SQL with the keyring",
        )


def _examine(
    case: Case, blobs: VaultBlobs, erased: set[str], targets: set[str], kept_keys: set[bytes]
) -> tuple[Findings, dict[str, int]]:
    settings = case.settings
    paths = keyring_files(settings)
    rings, unread = load_keyrings(paths)
    assert not unread, unread
    held = {r.service for r in rings}
    assert set(SERVICE_NAMES) <= held, f"keyrings of {sorted(set(SERVICE_NAMES) - held)} not found"
    examiner = Examiner(rings, targets, blobs=blobs, subject_ids=erased)
    data_dir = settings.data_dir
    for path in sorted(p for p in data_dir.rglob("*") if p.is_file()):
        examiner.search_file(path, str(path.relative_to(data_dir)))  # the SQLite file and WAL among them
    engine = make_engine(settings.database_url)
    files: dict[str, int] = {
        "keyring_files": len(paths),
        "keys_held": len(examiner.keys),
        "key_kinds_held": len(examiner.kinds),
    }
    try:
        _examine_tables(examiner, engine)
        if case.backend == "postgresql":
            read, kept_found = _examine_postgresql_files(examiner, engine, kept_keys)
            files |= {"relation_files": read, "kept_wrapped_keys_in_relation_files": kept_found}
            examiner.findings.not_searched.append(
                "pg_wal and WAL archives: cluster-wide, shared with other databases (see docs/retention.md)"
            )
    finally:
        engine.dispose()
    topology = renkei_topology(settings.exchange_prefix, settings.retry)
    whole = deployment_keyring(settings)
    link = AeadLinkCipher(*(whole.link_keys(c) for c in COUNTERPARTS))
    for left in _drain(settings.amqp_url, [q.name for q in topology.queues]):
        examiner.search(left.body, "a message left in a queue")
        examiner.search(
            json.dumps(left.properties.headers or {}, default=str).encode(), "a queue message's headers"
        )
        with contextlib.suppress(Exception):
            examiner.search(link.open(left.body).content, "a link message, opened")
    return examiner.finish(), files


# --- the test ----------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _held_open(settings: Settings) -> Iterator[None]:
    """An idle connection of another process to the embedded database (nothing for PostgreSQL)."""
    if make_url(settings.database_url).get_backend_name() != "sqlite":
        yield
        return
    keeper = sqlite3.connect(make_url(settings.database_url).database or "")
    try:
        keeper.execute("SELECT count(*) FROM subjects").fetchone()  # opens the WAL, then idles
        yield
    finally:
        keeper.close()


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_erased_numbers_cannot_be_recovered_with_every_key_and_byte_the_deployment_keeps(case: Case) -> None:
    settings = case.settings
    declaring = local_deployment(settings, configure_logs=False)
    declaring.prepare_broker()
    declaring.close()
    spy = _bind_spy(settings)
    report = run_demo(settings, RECORDS, timeout_s=180, console=None)
    assert report.lost == 0, report.as_json()
    captured = _drain(settings.amqp_url, [spy], delete=True)

    hub = local_deployment(settings, configure_logs=False)
    try:
        ring = hub.keyring
        dead_lettered = _dead_letter_some(hub, captured)
        population = demo_population(RECORDS)
        with hub.uow_factory()() as uow:
            everyone = list(uow.connection.execute(select(subjects.c.id)).scalars())
            history = uow.vault.number_history(everyone)
            kept_usage = [population.usage_number(i) for i in range(1, RECORDS, 2)]
            kept = set(uow.vault.subjects_by_usage(kept_usage).values())
        numbers_of = {s: {r.number.reveal() for r in records} for s, records in history.items()}
        erased = {s for s in everyone if s not in kept and numbers_of.get(s)}
        erased_numbers = {n for s in erased for n in numbers_of[s]}
        kept_numbers = {n for s in kept for n in numbers_of.get(s, ())}
        assert erased_numbers.isdisjoint(kept_numbers)
        assert len(erased) >= 20, "tens of people: pensioners, spouses, dependants, households"
        holder = sorted(kept)[0]
        _hold_some(hub, ring, holder, sorted(erased)[0], sorted(erased_numbers), sorted(kept_numbers))
        blobs, kept_blobs = VaultBlobs(), VaultBlobs()
        _vault_blobs(hub.engine, ring, erased, numbers_of, blobs)
    finally:
        hub.close()

    # A key rotation and re-wrap of every data key: the old wrapped keys are left in free pages and the WAL,
    # and the old KEK stays in the keyrings (it is not retired), so the examiner holds both.
    keys.rotate_keys(settings)
    keys.rewrap_keys(settings)
    engine = make_engine(settings.database_url)
    try:
        _vault_blobs(engine, ring, erased, numbers_of, blobs)
        _vault_blobs(engine, ring, kept, numbers_of, kept_blobs)
        with engine.begin() as conn:  # make them due: their retention ended yesterday
            yesterday = today_in_japan() - timedelta(days=1)
            conn.execute(
                update(numbers).where(numbers.c.subject_id.in_(sorted(erased))).values(purge_after=yesterday)
            )
    finally:
        engine.dispose()

    # Another process keeps the database open (a running hub, a console): SQLite then keeps its WAL, which
    # it would otherwise checkpoint and delete when the last connection closes.
    with _held_open(settings):
        run_retention(settings, as_of=today_in_japan(), actor="forensic-test")
        kept_keys = {wrapped for versions in kept_blobs.wrapped.values() for _, _, wrapped in versions}
        findings, files = _examine(case, blobs, erased, erased_numbers | kept_numbers, kept_keys)
    recovered = findings.recovered(erased_numbers)
    figures = {
        "backend": case.backend,
        "people_erased": len(erased),
        "numbers_erased": len(erased_numbers),
        "people_kept": len(kept),
        "dead_lettered": dead_lettered,
        "bytes_searched": findings.bytes_searched,
        "blobs_searched": findings.blobs,
        "numbers_recovered": len(recovered),
        "kept_numbers_recovered": len(findings.recovered(kept_numbers)),
        "kept_numbers_from_sealed_v2": len(kept_numbers & set(findings.sealed_v2)),
        "sealed_v1_seen": findings.sealed_v1_seen,
        "sealed_v2_seen": findings.sealed_v2_seen,
        "sealed_v2_opened": findings.sealed_v2_opened,
        "sealed_v2_unopened": findings.sealed_v2_unopened,
        "recovered_from": findings.sources(recovered),
        "subject_id_traces": len(findings.traces),
        "subject_id_traces_in": sorted({w for places in findings.traces.values() for w in places}),
        "not_searched": findings.not_searched,
        **files,
    }
    print("FORENSIC " + json.dumps(figures, ensure_ascii=False))
    # Counts and places only: a failure message never shows a number (nor a subject id), so every check is
    # on a figure or a truth value computed beforehand (pytest would print the sets an expression names).
    kept_read = kept_numbers <= set(findings.vault)
    held_v2_opened = sorted(kept_numbers)[0] in findings.sealed_v2
    recovered_count, traces_count = figures["numbers_recovered"], figures["subject_id_traces"]
    assert recovered_count == 0, figures["recovered_from"]
    assert traces_count == 0, figures["subject_id_traces_in"]
    # The examiner works: every number of the people kept comes back from the vault with the keyring ...
    assert kept_read, "the examiner could not read the kept people's numbers"
    # ... and it opens sealed v2 values: the kept candidate of the kept person's hold comes back from one.
    assert held_v2_opened, "the examiner could not open a held v2 value"
    if files.get("relation_files"):
        assert files["kept_wrapped_keys_in_relation_files"] > 0, "the relation files read are not current"


def _sealed_v1(ring: Keyring, number: IndividualNumber, recipient: str, message_id: uuid.UUID) -> str:
    """A value of the old format v1, written as renkei wrote it (nothing writes it now; it is only read)."""
    key = ring.series(KeyName(KeyKind.SEAL_V1, recipient)).current
    field = "records.0.individual_number"
    ad = seal_context(message_id, field) + f"|{recipient}|{key.key_id}".encode()
    nonce = os.urandom(12)
    body = AESGCM(key.material).encrypt(nonce, number.reveal().encode(), ad)
    return f"sealed:v1:{recipient}:{key.key_id}:" + base64.urlsafe_b64encode(nonce + body).decode().rstrip(
        "="
    )


def test_the_examiner_sees_every_form_it_looks_for() -> None:
    """The examiner's own check: each encoding of a number, sealed copies (v1, v2), a link message are found.

    The keyrings are loaded from files through the project's loader, as in the examination.
    """
    whole = keyring_from_v1_json(json.dumps(_format_1_keyring()))  # a migrated deployment: v1 keys too
    rings = [cut(whole, s) for s in SERVICE_NAMES]
    number = synthetic_individual_number()
    target = number.reveal()
    for form in encodings_of(target):
        examiner = Examiner(rings, {target})
        examiner.search(form, "form")
        assert examiner.findings.recovered({target}) == {target}, form
    message_id = uuid.uuid4()
    sealer = HpkeSealer(whole.sealing_for(("eltax", "hub")))
    sealed = sealer.seal(
        number, recipient="eltax", message_id=message_id, field="records.0.individual_number"
    )
    # v2, its message id beside it
    examiner = Examiner(rings, {target})
    examiner.search(json.dumps({"message_id": str(message_id), "x": sealed}).encode(), "sealed v2")
    assert set(examiner.findings.sealed_v2) == {target}
    # v2, its message id in another column of the row (as SQLite keeps a UUID: 32 hex digits)
    examiner = Examiner(rings, {target})
    examiner.search(sealed.encode(), "sealed v2 in a row", context=message_id.hex.encode())
    assert set(examiner.findings.sealed_v2) == {target}
    # v2, its message id only elsewhere: the last pass finds it
    examiner = Examiner(rings, {target})
    examiner.search(sealed.encode(), "sealed v2 alone")
    assert not examiner.findings.sealed_v2
    examiner.search(str(message_id).encode(), "elsewhere")
    examiner.search(b"x" + sealed.encode(), "sealed v2 again")
    assert set(examiner.finish().sealed_v2) == {target}
    # v2 in a hold: bound to the hold's seal id, found from the hold id
    hold_id = hold_id_for(uuid.uuid4(), 1)
    held = seal_for_hold(HpkeSealer(whole.sealing_for(("hub",))), number, hold_id, 1)
    examiner = Examiner(rings, {target})
    examiner.search(json.dumps({"hold_id": hold_id, "candidates": [{"sealed": held}]}).encode(), "hold")
    assert set(examiner.findings.sealed_v2) == {target}
    # v1, with the recipient's seal_v1 key
    examiner = Examiner(rings, {target})
    examiner.search(_sealed_v1(whole, number, "jlis", message_id).encode(), "sealed v1")
    assert set(examiner.findings.sealed) == {target}
    assert examiner.findings.sealed_v1_seen == 1
    # a link message, under a link key
    cipher = AeadLinkCipher(whole.link_keys("jlis"))
    message = cipher.protect(CounterpartFile("jlis", "f.csv", f"1,{target},x".encode(), str(uuid.uuid4())))
    examiner = Examiner(rings, {target})
    examiner.search(message, "link")
    assert set(examiner.findings.plain) == {target}
    # without the keys, nothing opens; another number is not taken for the target
    examiner = Examiner([generate_keyring()], {target})
    examiner.search(json.dumps({"message_id": str(message_id), "x": sealed}).encode(), "sealed v2")
    assert not examiner.finish().recovered({target})
    other = SyntheticPopulation(size=3, seed=7).individual_number(0).reveal()
    examiner = Examiner(rings, {target})
    examiner.search(other.encode(), "another number")
    assert not examiner.findings.recovered({target})


def _format_1_keyring() -> dict[str, object]:
    """A format-1 keyring (every key in one file, symmetric sealing keys), as deployments had before."""
    now = datetime.now(UTC).isoformat()

    def series(prefix: str) -> list[dict[str, object]]:
        key = base64.b64encode(os.urandom(32)).decode()
        return [{"version": 1, "id": f"{prefix}-v1-abcdef", "created_at": now, "key": key}]

    return {
        "format": "renkei-keyring/1",
        "kek": series("kek"),
        "blind_index": series("bix"),
        "token_root": series("tok"),
        "sealing": {r: series(r.replace("_", "")) for r in ("hub", "jlis", "intermediate_server", "eltax")},
    }
