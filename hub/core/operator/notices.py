"""What an operator action or retention tells a person, as a stable code with parameters: one English text.

The core refuses a four-eyes step, skips a dead letter or stops a replay with a sentence for a person. That
sentence is raised, logged, printed by the CLI and answered by the JSON API in English, as it always was. A
:class:`Notice` *is* that English sentence (a ``str``), and also carries a stable :class:`NoticeCode` and
the values it was made from, so that a reader in another language (the console's Japanese pages) renders it
from its own catalog by the code, without parsing the English and without this package knowing any
language but English.

Parameters name things (request ids, statuses, counts, dates, error codes, people's names), never a value of
a message: never an Individual Number, never a body. Text parameters are redacted all the same.

What retention did to a dead letter (:func:`erasure_notice`) is such a notice too, stored in the dead
letter's row as its code and parameters (:func:`stored`, :func:`restored`), not as a sentence.

``tests/unit/test_console_catalog.py`` keeps the console's catalog holding a translation of every code.
"""

from __future__ import annotations

import json
import re
from datetime import date
from enum import StrEnum
from typing import Final

from contracts.redaction import redact_text

__all__ = ["Notice", "NoticeCode", "erasure_notice", "notice_of", "restored", "stored"]


class NoticeCode(StrEnum):
    """Every notice the core gives a person; its English text is :attr:`english`."""

    # Four eyes (二者承認), hub.core.operator.approvals.
    APPROVAL_REASON_MISSING = "approval.reason_missing"
    APPROVAL_DAILY_LIMIT_REQUEST = "approval.daily_limit_request"
    APPROVAL_UNKNOWN = "approval.unknown"
    APPROVAL_NOT_PENDING = "approval.not_pending"
    APPROVAL_EXPIRED = "approval.expired"
    APPROVAL_OWN_REQUEST = "approval.own_request"
    APPROVAL_REVEAL_FEDERATION_ONLY = "approval.reveal_federation_only"
    APPROVAL_OTHER_ORG = "approval.other_org"
    APPROVAL_DECIDED_MEANWHILE = "approval.decided_meanwhile"
    APPROVAL_REQUIRED = "approval.required"
    APPROVAL_WRONG_ACTION = "approval.wrong_action"
    APPROVAL_NOT_APPROVED = "approval.not_approved"
    APPROVAL_APPROVAL_EXPIRED = "approval.approval_expired"
    APPROVAL_NOT_REQUESTER = "approval.not_requester"
    APPROVAL_OTHER_TARGET = "approval.other_target"
    APPROVAL_DAILY_LIMIT_USE = "approval.daily_limit_use"
    APPROVAL_USED_MEANWHILE = "approval.used_meanwhile"
    # Replay and discard of dead letters, hub.core.operator.dead_letter_replay.
    OPERATOR_NAME_INVALID = "operator.name_invalid"
    OPERATOR_REASON_MISSING = "operator.reason_missing"
    REPLAY_NO_TRANSPORT = "replay.no_transport"
    REPLAY_NO_ROUTES = "replay.no_routes"
    DEAD_LETTER_NEEDS_APPROVAL = "dead_letter.needs_approval"
    DEAD_LETTER_IN_STATUS = "dead_letter.in_status"
    DEAD_LETTER_BODY_CUT = "dead_letter.body_cut"
    DEAD_LETTER_ERASED = "dead_letter.erased"
    DEAD_LETTER_NO_ROUTE = "dead_letter.no_route"
    DEAD_LETTER_TAKEN = "dead_letter.taken"
    DEAD_LETTER_NO_LONGER_PENDING = "dead_letter.no_longer_pending"
    REPLAY_PUBLISH_FAILED = "replay.publish_failed"
    REPLAY_PUBLISH_FAILED_GIVEN_BACK = "replay.publish_failed_given_back"
    REPLAY_NOT_MARKED = "replay.not_marked"
    # Revealing a number (the console's composition root).
    REVEAL_SEALED_ELSEWHERE = "reveal.sealed_elsewhere"
    # What retention destroyed in a dead letter (its erasure note), hub.infra.retention and hub.infra.vault.
    ERASURE_ARCHIVED = "erasure.archived"
    ERASURE_PERSON = "erasure.person"
    ERASURE_PERSON_RECORDS = "erasure.person_records"
    ERASURE_PERSON_BODY = "erasure.person_body"
    ERASURE_PERSON_RECORDS_BODY = "erasure.person_records_body"

    @property
    def english(self) -> str:
        """The English text, with ``%(name)s`` placeholders for the parameters."""
        return _ENGLISH[self]


_ENGLISH: Final[dict[NoticeCode, str]] = {
    NoticeCode.APPROVAL_REASON_MISSING: (
        "a request needs a reason (at least 3 characters): it goes to the access record"
    ),
    NoticeCode.APPROVAL_DAILY_LIMIT_REQUEST: (
        "%(person)s has reached the daily limit of %(limit)s reveals (%(used)s done, %(open)s requested); "
        "ask again tomorrow"
    ),
    NoticeCode.APPROVAL_UNKNOWN: "no request %(approval_id)s",
    NoticeCode.APPROVAL_NOT_PENDING: "%(approval_id)s is %(status)s, not pending",
    NoticeCode.APPROVAL_EXPIRED: "%(approval_id)s expired at %(expires_at)s: ask again",
    NoticeCode.APPROVAL_OWN_REQUEST: "a request is approved by another person than its requester (four eyes)",
    NoticeCode.APPROVAL_REVEAL_FEDERATION_ONLY: (
        "revealing a number is approved by the federation (市町村連合会) only"
    ),
    NoticeCode.APPROVAL_OTHER_ORG: "%(org)s may not decide a request of %(requested_org)s",
    NoticeCode.APPROVAL_DECIDED_MEANWHILE: "%(approval_id)s was decided by someone else meanwhile",
    NoticeCode.APPROVAL_REQUIRED: (
        "%(action)s needs a second person: request it (with a reason), have it approved, then act with the "
        "request's id"
    ),
    NoticeCode.APPROVAL_WRONG_ACTION: "%(approval_id)s is for %(approved_action)s, not %(action)s",
    NoticeCode.APPROVAL_NOT_APPROVED: (
        "%(approval_id)s is %(status)s: it must be approved by a second person first"
    ),
    NoticeCode.APPROVAL_APPROVAL_EXPIRED: "%(approval_id)s's approval expired at %(expires_at)s: ask again",
    NoticeCode.APPROVAL_NOT_REQUESTER: (
        "%(approval_id)s is %(requested_by)s's request; only they may carry it out"
    ),
    NoticeCode.APPROVAL_OTHER_TARGET: "%(approval_id)s was approved for another target: %(target)s",
    NoticeCode.APPROVAL_DAILY_LIMIT_USE: "%(person)s has reached the daily limit of %(limit)s reveals",
    NoticeCode.APPROVAL_USED_MEANWHILE: "%(approval_id)s was used meanwhile",
    NoticeCode.OPERATOR_NAME_INVALID: "the operator is named by 1 to 100 printable characters",
    NoticeCode.OPERATOR_REASON_MISSING: "a reason is required: it goes to the access record",
    NoticeCode.REPLAY_NO_TRANSPORT: "replaying needs a transport to the broker",
    NoticeCode.REPLAY_NO_ROUTES: "replaying needs the replay routes (where each message type goes)",
    NoticeCode.DEAD_LETTER_NEEDS_APPROVAL: (
        "its body carries numbers: it needs a second person (request it by id, have it approved, then act "
        "with the request)"
    ),
    NoticeCode.DEAD_LETTER_IN_STATUS: "it is %(dead_letter_status)s",
    NoticeCode.DEAD_LETTER_BODY_CUT: "only the first part of its body was kept: send it again",
    NoticeCode.DEAD_LETTER_ERASED: (
        "its sealed numbers were destroyed when their retention ended: ask the sender again"
    ),
    NoticeCode.DEAD_LETTER_NO_ROUTE: "not replayed: %(error)s",
    NoticeCode.DEAD_LETTER_TAKEN: "another replay took it",
    NoticeCode.DEAD_LETTER_NO_LONGER_PENDING: "it was no longer pending",
    NoticeCode.REPLAY_PUBLISH_FAILED: "publish failed: %(code)s",
    NoticeCode.REPLAY_PUBLISH_FAILED_GIVEN_BACK: "publish failed: %(code)s; the rows are pending again",
    NoticeCode.REPLAY_NOT_MARKED: (
        "published, but not marked replayed (%(code)s): they stay replaying until stale"
    ),
    NoticeCode.REVEAL_SEALED_ELSEWHERE: (
        "this number was sealed for %(recipient)s, whose private key only %(recipient)s's own service holds; "
        "the console reveals numbers sealed for the hub alone"
    ),
    NoticeCode.ERASURE_ARCHIVED: (
        "retention %(date)s: %(sealed)s sealed value(s) destroyed, %(days)s days after replay or discard"
    ),
    NoticeCode.ERASURE_PERSON: "retention %(date)s: %(sealed)s sealed value(s) destroyed",
    NoticeCode.ERASURE_PERSON_RECORDS: (
        "retention %(date)s: %(sealed)s sealed value(s) destroyed, %(records)s record(s) of an erased person "
        "emptied"
    ),
    NoticeCode.ERASURE_PERSON_BODY: (
        "retention %(date)s: %(sealed)s sealed value(s) destroyed, the body destroyed"
    ),
    NoticeCode.ERASURE_PERSON_RECORDS_BODY: (
        "retention %(date)s: %(sealed)s sealed value(s) destroyed, %(records)s record(s) of an erased person "
        "emptied, the body destroyed"
    ),
}


class Notice(str):
    """A notice: its English text (the ``str`` value), its code and the values it names.

    ``Notice(NoticeCode.APPROVAL_UNKNOWN, approval_id="apr-x")`` is ``"no request apr-x"``.
    """

    code: NoticeCode
    params: dict[str, str | int]

    def __new__(cls, code: NoticeCode, /, **params: str | int) -> Notice:  # noqa: D102 - on the class
        clean: dict[str, str | int] = {
            k: redact_text(v) if isinstance(v, str) else v for k, v in params.items()
        }
        text = super().__new__(cls, code.english % clean if clean else code.english)
        text.code = code
        text.params = clean
        return text

    def __reduce__(self) -> tuple[object, tuple[NoticeCode, dict[str, str | int]]]:
        """Copied and pickled as itself, code and values (``dataclasses.asdict`` deep-copies it)."""
        return _rebuild, (self.code, self.params)


def _rebuild(code: NoticeCode, params: dict[str, str | int]) -> Notice:
    return Notice(code, **params)


def notice_of(value: object) -> Notice | None:
    """The notice ``value`` is, or an exception was raised with (its first argument); else ``None``."""
    if isinstance(value, Notice):
        return value
    if isinstance(value, BaseException) and value.args and isinstance(value.args[0], Notice):
        return value.args[0]
    return None


def erasure_notice(
    on: date, *, sealed: int, records: int = 0, body_destroyed: bool = False, after_days: int | None = None
) -> Notice:
    """What retention destroyed in a dead letter on ``on`` (its erasure note): counts and a date only.

    ``after_days``: the archive's erasure, that many days after the dead letter's replay or discard;
    otherwise a person it concerns was erased: ``sealed`` values destroyed, ``records`` records of theirs
    emptied, and the whole body if ``body_destroyed`` (it was not JSON).
    """
    day = on.isoformat()
    if after_days is not None:
        return Notice(NoticeCode.ERASURE_ARCHIVED, date=day, sealed=sealed, days=after_days)
    if records and body_destroyed:
        return Notice(NoticeCode.ERASURE_PERSON_RECORDS_BODY, date=day, sealed=sealed, records=records)
    if records:
        return Notice(NoticeCode.ERASURE_PERSON_RECORDS, date=day, sealed=sealed, records=records)
    if body_destroyed:
        return Notice(NoticeCode.ERASURE_PERSON_BODY, date=day, sealed=sealed)
    return Notice(NoticeCode.ERASURE_PERSON, date=day, sealed=sealed)


def stored(notice: Notice) -> tuple[str, str]:
    """``notice`` as a row keeps it: its code and its parameters as a JSON object."""
    return notice.code.value, json.dumps(notice.params, sort_keys=True, ensure_ascii=False)


_STORED_VALUE = re.compile(r"^(?:\d{4}-\d{2}-\d{2}|[a-z][a-z0-9_.:-]{0,63})$")
"""A stored parameter that is text: a date or a code (a stored notice names counts, dates and codes)."""
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def restored(code: str | None, params: str | None, text: str | None = None) -> str | None:
    """The notice a row keeps as ``code`` and ``params`` (:func:`stored`), else its ``text`` as it is.

    A code this version does not know, or parameters that are not exactly the code's (a count, a date or
    a code each), give ``text``: a row is shown as what it holds, never guessed at.
    """
    if code is None or params is None:
        return text
    try:
        notice_code = NoticeCode(code)
        values = json.loads(params)
    except ValueError:
        return text
    if not isinstance(values, dict) or set(values) != set(_PLACEHOLDER.findall(notice_code.english)):
        return text
    for value in values.values():
        counted = type(value) is int and 0 <= value < 10**9
        if not counted and not (isinstance(value, str) and _STORED_VALUE.match(value)):
            return text
    return Notice(notice_code, **values)
