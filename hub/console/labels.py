"""What the pages call the values the API and the database spell as codes (statuses, outcomes, kinds).

The codes stay as they are in the JSON API, the access record and the CSS classes; a page shows
:func:`label` of one, in the reader's language (:mod:`hub.console.i18n`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from hub.console.i18n import N_, gettext

__all__ = ["LABELS", "Label", "label"]

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
    # A failure by its code (contracts/errors.py and the hub's own errors): what a dead letter failed of, and
    # what stopped an action. An adapter's own code (jlis_wire_format ...) is shown as it is.
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
