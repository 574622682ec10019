"""The core's notices (four eyes, replay and discard, reveal, erasure) on a page, in the reader's language.

The core gives a person a :class:`~hub.core.operator.notices.Notice`: its English text, which the JSON
API, the CLI and the logs carry unchanged, and a stable code with the values it names. A page shows it through
:func:`shown`: in English, the text itself; in Japanese, the ``[notices]`` entry of the catalog for its code
(``hub/console/locale/ja.toml``), filled with its values, each said the way the pages say it (a status or an
action by its label, an error code by its name, a time as the pages write times, a date as ``2026-12-01``, a
count with separators).

A value is never a number of a person nor a body (the core's notices name ids, statuses, counts, codes and
people); the page redacts the text once more all the same.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Final

from hub.console.i18n import current_language, load_notices, localize
from hub.console.labels import label
from hub.console.render import safe, when
from hub.core.operator.notices import Notice, notice_of

__all__ = ["PARAMETERS", "detail", "shown"]


def _labelled(kind: str) -> Callable[[str | int], str]:
    return lambda value: label(kind, value)


def _time(value: str | int) -> str:
    try:
        return when(datetime.fromisoformat(str(value)))
    except ValueError:
        return str(value)


def _count(value: str | int) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def _date(value: str | int) -> str:
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        return str(value)


PARAMETERS: Final[dict[str, Callable[[str | int], str]]] = {
    "status": _labelled("approval_status"),
    "dead_letter_status": _labelled("dead_letter"),
    "action": _labelled("approval_action"),
    "approved_action": _labelled("approval_action"),
    "code": _labelled("error"),
    "recipient": _labelled("counterpart"),
    "expires_at": _time,
    "date": _date,
    "limit": _count,
    "used": _count,
    "open": _count,
    "sealed": _count,
    "records": _count,
    "days": _count,
}
"""How a page says a notice's value, by the value's name (any other value is shown as it is)."""


def _japanese(notice: Notice, catalog: dict[str, str]) -> str:
    template = catalog.get(notice.code.value)
    if template is None:  # the catalog test keeps none missing
        return str(notice)
    values = {k: PARAMETERS.get(k, str)(v) for k, v in notice.params.items()}
    return template % values


def shown(value: object) -> str:
    """What a page shows for ``value``: a notice in the reader's language, else as :func:`localize`."""
    notice = notice_of(value)
    if notice is None:
        return localize(value)
    language = current_language()
    text = str(notice) if language == "en" else _japanese(notice, load_notices(language))
    return safe(text)


def detail(exc: BaseException) -> str:
    """An exception's message for an HTTP error: its notice (a page translates it), else its redacted text."""
    notice = notice_of(exc)
    return notice if notice is not None else safe(exc)
