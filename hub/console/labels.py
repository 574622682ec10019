"""What the pages call the values the API and the database spell as codes (statuses, outcomes, kinds).

The codes stay as they are in the JSON API, the access record and the CSS classes; a page shows
:func:`label` of one, in the reader's language (:mod:`hub.console.i18n`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from hub.console.i18n import N_, gettext

__all__ = ["LABELS", "label"]

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
