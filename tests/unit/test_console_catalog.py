"""The console's Japanese catalog holds exactly the strings the console marks for translation, each exact.

Strings are extracted the way gettext tools do, without Babel: from the templates with Jinja2's own
``Environment.extract_translations`` (``{% trans %}``, ``_()``, configured as the console configures it), and
from ``hub/console`` Python sources with :mod:`ast`: the first argument of a call to ``_``, ``gettext``,
``ngettext``, ``N_`` or ``LazyText``. The catalog (``hub/console/locale/ja.toml``) must have every one
(nothing shown in English by accident) and nothing else (no stale entry), keep each ``%(name)s``
placeholder, and use the federation's vocabulary as its glossary says.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import jinja2
import pytest

from hub.console.i18n import CatalogTranslations, LazyText, install, load_catalog, translations, using

ROOT = Path(__file__).resolve().parents[2]
CONSOLE = ROOT / "hub" / "console"
KEYWORDS = frozenset({"_", "gettext", "ngettext", "N_", "LazyText"})
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def template_messages() -> Iterator[tuple[str, str]]:
    """``(where, msgid)`` of every translatable string in the templates (a plural by its singular)."""
    env = jinja2.Environment(autoescape=True)
    install(env)
    for path in sorted((CONSOLE / "templates").glob("*.html")):
        source = path.read_text(encoding="utf-8")
        for lineno, _func, message in env.extract_translations(source):  # type: ignore[attr-defined]
            singular = message if isinstance(message, str) else message[0]
            if singular:
                yield f"{path.name}:{lineno}", singular


def _calls(tree: ast.AST) -> Iterator[ast.Call]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in KEYWORDS:
            yield node


def python_messages() -> Iterator[tuple[str, str]]:
    """``(where, msgid)`` of every literal passed to a translation keyword in ``hub/console``."""
    for path in sorted(CONSOLE.rglob("*.py")):
        for call in _calls(ast.parse(path.read_text(encoding="utf-8"))):
            if call.args and isinstance(call.args[0], ast.Constant) and isinstance(call.args[0].value, str):
                yield f"{path.relative_to(ROOT)}:{call.lineno}", call.args[0].value


def test_no_message_is_built_before_it_is_translated():
    """A msgid is a literal (or a variable holding one marked with N_): never an f-string or a sum."""
    built = []
    for path in sorted(CONSOLE.rglob("*.py")):
        for call in _calls(ast.parse(path.read_text(encoding="utf-8"))):
            if call.args and isinstance(call.args[0], ast.JoinedStr | ast.BinOp):
                built.append(f"{path.relative_to(ROOT)}:{call.lineno}")
    assert not built, f"translate the template, then format it: {built}"


def test_the_extraction_finds_the_console_strings():
    found = {m for _, m in template_messages()} | {m for _, m in python_messages()}
    # One of each kind: a template _(), a {% trans %} block with a variable, a plural, a nav label (N_),
    # an error (LazyText) and a chart's text (gettext): the extraction is not vacuous.
    for expected in (
        "Dead letters",
        "Every access record of %(id)s, oldest first.",
        "last %(count)s hour",
        "Approvals",
        "no dead letter %(id)s",
        "no traffic in this window",
    ):
        assert expected in found
    assert len(found) > 150


def test_the_catalog_has_every_string_and_nothing_stale():
    extracted: dict[str, str] = {}
    for where, message in [*template_messages(), *python_messages()]:
        extracted.setdefault(message, where)
    catalog = load_catalog("ja")
    missing = {m: w for m, w in extracted.items() if m not in catalog}
    stale = sorted(set(catalog) - set(extracted))
    assert not missing, f"add to hub/console/locale/ja.toml: {missing}"
    assert not stale, f"no longer in the console, remove from hub/console/locale/ja.toml: {stale}"


def test_every_translation_keeps_its_placeholders_and_formats():
    for msgid, text in load_catalog("ja").items():
        assert text.strip(), msgid
        assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(msgid)), msgid
        names = dict.fromkeys(PLACEHOLDER.findall(msgid), "x")
        if names:
            text % names
        else:
            assert "%(" not in text, msgid


# English words of the federation's work, and the one Japanese term the catalog uses for each (the
# glossary at the top of ja.toml). A string naming the thing says it the same way everywhere.
GLOSSARY = {
    "dead letter": "デッドレター",
    "individual number": "個人番号",
    "access record": "アクセス記録",
    "replay": "再送",
    "discard": "破棄",
    "approv": "承認",
    "four eyes": "二者承認",
}
SHUNNED = ("処理不能メッセージ", "マイナンバー", "リプレイ", "監査ログ", "承認者確認")


def test_the_catalog_speaks_the_federations_vocabulary():
    for msgid, text in load_catalog("ja").items():
        for english, japanese in GLOSSARY.items():
            if english in msgid.lower():
                assert japanese in text, f"{msgid!r}: say {japanese} for {english!r}, not {text!r}"
        for word in SHUNNED:
            assert word not in text, f"{msgid!r}: {word} is not the glossary's term"


def test_japanese_is_the_default_and_english_the_source():
    ja = translations("ja")
    assert isinstance(ja, CatalogTranslations)
    assert ja.gettext("Dead letters") == "デッドレター"
    assert translations("en").gettext("Dead letters") == "Dead letters"
    error = LazyText("no dead letter %(id)s", id=7)
    assert error == "no dead letter 7"  # what the API and the records carry
    with using("ja"):
        assert error.localized() == load_catalog("ja")["no dead letter %(id)s"] % {"id": 7}
    with using("en"):
        assert error.localized() == "no dead letter 7"


@pytest.mark.parametrize("language", ["ja", "en"])
def test_every_template_renders_its_strings_in_each_language(language):
    """Every msgid formats with its own placeholders in each language (a typo'd name would raise)."""
    for msgid in load_catalog("ja"):
        names = dict.fromkeys(PLACEHOLDER.findall(msgid), "1")
        with using(language):
            LazyText(msgid, **names).localized()
