"""Regression: a manifest whose SHA-256 happens to hold a number-like digit run is not refused.

About one hex digest in 330 holds a 12-digit run with a valid 個人番号 check digit. Before the fix the
pension adapter refused such manifests as carrying an Individual Number: an inbound request file was
rejected, and an outcome chunk was dead-lettered (its records never reached the pension system), which a
10,000-record run met about one time in three.
"""

from __future__ import annotations

import hashlib
import itertools
from datetime import date
from typing import Literal, TypedDict

import pytest

from adapters.pension import IndividualNumberInFile
from adapters.pension._manifest import manifest_holds_a_number
from adapters.pension.wire import InquiryManifest, OutcomeManifest, dump_manifest, parse_manifest
from contracts.individual_number import synthetic_individual_number
from contracts.redaction import find_numbers


class CommonFields(TypedDict):
    """What both kinds of manifest carry."""

    format_version: Literal[1, 2]
    file_name: str
    record_count: int
    sha256: str
    cycle: str
    batch_id: str


def _number_like_digest() -> str:
    for i in itertools.count():  # bounded in practice: about one in 330 matches
        digest = hashlib.sha256(str(i).encode()).hexdigest()
        if find_numbers(digest, identifiers=False):  # as a scanner that knows no digests
            return digest
        assert i < 100_000
    raise AssertionError("unreachable")


@pytest.mark.parametrize("kind", ["survival_inquiry", "survival_outcomes"])
def test_a_digest_with_a_number_like_run_is_not_a_number(kind):
    digest = _number_like_digest()
    common = CommonFields(
        format_version=1,
        file_name="survival_inquiry.b1.csv",
        record_count=3,
        sha256=digest,
        cycle="2026-12",
        batch_id="b1",
    )
    manifest = (
        InquiryManifest(kind="survival_inquiry", as_of=date(2026, 11, 20), **common)
        if kind == "survival_inquiry"
        else OutcomeManifest(
            kind="survival_outcomes", chunk_index=0, chunk_count=1, answered_by="jlis", **common
        )
    )
    raw = dump_manifest(manifest)
    assert not manifest_holds_a_number(raw.decode())
    assert parse_manifest(raw) == manifest


def test_a_number_anywhere_else_in_a_manifest_is_still_refused():
    number = synthetic_individual_number().reveal()
    digest = _number_like_digest()
    for text in (
        f'{{"batch_id": "{number}", "sha256": "{digest}"}}',
        f'{{"sha256": "{number}"}}',  # not a 64-hex digest: scanned like any value
        f'{{"note": "sha256", "x": "{number}"}}',
    ):
        assert manifest_holds_a_number(text)
        with pytest.raises(IndividualNumberInFile):
            parse_manifest(text.encode())
