"""A core notice is the English sentence the CLI, the logs, the JSON API and the access record always had.

The sentences below are the ones the core wrote as f-strings before notices carried a code: a notice must
give them byte for byte, so that nothing reading the English (scripts, log searches, the record) changes.
"""

from __future__ import annotations

import copy
import json
import pickle
from dataclasses import asdict
from datetime import date

import pytest

from contracts.errors import ConfigurationError
from contracts.individual_number import synthetic_individual_number
from hub.core.operator.approvals import ApprovalRefused
from hub.core.operator.dead_letter_replay import ActionOutcome, ActionResult
from hub.core.operator.notices import Notice, NoticeCode, erasure_notice, notice_of, restored, stored

APPROVAL = "apr-abcdefghijkl"
EXPIRES = "2026-12-07T10:00:00+00:00"

SENTENCES: list[tuple[NoticeCode, dict[str, str | int], str]] = [
    (
        NoticeCode.APPROVAL_REASON_MISSING,
        {},
        "a request needs a reason (at least 3 characters): it goes to the access record",
    ),
    (
        NoticeCode.APPROVAL_DAILY_LIMIT_REQUEST,
        {"person": "ada", "limit": 10, "used": 7, "open": 3},
        "ada has reached the daily limit of 10 reveals (7 done, 3 requested); ask again tomorrow",
    ),
    (NoticeCode.APPROVAL_UNKNOWN, {"approval_id": APPROVAL}, f"no request {APPROVAL}"),
    (
        NoticeCode.APPROVAL_NOT_PENDING,
        {"approval_id": APPROVAL, "status": "used"},
        f"{APPROVAL} is used, not pending",
    ),
    (
        NoticeCode.APPROVAL_EXPIRED,
        {"approval_id": APPROVAL, "expires_at": EXPIRES},
        f"{APPROVAL} expired at {EXPIRES}: ask again",
    ),
    (
        NoticeCode.APPROVAL_OWN_REQUEST,
        {},
        "a request is approved by another person than its requester (four eyes)",
    ),
    (
        NoticeCode.APPROVAL_REVEAL_FEDERATION_ONLY,
        {},
        "revealing a number is approved by the federation (市町村連合会) only",
    ),
    (
        NoticeCode.APPROVAL_OTHER_ORG,
        {"org": "m120006", "requested_org": "m110001"},
        "m120006 may not decide a request of m110001",
    ),
    (
        NoticeCode.APPROVAL_REQUIRED,
        {"action": "replay_dead_letters"},
        "replay_dead_letters needs a second person: request it (with a reason), have it approved, then act "
        "with the request's id",
    ),
    (
        NoticeCode.APPROVAL_WRONG_ACTION,
        {"approval_id": APPROVAL, "approved_action": "replay_dead_letters", "action": "discard_dead_letters"},
        f"{APPROVAL} is for replay_dead_letters, not discard_dead_letters",
    ),
    (
        NoticeCode.APPROVAL_NOT_APPROVED,
        {"approval_id": APPROVAL, "status": "pending"},
        f"{APPROVAL} is pending: it must be approved by a second person first",
    ),
    (
        NoticeCode.APPROVAL_APPROVAL_EXPIRED,
        {"approval_id": APPROVAL, "expires_at": EXPIRES},
        f"{APPROVAL}'s approval expired at {EXPIRES}: ask again",
    ),
    (
        NoticeCode.APPROVAL_NOT_REQUESTER,
        {"approval_id": APPROVAL, "requested_by": "olga"},
        f"{APPROVAL} is olga's request; only they may carry it out",
    ),
    (
        NoticeCode.APPROVAL_OTHER_TARGET,
        {"approval_id": APPROVAL, "target": '{"ids": [3]}'},
        f'{APPROVAL} was approved for another target: {{"ids": [3]}}',
    ),
    (
        NoticeCode.DEAD_LETTER_NEEDS_APPROVAL,
        {},
        "its body carries numbers: it needs a second person (request it by id, have it approved, then act "
        "with the request)",
    ),
    (NoticeCode.DEAD_LETTER_IN_STATUS, {"dead_letter_status": "replayed"}, "it is replayed"),
    (NoticeCode.REPLAY_PUBLISH_FAILED, {"code": "broker_unavailable"}, "publish failed: broker_unavailable"),
    (
        NoticeCode.REPLAY_PUBLISH_FAILED_GIVEN_BACK,
        {"code": "broker_unavailable"},
        "publish failed: broker_unavailable; the rows are pending again",
    ),
    (
        NoticeCode.REPLAY_NOT_MARKED,
        {"code": "store_unavailable"},
        "published, but not marked replayed (store_unavailable): they stay replaying until stale",
    ),
    (
        NoticeCode.REVEAL_SEALED_ELSEWHERE,
        {"recipient": "jlis"},
        "this number was sealed for jlis, whose private key only jlis's own service holds; the console "
        "reveals numbers sealed for the hub alone",
    ),
    (
        NoticeCode.ERASURE_ARCHIVED,
        {"date": "2031-03-01", "sealed": 2, "days": 30},
        "retention 2031-03-01: 2 sealed value(s) destroyed, 30 days after replay or discard",
    ),
    (
        NoticeCode.ERASURE_PERSON,
        {"date": "2031-03-01", "sealed": 1},
        "retention 2031-03-01: 1 sealed value(s) destroyed",
    ),
    (
        NoticeCode.ERASURE_PERSON_RECORDS,
        {"date": "2031-03-01", "sealed": 0, "records": 3},
        "retention 2031-03-01: 0 sealed value(s) destroyed, 3 record(s) of an erased person emptied",
    ),
    (
        NoticeCode.ERASURE_PERSON_BODY,
        {"date": "2031-03-01", "sealed": 0},
        "retention 2031-03-01: 0 sealed value(s) destroyed, the body destroyed",
    ),
    (
        NoticeCode.ERASURE_PERSON_RECORDS_BODY,
        {"date": "2031-03-01", "sealed": 4, "records": 1},
        "retention 2031-03-01: 4 sealed value(s) destroyed, 1 record(s) of an erased person emptied, "
        "the body destroyed",
    ),
]


@pytest.mark.parametrize(("code", "params", "english"), SENTENCES, ids=lambda v: getattr(v, "value", ""))
def test_a_notice_is_the_english_it_always_was(code, params, english):
    notice = Notice(code, **params)
    assert notice == english
    assert str(notice) == english
    assert notice.code is code
    assert notice.params == params


def test_a_notice_goes_through_an_exception_a_copy_and_a_pickle_with_its_code():
    notice = Notice(NoticeCode.APPROVAL_UNKNOWN, approval_id=APPROVAL)
    refused = ApprovalRefused(notice)
    assert str(refused) == f"no request {APPROVAL}"
    assert notice_of(refused) is notice
    assert notice_of(ConfigurationError("plain text")) is None
    result = ActionResult(1, None, "q", ActionOutcome.SKIPPED, Notice(NoticeCode.DEAD_LETTER_TAKEN))
    copied = asdict(result)["detail"]  # the CLI's --json deep-copies its results
    assert copied == "another replay took it"
    found = notice_of(copied)
    assert found is not None
    assert found.code is NoticeCode.DEAD_LETTER_TAKEN
    again = pickle.loads(pickle.dumps(notice))
    assert (again, again.code, again.params) == (notice, notice.code, notice.params)
    assert copy.copy(notice).params == notice.params


def test_a_notice_never_carries_a_number():
    number = synthetic_individual_number().reveal()  # were one ever passed as a value, it is not kept
    notice = Notice(NoticeCode.APPROVAL_NOT_REQUESTER, approval_id=APPROVAL, requested_by=f"x {number}")
    assert number not in notice
    assert number not in str(notice.params)


def _as_retention_wrote_it(sealed: int, records: int, destroyed: bool, days: int | None) -> str:
    """The erasure note as retention wrote it before it was a notice (the f-strings it had)."""
    on = date(2031, 3, 1)
    if days is not None:
        return (
            f"retention {on.isoformat()}: {sealed} sealed value(s) destroyed, "
            f"{days} days after replay or discard"
        )
    return (
        f"retention {on.isoformat()}: {sealed} sealed value(s) destroyed"
        + (f", {records} record(s) of an erased person emptied" if records else "")
        + (", the body destroyed" if destroyed else "")
    )


@pytest.mark.parametrize(
    ("sealed", "records", "destroyed", "days"),
    [(2, 0, False, 30), (1, 0, False, None), (0, 3, False, None), (0, 0, True, None), (4, 1, True, None)],
)
def test_an_erasure_note_is_the_sentence_retention_wrote_and_is_stored_as_its_code(
    sealed, records, destroyed, days
):
    notice = erasure_notice(
        date(2031, 3, 1), sealed=sealed, records=records, body_destroyed=destroyed, after_days=days
    )
    assert notice == _as_retention_wrote_it(sealed, records, destroyed, days)
    code, params = stored(notice)
    assert code == notice.code.value
    assert code.startswith("erasure.")
    assert json.loads(params) == notice.params
    again = restored(code, params, None)
    assert again == notice
    found = notice_of(again)
    assert found is not None
    assert found.code is notice.code


def test_a_stored_note_that_is_not_a_notice_is_shown_as_it_was_stored():
    legacy = "retention: 1 sealed value(s) destroyed"
    assert restored(None, None, legacy) == legacy
    assert notice_of(restored(None, None, legacy)) is None
    assert restored(None, None, None) is None
    good = json.dumps({"date": "2031-03-01", "sealed": 1})
    assert restored("erasure.person", good, legacy) == "retention 2031-03-01: 1 sealed value(s) destroyed"
    number = synthetic_individual_number().reveal()
    for code, params in (
        ("erasure.unknown_to_this_version", good),  # a code from a newer version
        ("erasure.person", "not json"),
        ("erasure.person", json.dumps(["2031-03-01", 1])),
        ("erasure.person", json.dumps({"date": "2031-03-01"})),  # a value missing
        ("erasure.person", json.dumps({"date": "2031-03-01", "sealed": 1, "extra": 2})),
        ("erasure.person", json.dumps({"date": "2031-03-01", "sealed": int(number)})),  # never a number
        ("erasure.person", json.dumps({"date": number, "sealed": 1})),
        ("erasure.person", json.dumps({"date": "2031-03-01", "sealed": 1.5})),
    ):
        assert restored(code, params, legacy) == legacy, (code, params)
