"""A dead letter's erasure note as a notice code and its values, so that a page says it in its own language.

Revision ID: 0011_erasure_notice
Revises: 0010_purpose_and_actors
Create Date: 2026-12-20

* ``dead_letters.erasure_code`` and ``erasure_params``: what retention destroyed in a dead letter, as a
  :class:`hub.core.operator.notices.NoticeCode` (``erasure.*``) and its values as a JSON object (the date,
  and counts: sealed values, records emptied, days after a replay or discard). No person, no value.
* Existing notes are converted where the sentence is one retention wrote (``retention 2026-12-01: 2 sealed
  value(s) destroyed, 30 days after replay or discard`` and the erased person's variants); their
  ``erasure_note`` is then cleared. A note that is not one of them is kept as it is, in ``erasure_note``.

Downgrading writes each converted note back as the English sentence its code and values say (the same
bytes retention wrote), then drops the two columns.

The sentences are copied here, not imported: a migration describes the data as it was when it was written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from typing import Any, Final

import sqlalchemy as sa
from alembic import op

revision: str = "0011_erasure_notice"
down_revision: str | None = "0010_purpose_and_actors"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_HEAD: Final = r"retention (?P<date>\d{4}-\d{2}-\d{2}): (?P<sealed>\d{1,9}) sealed value\(s\) destroyed"
_ARCHIVED: Final = re.compile(_HEAD + r", (?P<days>\d{1,9}) days after replay or discard")
_PERSON: Final = re.compile(
    _HEAD
    + r"(?:, (?P<records>\d{1,9}) record\(s\) of an erased person emptied)?(?P<body>, the body destroyed)?"
)
_SENTENCES: Final = {
    "erasure.archived": (
        "retention %(date)s: %(sealed)s sealed value(s) destroyed, %(days)s days after replay or discard"
    ),
    "erasure.person": "retention %(date)s: %(sealed)s sealed value(s) destroyed",
    "erasure.person_records": (
        "retention %(date)s: %(sealed)s sealed value(s) destroyed, %(records)s record(s) of an erased person "
        "emptied"
    ),
    "erasure.person_body": "retention %(date)s: %(sealed)s sealed value(s) destroyed, the body destroyed",
    "erasure.person_records_body": (
        "retention %(date)s: %(sealed)s sealed value(s) destroyed, %(records)s record(s) of an erased person "
        "emptied, the body destroyed"
    ),
}
"""Each code's sentence, as ``hub/core/operator/notices.py`` says it at this revision."""

_dead_letters = sa.table(
    "dead_letters",
    sa.column("id", sa.Integer()),
    sa.column("erasure_note", sa.Text()),
    sa.column("erasure_code", sa.String(64)),
    sa.column("erasure_params", sa.Text()),
)


def parse(note: str) -> tuple[str, dict[str, Any]] | None:
    """The code and values of a note retention wrote, or ``None`` for any other text."""
    if found := _ARCHIVED.fullmatch(note):
        values = found.groupdict()
        return "erasure.archived", {
            "date": values["date"],
            "sealed": int(values["sealed"]),
            "days": int(values["days"]),
        }
    if found := _PERSON.fullmatch(note):
        values = found.groupdict()
        params: dict[str, Any] = {"date": values["date"], "sealed": int(values["sealed"])}
        code = "erasure.person"
        if values["records"] is not None:
            params["records"] = int(values["records"])
            code += "_records"
        if values["body"] is not None:
            code += "_body"
        return code, params
    return None


def _rows(column: sa.ColumnElement[Any]) -> Iterator[Any]:
    """Every dead letter with ``column`` set, in id order, a page at a time."""
    t, last = _dead_letters, 0
    bind = op.get_bind()
    while True:
        page = bind.execute(
            sa.select(t.c.id, t.c.erasure_note, t.c.erasure_code, t.c.erasure_params)
            .where(column.is_not(None), t.c.id > last)
            .order_by(t.c.id)
            .limit(500)
        ).all()
        if not page:
            return
        last = int(page[-1].id)
        yield from page


def upgrade() -> None:
    """Add the columns; convert each note retention wrote, keep any other text as it is."""
    with op.batch_alter_table("dead_letters") as batch:
        batch.add_column(
            sa.Column("erasure_code", sa.String(length=64), nullable=True, comment="a NoticeCode (erasure.*)")
        )
        batch.add_column(
            sa.Column("erasure_params", sa.Text(), nullable=True, comment="its values, a JSON object")
        )
    t = _dead_letters
    converted = []
    for row in _rows(t.c.erasure_note):
        found = parse(row.erasure_note)
        if found is not None:
            code, params = found
            converted.append({"b_id": row.id, "b_code": code, "b_params": json.dumps(params, sort_keys=True)})
    if converted:
        op.get_bind().execute(
            sa.update(t)
            .where(t.c.id == sa.bindparam("b_id"))
            .values(erasure_code=sa.bindparam("b_code"), erasure_params=sa.bindparam("b_params"), erasure_note=None),
            converted,
        )


def downgrade() -> None:
    """Write each code and its values back as its sentence, then drop the columns."""
    t = _dead_letters
    written = []
    for row in _rows(t.c.erasure_code):
        sentence = _SENTENCES.get(row.erasure_code)
        if sentence is not None and row.erasure_params is not None:
            written.append({"b_id": row.id, "b_note": sentence % json.loads(row.erasure_params)})
    if written:
        op.get_bind().execute(
            sa.update(t).where(t.c.id == sa.bindparam("b_id")).values(erasure_note=sa.bindparam("b_note")),
            written,
        )
    with op.batch_alter_table("dead_letters") as batch:
        batch.drop_column("erasure_params")
        batch.drop_column("erasure_code")
