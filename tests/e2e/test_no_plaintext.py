"""No plain Individual Number anywhere but the vault (encrypted) and the adapters' edge.

The demo runs with synthetic numbers while a spy queue receives a copy of every message on every exchange
of the topology (ingress, routes, counterpart links, retries, dead letters). Afterwards the test scans
every captured body and header, every message left in any queue, every value of every table of the
database, every log and every file the run wrote, for any 12-digit run with a valid check digit, in
ASCII or full-width digits.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pika
import pytest

from contracts.redaction import find_numbers
from hub.demo.data import demo_population
from hub.demo.deployment import local_deployment
from hub.demo.runner import run_demo
from hub.infra.broker.topology import ADAPTERS, COUNTERPARTS, renkei_topology
from tests._amqp import get

pytestmark = [pytest.mark.rabbitmq, pytest.mark.e2e, pytest.mark.slow]

RECORDS = 500


def _leaks(data: bytes) -> int:
    return len(find_numbers(data.decode("utf-8", errors="ignore")))


def _bind_spy(url: str, settings) -> str:
    topology = renkei_topology(settings.exchange_prefix, settings.retry)
    spy = f"{settings.exchange_prefix}.spy"
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        channel.queue_declare(spy, durable=True)
        p = settings.exchange_prefix
        keys = {
            f"{p}.ingress": ["hub"],
            f"{p}.route": list(ADAPTERS),
            f"{p}.counterpart": [f"{c}.{d}" for c in COUNTERPARTS for d in ("inbound", "outbound")],
        }
        for exchange in topology.exchanges:
            for key in keys.get(exchange.name, [""]):
                channel.queue_bind(spy, exchange.name, routing_key=key)
    finally:
        connection.close()
    return spy


def _drain_all(url: str, queues: list[str]) -> list[tuple[str, bytes, dict[str, object]]]:
    seen: list[tuple[str, bytes, dict[str, object]]] = []
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        for queue in queues:
            for _ in range(200_000):  # bounded
                got = get(channel, queue)
                if got is None:
                    break
                seen.append((queue, got.body, dict(got.properties.headers or {})))
    finally:
        connection.close()
    return seen


@pytest.mark.timeout(240)
def test_no_plain_number_in_queues_database_logs_or_files(e2e_settings):
    url = e2e_settings.amqp_url
    hub = local_deployment(e2e_settings, configure_logs=False)
    hub.prepare_broker()
    hub.close()
    spy = _bind_spy(url, e2e_settings)

    report = run_demo(e2e_settings, RECORDS, timeout_s=150, console=None)
    assert report.lost == 0

    # The scan must be able to see a number: the synthetic people's numbers are valid ones.
    population = demo_population(RECORDS)
    sample = population.individual_number(0).reveal()
    assert _leaks(sample.encode()) == 1

    queues = [q.name for q in renkei_topology(e2e_settings.exchange_prefix, e2e_settings.retry).queues]
    captured = _drain_all(url, [spy, *queues])
    assert len(captured) >= 4, "the spy must have seen the flow's messages"
    for queue, body, headers in captured:
        assert _leaks(body) == 0, f"a plain number travelled on {queue}"
        assert _leaks(repr(headers).encode()) == 0, f"a plain number in headers on {queue}"

    data_dir = Path(e2e_settings.data_dir)
    scanned, values = 0, 0
    for root, _, files in os.walk(data_dir):
        for name in files:
            path = Path(root) / name
            scanned += 1
            if path.suffix == ".db":
                values += _scan_database(path)
            elif not path.name.endswith((".db-wal", ".db-shm")):
                where = path.relative_to(data_dir)
                assert _leaks(path.read_bytes()) == 0, f"a plain number at rest in {where}"
    assert scanned >= 3, "the database, the logs and the pension files must have been scanned"
    assert values > 1000, "the database scan must have read the stored values"


def _scan_database(path: Path) -> int:
    """Scan every value of every table (a byte scan of the file would see runs split by page boundaries)."""
    seen = 0
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for row in conn.execute(f'SELECT * FROM "{table}"'):
                for value in row:
                    if isinstance(value, str | bytes):
                        seen += 1
                        data = value if isinstance(value, bytes) else value.encode()
                        assert _leaks(data) == 0, f"a plain number at rest in table {table}"
    return seen
