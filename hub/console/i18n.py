"""The console's language: Japanese by default, English on request; one message catalog, as data.

English is the source text (the msgid) everywhere in the code and the templates; the Japanese catalog
``hub/console/locale/ja.toml`` maps each msgid to its translation and is turned into a
:class:`gettext.NullTranslations` subclass (:class:`CatalogTranslations`). Templates use Jinja2's i18n
extension (``{% trans %}``, ``_()``), installed with :func:`install`; Python code uses :func:`gettext`
(``_``), :func:`ngettext`, :func:`N_` (a marker for a table of labels translated where shown) and
:class:`LazyText` (an English message, e.g. an error's, that a page shows translated while the JSON API
and the access record keep the English). ``tests/unit/test_console_catalog.py`` extracts every such string
and keeps the catalog equal to them.

The language of a request is ``?lang=en|ja`` if given (then remembered in the ``renkei_lang`` cookie), else
the cookie's, else Japanese. :class:`LanguageMiddleware` sets it for the request (a context variable, so
the template callables and :func:`gettext` see it, in the request's threads too).
"""

from __future__ import annotations

import gettext as _gettext
import tomllib
from collections.abc import Mapping
from contextvars import ContextVar, Token
from functools import cache
from http.cookies import SimpleCookie
from importlib import resources
from typing import Final, Protocol, runtime_checkable
from urllib.parse import parse_qs

import jinja2
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "COOKIE",
    "DEFAULT",
    "LANGUAGES",
    "N_",
    "CatalogTranslations",
    "LanguageMiddleware",
    "LazyText",
    "Localizable",
    "current_language",
    "gettext",
    "install",
    "load_catalog",
    "load_notices",
    "localize",
    "ngettext",
    "translations",
    "using",
]

LANGUAGES: Final = ("ja", "en")
"""The console's languages, the default first."""
DEFAULT: Final = "ja"
COOKIE: Final = "renkei_lang"
_ONE_YEAR: Final = 365 * 24 * 3600


class CatalogTranslations(_gettext.NullTranslations):
    """Translations from a catalog mapping each English msgid to its text (Japanese has one plural form).

    A msgid missing from the catalog is shown in English (the catalog test keeps none missing).
    """

    def __init__(self, messages: Mapping[str, str], language: str) -> None:
        super().__init__()
        self._messages = dict(messages)
        self._info = {"language": language}

    def gettext(self, message: str) -> str:
        """The translation of ``message``, or ``message``."""
        return self._messages.get(message, message)

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        """The translation of the singular ``msgid1`` (one form for every ``n``), or the English form."""
        found = self._messages.get(msgid1)
        if found is not None:
            return found
        return msgid1 if n == 1 else msgid2

    @property
    def messages(self) -> Mapping[str, str]:
        """The catalog's entries, msgid → translation."""
        return self._messages


def _table(language: str, name: str) -> dict[str, str]:
    text = resources.files("hub.console").joinpath(f"locale/{language}.toml").read_text(encoding="utf-8")
    table = tomllib.loads(text).get(name, {})
    return {str(k): str(v) for k, v in table.items()}


def load_catalog(language: str) -> dict[str, str]:
    """The ``[messages]`` table of ``locale/<language>.toml``, msgid → translation."""
    return _table(language, "messages")


@cache
def load_notices(language: str) -> dict[str, str]:
    """The ``[notices]`` table of ``locale/<language>.toml``: a core notice's code → its text.

    The core's notices (:class:`hub.core.operator.notices.Notice`) are keyed by their stable code, not
    their English, so that an English wording can be mended without losing its translation. English has no
    table: the notice's own text is the English.
    """
    return {} if language == "en" else _table(language, "notices")


@cache
def translations(language: str) -> _gettext.NullTranslations:
    """The translations of ``language``: English is the source text itself (no catalog)."""
    if language == "en":
        return _gettext.NullTranslations()
    return CatalogTranslations(load_catalog(language), language)


_language: ContextVar[str] = ContextVar("renkei_console_language", default=DEFAULT)


def current_language() -> str:
    """The language of the request being served (Japanese outside a request)."""
    return _language.get()


class using:  # noqa: N801 - used like a function: ``with using("en"): ...``
    """Serve in ``language`` within the ``with`` block."""

    def __init__(self, language: str) -> None:
        self._language = language if language in LANGUAGES else DEFAULT
        self._token: Token[str] | None = None

    def __enter__(self) -> str:
        self._token = _language.set(self._language)
        return self._language

    def __exit__(self, *_: object) -> None:
        if self._token is not None:
            _language.reset(self._token)


def gettext(message: str) -> str:
    """``message`` in the current language."""
    return translations(current_language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of ``singular``/``plural`` for ``n`` in the current language."""
    return translations(current_language()).ngettext(singular, plural, n)


_ = gettext


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker name
    """Mark ``message`` for the catalog; translated where it is shown (a table of labels)."""
    return message


class LazyText(str):
    """An English message that a page shows in the reader's language (:func:`localize`).

    Its ``str`` value is the English, formatted: what the API, logs and records carry.

    ``LazyText("no dead letter %(id)s", id=5)`` is ``"no dead letter 5"``; on a Japanese page
    ``localize`` gives the catalog's translation with the same values.
    """

    msgid: str
    params: dict[str, object]

    def __new__(cls, msgid: str, /, **params: object) -> LazyText:  # noqa: D102 - documented on the class
        text = super().__new__(cls, msgid % params if params else msgid)
        text.msgid = msgid
        text.params = params
        return text

    def localized(self) -> str:
        """The message in the current language."""
        translated = gettext(self.msgid)
        if not self.params:
            return translated
        return translated % {
            k: localize(v) if isinstance(v, Localizable) else v for k, v in self.params.items()
        }


@runtime_checkable
class Localizable(Protocol):
    """Something with its own text per language (:class:`LazyText`, a core notice shown by the console)."""

    def localized(self) -> str:
        """The text in the current language."""
        ...


def localize(value: object) -> str:
    """A :class:`Localizable` in the current language; anything else as its text (a library's message)."""
    if isinstance(value, Localizable):
        return value.localized()
    return "" if value is None else str(value)


def install(env: jinja2.Environment) -> None:
    """Add Jinja2's i18n extension to ``env`` with callables that follow the request's language."""
    env.add_extension("jinja2.ext.i18n")
    env.policies["ext.i18n.trimmed"] = True  # a {% trans %} block's line breaks and indents are one space
    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]  # added by the i18n extension at run time


def _chosen(scope: Scope) -> tuple[str, bool]:
    """The request's language and whether it was asked for in the query (to be remembered)."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    asked = query.get("lang", [""])[-1]
    if asked in LANGUAGES:
        return asked, True
    for key, value in scope.get("headers", ()):
        if key == b"cookie":
            cookie: SimpleCookie = SimpleCookie()
            try:
                cookie.load(value.decode("latin-1"))
            except Exception:  # noqa: BLE001, S112 - an unreadable cookie header means no choice made
                continue
            morsel = cookie.get(COOKIE)
            if morsel is not None and morsel.value in LANGUAGES:
                return morsel.value, False
    return DEFAULT, False


class LanguageMiddleware:
    """ASGI middleware: serve each request in its language; remember a ``?lang=`` choice in a cookie."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app in the request's language."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        language, asked = _chosen(scope)

        async def remembered(message: Message) -> None:
            if message["type"] == "http.response.start":
                cookie = f"{COOKIE}={language}; Path=/; Max-Age={_ONE_YEAR}; SameSite=Lax"
                message = {
                    **message,
                    "headers": [*message.get("headers", []), (b"set-cookie", cookie.encode())],
                }
            await send(message)

        with using(language):
            await self.app(scope, receive, remembered if asked else send)
