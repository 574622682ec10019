"""The forwarding file and the receipt of the other implementing bodies: layouts, limits, round trips."""

from __future__ import annotations

import contextlib
import dataclasses
import uuid
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.implementing_bodies import (
    IbFieldRefused,
    IbFileError,
    IbWireError,
    ReceiptFile,
    forwarding_file_name,
    layout_tables,
    parse_forwarding,
    parse_name,
    parse_receipt,
    read_forwarding,
    receipt_file_name,
    write_forwarding,
    write_receipt,
)
from adapters.implementing_bodies.wire import CLAIM_ROW, FORWARDING_HEAD, PAGE_ROW, WireClaim
from contracts.individual_number import synthetic_individual_number
from contracts.messages.implementing_bodies import NOT_ONE_STOP, ONE_STOP, ImplementingBody
from contracts.redaction import find_numbers
from tests.implementing_bodies_fixtures import forwarding_file, number, page, wire_claim

DOC = Path(__file__).resolve().parents[2] / "docs" / "formats" / "implementing_bodies.md"
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_a_forwarding_reads_back_equal_and_holds_its_numbers_only_inside():
    file = forwarding_file(4)
    content = write_forwarding(file)
    assert parse_forwarding(content) == file
    lines = content.decode("cp932").split("\r\n")
    assert lines[0] == "H,cf-1,m130001,1,4"
    assert lines[1].startswith("D,0,12,20261102,")
    assert len(find_numbers(content.decode("cp932"))) == 4 + 2  # every claimant and both deceased


def test_every_item_is_renkeis_inference():
    # No public format exists for the 情報連携システム's forwarding: nothing claims to be published.
    assert {f.source for layout in (FORWARDING_HEAD, CLAIM_ROW, PAGE_ROW) for f in layout.fields} == {"I"}


def test_only_a_one_stop_claim_has_a_code_so_no_other_can_be_written():
    assert {v for _, v in dict(CLAIM_ROW.fields[2].codes).items()} == set(ONE_STOP)
    for kind in NOT_ONE_STOP:
        bad = dataclasses.replace(forwarding_file(1), claims=(wire_claim(0, kind),))
        with pytest.raises(IbFieldRefused, match=r"line #2, item kind"):
            write_forwarding(bad)


@pytest.mark.parametrize(
    ("change", "item"),
    [
        ({"basic_pension_number": "12345"}, "basic_pension_number"),
        ({"pages": ()}, "pages"),
        ({"pages": (("bad name.png", "0" * 64),)}, "name"),
        ({"pages": (("p.png", "Z" * 64),)}, "sha256"),
        ({"record_seq": 10**9}, "record_seq"),
    ],
)
def test_a_value_the_layout_forbids_is_refused_naming_the_item_never_the_value(change, item):
    bad = dataclasses.replace(forwarding_file(1), claims=(dataclasses.replace(wire_claim(0), **change),))
    with pytest.raises(IbFieldRefused, match=rf"item {item}") as caught:
        write_forwarding(bad)
    assert number(0).reveal() not in str(caught.value)


def test_a_receipt_reads_back_equal():
    receipt = ReceiptFile(
        "IB-FWD-jps-" + "a" * 32 + ".csv",
        "cf-1",
        ImplementingBody.JPS,
        date(2026, 11, 4),
        (0, 2),
        ((1, "pages", "R010"),),
    )
    assert parse_receipt(write_receipt(receipt)) == receipt


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "empty"),
        (b"A,1\r\n", "line #1: is not the header"),
        (b"H,IB-FWD-jps-x.csv,cf,1,20261104,1,0\r\n", "does not match the accepted lines"),
        (b"H,IB-FWD-jps-x.csv,cf,9,20261104,0,0\r\n", "item destination"),
        (b"H,IB-FWD-jps-x.csv,cf,1,20261104,1,1\r\nA,1\r\nR,1,,R010\r\n", "names a claim twice"),
        (b"H,IB-FWD-jps-x.csv,cf,1,20261104,0,1\r\nR,1,,X010\r\n", "line #2, item reason"),
    ],
)
def test_a_bad_receipt_is_refused_with_its_reason(content, problem):
    with pytest.raises(IbWireError, match=problem):
        parse_receipt(content)


def test_names_pair_and_say_their_kind():
    file_id = uuid.uuid4()
    name = forwarding_file_name(ImplementingBody.SHIGAKU, file_id)
    assert name == f"IB-FWD-shigaku-{file_id.hex}.csv"
    answer = parse_name(receipt_file_name(name))
    assert (answer.kind, answer.code, answer.destination, answer.forwarding) == (
        "receipt",
        "RCV",
        ImplementingBody.SHIGAKU,
        name,
    )
    for bad in ("IB-FWD-nhk-" + "a" * 32 + ".csv", "IB-FWD-jps-abc.csv", "x.csv"):
        with pytest.raises(IbFileError):
            parse_name(bad)


_claims = st.builds(
    WireClaim,
    record_seq=st.integers(0, 10**9 - 1),
    kind=st.sampled_from(sorted(ONE_STOP)),
    received_on=st.dates(date(2015, 10, 1), date(2099, 12, 31)),
    basic_pension_number=st.from_regex(r"[0-9]{10}", fullmatch=True),
    pages=st.lists(st.integers(1, 9).map(lambda p: page(0, p)), min_size=1, max_size=4).map(tuple),
    individual_number=st.none() | st.randoms(use_true_random=False).map(synthetic_individual_number),
)


@FAST
@given(
    st.lists(_claims, min_size=1, max_size=5, unique_by=lambda c: c.record_seq),
    st.sampled_from(ImplementingBody),
)
def test_any_forwarding_round_trips(claims, destination):
    file = dataclasses.replace(forwarding_file(1), destination=destination, claims=tuple(claims))
    assert parse_forwarding(write_forwarding(file)) == file


@FAST
@given(st.binary(max_size=1_500))
def test_arbitrary_bytes_are_refused_clearly_or_read_never_a_crash(content):
    for parse in (parse_forwarding, parse_receipt):
        with contextlib.suppress(IbWireError):
            parse(content)
    head, problems, claims = read_forwarding(content)  # the lenient reader never raises
    assert isinstance(problems, list)
    assert isinstance(claims, list)
    assert isinstance(head, dict)


def test_the_format_page_shows_the_layouts_in_force():
    text = DOC.read_text(encoding="utf-8")
    for table in layout_tables().values():
        assert table in text
