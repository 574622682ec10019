"""What the pages call the values the API and the database spell as codes (statuses, outcomes, kinds).

The codes stay as they are in the JSON API, the access record and the CSS classes; a page shows
:func:`label` of one, in the reader's language (:mod:`hub.console.i18n`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from hub.console.i18n import N_, gettext

__all__ = ["LABELS", "Label", "label", "named"]

LABELS: Final[Mapping[str, Mapping[str, str]]] = {
    # A dead letter's status, and what one action did to one dead letter.
    "dead_letter": {
        "pending": N_("pending"),
        "replaying": N_("replaying"),
        "replayed": N_("replayed"),
        "discarded": N_("discarded"),
    },
    "outcome": {
        "replayed": N_("replayed"),
        "discarded": N_("discarded"),
        "would_replay": N_("would replay"),
        "would_discard": N_("would discard"),
        "skipped": N_("skipped"),
        "failed": N_("failed"),
        "ok": N_("ok"),
        "refused": N_("refused"),
    },
    "operation": {"replay": N_("Replay"), "discard": N_("Discard")},
    # Four eyes: what is asked, and where a request stands.
    "approval_action": {
        "reveal_number": N_("Revealing an Individual Number"),
        "replay_dead_letters": N_("Replaying dead letters"),
        "discard_dead_letters": N_("Discarding dead letters"),
        "resolve_hold": N_("Resolving a held link"),
    },
    "approval_status": {
        "pending": N_("awaiting approval"),
        "approved": N_("approved"),
        "rejected": N_("rejected"),
        "used": N_("carried out"),
        "all": N_("all"),
    },
    # The counterparts, by the names the federation's staff use (an adapter is named after its counterpart).
    "counterpart": {
        "jlis": N_("J-LIS"),
        "intermediate_server": N_("Intermediate server"),
        "eltax": N_("eLTAX"),
        "nta": N_("National Tax Agency"),
        "implementing_bodies": N_("Other implementing bodies"),
        "pension": N_("Pension benefits system"),
    },
    # A failure by its code: what a dead letter failed of, and what stopped an action. The hierarchy's codes
    # (contracts/errors.py and the hub's own errors), the hub's and the broker's, then each adapter's own
    # (adapters/*/errors.py). A page names the code and keeps it beside the name.
    "error": {
        "error": N_("error"),
        "unknown": N_("unknown"),
        "transient": N_("temporary failure"),
        "permanent": N_("permanent failure"),
        "broker_unavailable": N_("broker unavailable"),
        "publish_not_confirmed": N_("publish not confirmed by the broker"),
        "store_unavailable": N_("database unavailable"),
        "audit_write_failed": N_("access record not written"),
        "counterpart_unavailable": N_("counterpart did not answer"),
        "contract_violation": N_("breaks its contract"),
        "undecodable": N_("body cannot be decoded"),
        "unknown_message_type": N_("unknown message type"),
        "validation_failed": N_("does not validate"),
        "wire_format": N_("file layout broken"),
        "too_large": N_("body over its size limit"),
        "unroutable": N_("no queue for its destination"),
        "policy_refused": N_("refused by the number policy or the legal basis"),
        "actor_not_permitted": N_("its actor may not do this work"),
        "seal_invalid": N_("sealed value does not open"),
        "sender_not_permitted": N_("sender not permitted"),
        "already_exists": N_("already stored"),
        "configuration": N_("configuration error"),
        "approval_required": N_("needs an approved request (four eyes)"),
        "approval_refused": N_("request refused (four eyes)"),
        "resolution_refused": N_("resolution refused"),
        "unknown_hold": N_("no such held link"),
        "hold_not_pending": N_("held link already decided"),
        "duplicate_record_id": N_("record id used twice"),
        "number_conflict": N_("conflicting number in the vault"),
        "unknown_subject": N_("unknown person"),
        "vault_integrity": N_("vault integrity failure"),
        # The hub's code of an exception outside the hierarchy, and the broker's reasons (x-death).
        "crash": N_("unexpected error (a defect)"),
        "delivery_limit": N_("not settled within the delivery limit"),
        "rejected": N_("rejected by its consumer"),
        "expired": N_("expired in its queue"),
        "maxlen": N_("its queue was full"),
        # J-LIS (adapters/jlis/errors.py).
        "jlis_wire_format": N_("J-LIS file layout broken"),
        "jlis_unexpected_file": N_("not a file of the J-LIS exchange"),
        "jlis_mapping": N_("J-LIS record does not fit the contract"),
        "jlis_purpose_refused": N_("no J-LIS purpose code for its purpose"),
        # The intermediate server (adapters/intermediate_server/errors.py).
        "is_wire_format": N_("intermediate server file layout broken"),
        "is_unexpected_file": N_("not a file of the intermediate server exchange"),
        "is_mapping": N_("intermediate server record does not fit the contract"),
        "provider_unavailable": N_("the provider's intermediate server cannot be reached"),
        # eLTAX (adapters/eltax/errors.py).
        "eltax_wire_format": N_("eLTAX file layout broken"),
        "eltax_field_refused": N_("value eLTAX's layout forbids (refused before sending)"),
        "eltax_unexpected_file": N_("not a file of the eLTAX exchange"),
        "eltax_mapping": N_("eLTAX record does not fit the contract"),
        # The National Tax Agency (adapters/nta/errors.py).
        "nta_wire_format": N_("National Tax Agency file layout broken"),
        "nta_field_refused": N_("value the National Tax Agency's layout forbids (refused before sending)"),
        "nta_unexpected_file": N_("not a file of the National Tax Agency exchange"),
        "nta_mapping": N_("National Tax Agency file does not fit the contract"),
        "nta_purpose_refused": N_("not the withholding slip's purpose"),
        # The other implementing bodies (adapters/implementing_bodies/errors.py).
        "implementing_bodies_wire_format": N_("implementing body file layout broken"),
        "implementing_bodies_field_refused": N_(
            "value the implementing bodies' layout forbids (refused before sending)"
        ),
        "implementing_bodies_unexpected_file": N_("not a file of the exchange with the implementing bodies"),
        "implementing_bodies_mapping": N_("implementing body file does not fit the contract"),
        "implementing_bodies_purpose_refused": N_("not the claim forwarding's purpose"),
        # The pension benefits system (adapters/pension/errors.py): its errors, then each reason a file it
        # dropped is refused for (Reason: pension_<reason>).
        "pension_outcome_conflict": N_("pension outcome file already there with other content"),
        "pension_acknowledge_refused": N_("pension acknowledgement refused: not the file polled"),
        "pension_directory_link_only": N_("the pension link is its exchange directory, not the broker"),
        "pension_directory_unavailable": N_("pension exchange directory unavailable"),
        "pension_not_regular_file": N_("pension file: not a regular file"),
        "pension_unsupported_name": N_("pension file: name not supported"),
        "pension_orphan_manifest": N_("pension file: manifest without its data file"),
        "pension_manifest_invalid": N_("pension file: manifest invalid"),
        "pension_manifest_mismatch": N_("pension file: manifest does not match the file"),
        "pension_checksum_mismatch": N_("pension file: checksum mismatch (incomplete or changed)"),
        "pension_record_count_mismatch": N_("pension file: record count mismatch"),
        "pension_not_utf8": N_("pension file: not UTF-8"),
        "pension_byte_order_mark": N_("pension file: byte-order mark"),
        "pension_line_too_long": N_("pension file: line too long"),
        "pension_bad_csv": N_("pension file: CSV quoting broken"),
        "pension_bad_header": N_("pension file: header row wrong"),
        "pension_empty_line": N_("pension file: empty line"),
        "pension_field_count": N_("pension file: wrong number of columns"),
        "pension_bad_field": N_("pension file: field invalid"),
        "pension_non_ascii": N_("pension file: full-width characters in a usage number"),
        "pension_record_seq_order": N_("pension file: record_seq out of order"),
        "pension_no_records": N_("pension file: no records"),
        "pension_individual_number": N_("pension file: carries an Individual Number (refused by policy)"),
        "pension_name_already_used": N_("pension file: name already used"),
        "pension_already_processed": N_("pension file: already processed"),
        "pension_batch_id_reused": N_("pension file: batch id reused"),
        "pension_basic_info_incomplete": N_("pension file: basic information incomplete"),
        "pension_invalid_individual_number": N_("pension file: an Individual Number fails its check digit"),
        "pension_actor_not_permitted": N_("pension file: its actor may not do this work"),
        "pension_person_run_broken": N_("pension file: a person's rows are not together"),
        "pension_person_run_too_long": N_("pension file: too many rows for one person"),
    },
    # What the verification of the access record found (hub.infra.audit.verify_chain.ProblemKind).
    "verify_problem": {
        "modified": N_("a record or checkpoint was changed"),
        "deleted": N_("a record is missing"),
        "inserted": N_("a record was inserted"),
        "reordered": N_("records were reordered"),
        "bad_checkpoint": N_("a checkpoint does not match"),
        "bad_signature": N_("a checkpoint's signature does not verify"),
    },
    # Health.
    "health": {"ok": N_("ok"), "warn": N_("warning"), "fail": N_("failing")},
    "health_kind": {
        "database": N_("database"),
        "sampler": N_("sampler"),
        "broker": N_("broker"),
        "hub": N_("hub"),
        "adapter": N_("adapter"),
        "simulator": N_("simulator"),
    },
}


def named(kind: str, code: object) -> bool:
    """Whether ``code`` of ``kind`` has a name of its own (else a page shows the code alone)."""
    return str(code) in LABELS.get(kind, {})


def label(kind: str, code: object) -> str:
    """The name a page shows for ``code`` of ``kind`` (the code itself when it has none)."""
    text = "" if code is None else str(code)
    found = LABELS.get(kind, {}).get(text)
    return text if found is None else gettext(found)


class Label(str):
    """A code that a translated message names (``LazyText("not done: %(code)s", code=Label("error", c))``).

    Its ``str`` value is the code (what the API and the records carry); a page shows its label.
    """

    kind: str

    def __new__(cls, kind: str, code: str) -> Label:  # noqa: D102 - documented on the class
        text = super().__new__(cls, code)
        text.kind = kind
        return text

    def localized(self) -> str:
        """The code's label in the current language."""
        return label(self.kind, str(self))
