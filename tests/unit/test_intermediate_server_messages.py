"""A municipality's message that quotes a number: masked at the adapter's edge, the answer goes on."""

from __future__ import annotations

from adapters.intermediate_server.mapping import MESSAGE_LIMIT, duplicate_result_payload
from adapters.intermediate_server.wire import DuplicateResultRow
from contracts.individual_number import synthetic_individual_number
from contracts.messages.intermediate_server import DuplicateOperation, IsError
from contracts.redaction import REDACTED, find_numbers

ATENA = "000000000012345"


def _result(message: str):
    row = DuplicateResultRow(
        0, "D0000001", ATENA, DuplicateOperation.INSERT, IsError.CODE_NOT_ACQUIRED, message
    )
    return duplicate_result_payload("b1", [row]).records[0]


def test_a_quoted_number_is_masked_and_the_rest_kept():
    number = synthetic_individual_number().reveal()
    record = _result(f"個人番号 {number} は符号が未取得です。")
    assert record.message_ja == f"個人番号 {REDACTED} は符号が未取得です。"
    assert not find_numbers(record.model_dump_json())


def test_a_message_at_the_limit_stays_within_it_after_masking():
    number = synthetic_individual_number().reveal()
    text = ("あ" * (MESSAGE_LIMIT - 13)) + " " + number
    assert len(text) == MESSAGE_LIMIT
    record = _result(text)
    assert record.message_ja is not None
    assert len(record.message_ja) == MESSAGE_LIMIT
    assert number not in record.message_ja


def test_a_message_without_a_number_is_untouched():
    assert (
        _result("「レコード識別番号」が既に存在しています。").message_ja
        == "「レコード識別番号」が既に存在しています。"
    )
