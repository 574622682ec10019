"""From access records to stored values: the "never a number" rule, validation; and the signer (no I/O)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from contracts.errors import PolicyRefused, ValidationFailed
from contracts.individual_number import IndividualNumber, synthetic_individual_number
from hub.infra.audit.rows import REDACTED_KEY, record_values
from hub.infra.crypto.signing import Ed25519Signer, Ed25519Verifier, key_id_of
from hub.ports.audit import AccessRecord, AuditAction, Outcome

NOW = datetime(2026, 4, 1, tzinfo=UTC)


def test_values_are_stored_as_text_with_a_utc_time() -> None:
    record = AccessRecord(
        actor="hub",
        action=AuditAction.DETOKENISED,
        subjects=("tkA_b", "tkA_a", "tkA_b"),
        outcome=Outcome.REFUSED,
        at=datetime(2026, 4, 1, 9, tzinfo=timezone(timedelta(hours=9))),
        details={"z": "1", "a": "2"},
    )
    values, subjects = record_values(record, NOW)
    assert subjects == ("tkA_a", "tkA_b")
    assert values["action"] == "detokenised"
    assert values["outcome"] == "refused"
    assert values["at"] == NOW
    assert values["details"] == '{"a":"2","z":"1"}'


def test_a_missing_time_is_now() -> None:
    values, _ = record_values(AccessRecord(actor="hub", action=AuditAction.RECEIVED), NOW)
    assert values["at"] == NOW


def test_a_number_in_free_text_is_masked_and_the_mask_is_recorded() -> None:
    number = synthetic_individual_number().reveal()
    record = AccessRecord(
        actor="hub",
        action=AuditAction.REJECTED,
        reason=f"bad record {number}",
        purpose=f"for {number}",
        details={"row": f"…{number}…", "ok": "1"},
    )
    values, _ = record_values(record, NOW)
    assert number not in json.dumps(values, default=str, ensure_ascii=False)
    assert values["reason"] == f"bad record {IndividualNumber.MASK}"
    assert json.loads(values["details"])[REDACTED_KEY] == "details.row,purpose,reason"


def test_identifiers_are_never_rewritten() -> None:
    # A random hex id can hold a 12-digit run that passes the check digit; masking it would lose the record.
    lookalike = "ab" + synthetic_individual_number().reveal() + "cd"
    values, _ = record_values(AccessRecord(actor="hub", action=AuditAction.ROUTED, message_id=lookalike), NOW)
    assert values["message_id"] == lookalike


def test_a_number_as_subject_is_refused() -> None:
    number = synthetic_individual_number().reveal()
    with pytest.raises(PolicyRefused):
        record_values(AccessRecord(actor="hub", action=AuditAction.ROUTED, subjects=(number,)), NOW)


@pytest.mark.parametrize(
    "record",
    [
        AccessRecord(actor="x" * 201, action=AuditAction.ROUTED),
        AccessRecord(actor="hub", action=AuditAction.ROUTED, message_id="m" * 201),
        AccessRecord(actor="hub", action=AuditAction.ROUTED, subjects=("",)),
        AccessRecord(actor="hub", action=AuditAction.ROUTED, subjects=("tk a",)),
        AccessRecord(actor="hub", action=AuditAction.ROUTED, details={"k": 1}),  # type: ignore[dict-item]  # wrong on purpose: refused
    ],
)
def test_values_that_do_not_fit_are_refused_before_any_write(record: AccessRecord) -> None:
    with pytest.raises(ValidationFailed):
        record_values(record, NOW)


def test_signatures_verify_only_with_the_trusted_key() -> None:
    signer, other = Ed25519Signer.generate(), Ed25519Signer.generate()
    signature = signer.sign(b"checkpoint")
    verifier = Ed25519Verifier([signer.public_key, other.public_key])
    assert verifier.verify(signer.key_id, b"checkpoint", signature)
    assert not verifier.verify(signer.key_id, b"checkpoint!", signature)
    assert not verifier.verify(other.key_id, b"checkpoint", signature)
    assert not Ed25519Verifier(other.public_key).verify(signer.key_id, b"checkpoint", signature)
    assert signer.key_id == key_id_of(signer.public_key)
    assert len(signer.key_id) == 16
    assert "PRIVATE" not in repr(signer)


def test_text_found_clean_before_still_masks_a_number_next_to_it() -> None:
    # Texts without a number are remembered (most records repeat them); a number is never taken for one.
    number = synthetic_individual_number().reveal()
    clean = AccessRecord(actor="hub", action=AuditAction.ROUTED, purpose="p", details={"row": "ok", "n": "1"})
    assert json.loads(record_values(clean, NOW)[0]["details"]) == {"n": "1", "row": "ok"}
    assert json.loads(record_values(clean, NOW)[0]["details"]) == {"n": "1", "row": "ok"}
    dirty = AccessRecord(
        actor="hub", action=AuditAction.ROUTED, purpose=f"p {number}", details={"row": number, "n": "1"}
    )
    values, _ = record_values(dirty, NOW)
    assert number not in json.dumps(values, default=str, ensure_ascii=False)
    assert json.loads(values["details"]) == {
        "n": "1",
        "row": IndividualNumber.MASK,
        REDACTED_KEY: "details.row,purpose",
    }
    again, _ = record_values(dirty, NOW)  # nothing of the first masking was remembered
    assert again["details"] == values["details"]
    assert again["purpose"] == f"p {IndividualNumber.MASK}"
