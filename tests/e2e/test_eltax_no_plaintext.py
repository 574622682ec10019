"""No plain number on the broker during the eLTAX flows: numbers travel sealed, wire files encrypted.

A spy queue receives a copy of every message of the eLTAX flows (the hub's ingress, the routes to the eLTAX
and pension adapters, both directions of the eLTAX counterpart link). Every body and header is scanned for
a 12-digit run with a valid check digit, in ASCII or full-width digits; so are the pension system's files
and the logs. As a control, the wire files opened with the link key do hold numbers: the scan would have
seen them had they crossed the broker in the clear.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from contracts.redaction import find_numbers
from hub.demo.deployment import local_deployment
from hub.demo.runner import run_demo
from tests.e2e.eltax_helpers import bind_spy, drain

pytestmark = [pytest.mark.rabbitmq, pytest.mark.e2e, pytest.mark.slow]

RECORDS = 200


def _leaks(data: bytes) -> int:
    return len(find_numbers(data.decode("utf-8", errors="ignore")))


@pytest.mark.timeout(60)
def test_no_plain_number_crosses_the_broker_in_the_eltax_flows(e2e_settings):
    hub = local_deployment(e2e_settings, configure_logs=False)
    try:
        hub.prepare_broker()
        link = hub.link_cipher("eltax")
    finally:
        hub.close()
    spy = bind_spy(
        e2e_settings,
        {
            "ingress": ["hub"],
            "route": ["eltax", "pension"],
            "counterpart": ["eltax.outbound", "eltax.inbound"],
        },
    )
    report = run_demo(
        e2e_settings, RECORDS, timeout_s=45, console=None, flows=["payment_report", "special_collection"]
    )
    assert report.lost == 0

    captured = drain(e2e_settings, spy)
    types = {properties.type for properties, _ in captured}
    assert {
        "pension.payment_report.requested",
        "eltax.payment_report.submission",
        "eltax.tokucho.notice",
        "eltax.receipt",
        "eltax.tokucho.inbound",
        "eltax.file",
    } <= types
    for properties, body in captured:
        assert _leaks(body) == 0, f"a plain number in a {properties.type} body"
        assert _leaks(repr(properties.headers or {}).encode()) == 0, (
            f"a plain number in {properties.type} headers"
        )

    # Control: inside the link's encryption, the submissions and target notices do carry numbers.
    opened = [link.open(body) for properties, body in captured if properties.type == "eltax.file"]
    with_numbers = [f for f in opened if find_numbers(f.content.decode("cp932", errors="ignore"))]
    assert any(f.name.startswith("ELTAX-PR331-") for f in with_numbers)
    assert any(f.name.startswith("ELTAX-TK00-") for f in with_numbers)

    scanned = 0
    for directory in (Path(e2e_settings.data_dir) / "wire", Path(e2e_settings.data_dir) / "logs"):
        for root, _, files in os.walk(directory):
            for name in files:
                path = Path(root) / name
                scanned += 1
                assert _leaks(path.read_bytes()) == 0, f"a plain number at rest in {path.name}"
    assert scanned > 10, "the pension system's files must have been scanned"
