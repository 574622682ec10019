"""副本登録 and 情報提供 end to end on the real broker, and the 情報提供等記録 export with both numberings.

The pension system's side drops its 副本 changes as a ``duplicate_changes`` request file (is_harness).
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from adapters.intermediate_server import IntermediateServerSimulator
from contracts.messages.intermediate_server import (
    DuplicateDataRegistered,
    DuplicateOperation,
    DuplicateOutcome,
    DuplicateStatus,
    IsError,
    ProvisionNoticed,
)
from hub.cli.audit import app as audit_app
from tests.e2e.is_harness import Harness, duplicate_record, query_record, running, wait_for

pytestmark = [pytest.mark.rabbitmq, pytest.mark.e2e, pytest.mark.timeout(60)]


def registered(h: Harness, batch: str, count: int) -> dict[int, tuple[str, DuplicateOutcome]]:
    def done() -> dict[int, tuple[str, DuplicateOutcome]]:
        rows: dict[int, tuple[str, DuplicateOutcome]] = {
            r.record_seq: (m.answered_by, r)
            for m in h.messages("pension.duplicate_data.registered", DuplicateDataRegistered)
            if m.batch_id == batch
            for r in m.records
        }
        assert len(rows) >= count
        return rows

    return wait_for(done)


def test_duplicate_record_id_is_rejected_as_the_network_does(e2e_settings):
    sim = IntermediateServerSimulator(seed=3, code_failure_every=0, notice_every=0)
    with running(e2e_settings, sim) as h:
        h.acquire_codes([0, 1])
        batch = h.change(
            [
                duplicate_record(0, h.usage(0), "DUPA0000001"),
                duplicate_record(1, h.usage(0), "DUPA0000001", DuplicateOperation.UPDATE),
                duplicate_record(2, h.usage(1), "DUPA0000001"),  # the same record id again
                duplicate_record(3, h.usage(1), "DUPA0000009", DuplicateOperation.DELETE),  # never inserted
                duplicate_record(4, h.usage(2), "DUPA0000002"),  # person 2 has no code
            ]
        )
        rows = registered(h, batch, 5)
    status = {seq: (by, r.status, r.error) for seq, (by, r) in rows.items()}
    assert status[0] == ("intermediate_server", DuplicateStatus.REGISTERED, None)
    assert status[1] == ("intermediate_server", DuplicateStatus.REGISTERED, None)
    assert status[2] == ("intermediate_server", DuplicateStatus.ERROR, IsError.DUPLICATE_RECORD_ID)
    assert status[3] == ("intermediate_server", DuplicateStatus.ERROR, IsError.RECORD_NOT_FOUND)
    assert status[4] == ("hub", DuplicateStatus.ERROR, IsError.CODE_NOT_ACQUIRED)
    assert rows[2][1].message_ja == "「レコード識別番号」が既に存在しています。"
    assert rows[0][1].usage_number == h.usage(0)
    assert sim.refusals[IsError.DUPLICATE_RECORD_ID] == 1
    processed = e2e_settings.wire_dir / "pension" / "processed"
    assert (processed / f"duplicate_changes.{batch}.csv").exists(), "the changes came as a request file"


def test_a_persons_changes_travel_together_in_file_order_whatever_the_chunk_size(e2e_settings):
    # Two changes a chunk: person 0's three changes outgrow it, and no chunk may split them.
    sim = IntermediateServerSimulator(seed=5, code_failure_every=0, notice_every=0)
    settings = e2e_settings.model_copy(update={"chunk_records": 2})
    with running(settings, sim) as h:
        h.acquire_codes([0, 1, 2])
        batch = h.change(
            [
                duplicate_record(0, h.usage(0), "ORDR0000001"),
                duplicate_record(1, h.usage(0), "ORDR0000001", DuplicateOperation.UPDATE),
                duplicate_record(2, h.usage(0), "ORDR0000001", DuplicateOperation.DELETE),
                duplicate_record(3, h.usage(1), "ORDR0000002"),
                duplicate_record(4, h.usage(1), "ORDR0000002", DuplicateOperation.UPDATE),
                duplicate_record(5, h.usage(2), "ORDR0000003"),
            ]
        )
        rows = registered(h, batch, 6)
        answered = [
            {r.usage_number.value for r in m.records}
            for m in h.messages("pension.duplicate_data.registered", DuplicateDataRegistered)
            if m.batch_id == batch
        ]
    # In order: an update or delete before its insert would be answered record_not_found.
    assert {seq: r.status for seq, (_, r) in rows.items()} == dict.fromkeys(
        range(6), DuplicateStatus.REGISTERED
    )
    people = [person for persons in answered for person in persons]
    assert sorted(people) == sorted({h.usage(i).value for i in range(3)}), (
        "each person answered in one message"
    )


def test_provisions_and_queries_are_recorded_with_both_numberings(e2e_settings, tmp_path):
    sim = IntermediateServerSimulator(seed=4, code_failure_every=0, no_data_every=0, notice_delay_ticks=2)
    with running(e2e_settings, sim) as h:
        h.acquire_codes([0, 1])
        h.change(
            [duplicate_record(0, h.usage(0), "PROV0000001"), duplicate_record(1, h.usage(1), "PROV0000002")]
        )

        def noticed():
            rows = [r for m in h.messages("pension.provision.noticed", ProvisionNoticed) for r in m.records]
            assert {r.record_id for r in rows} == {"PROV0000001", "PROV0000002"}
            return rows

        notices = wait_for(noticed)
        h.query([query_record(0, "recorded", h.usage(0))])
        h.answers({"recorded"})
        settings = h.hub.settings
    assert {r.usage_number for r in notices} == {h.usage(0), h.usage(1)}
    assert sim.late_released >= 1, "notices are released on later ticks"

    out = tmp_path / "provisions.jsonl"
    result = CliRunner().invoke(audit_app, ["export", "--provision", "--output", str(out)], obj=settings)
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    roles = sorted(r["role"] for r in records)
    assert roles == ["provider", "provider", "requester"]
    query = next(r for r in records if r["role"] == "requester")
    assert query["legal_basis_current"].endswith("84の項（第86条）")
    assert query["legal_basis_legacy"] == "番号法 別表第二 59の項"
    assert query["requester"] == "東京都市町村職員共済組合（m130001）"  # the 構成組合 that queried (事務(9))
    assert query["provider"] == "千代田区（131016）"
    assert query["items"] == ["TM00000000000021 地方税関係情報"]
    assert query["provided_at"]
    assert query["subject"]
    assert query["retention_until"]
    for provided in (r for r in records if r["role"] == "provider"):
        # The 構成組合 whose 副本 was provided (事務(10), run on its behalf by the harness).
        assert provided["provider"] == "東京都市町村職員共済組合（m130001）"
        assert "の項" in provided["legal_basis_current"]
        assert provided["provided_at"]
        assert provided["items"] == ["TM00000000000051 年金給付関係情報"]
        # Both numberings: the legacy one from the notice, or from the table for rows that have one.
        if "第2条の表 83の項" not in provided["legal_basis_current"]:
            assert provided["legal_basis_legacy"].startswith("番号法 別表第二")
