"""The console's Japanese catalog holds exactly the strings the console marks for translation, each exact.

Strings are extracted the way gettext tools do, without Babel: from the templates with Jinja2's own
``Environment.extract_translations`` (``{% trans %}``, ``_()``, configured as the console configures it), and
from ``hub/console`` Python sources with :mod:`ast`: the first argument of a call to ``_``, ``gettext``,
``ngettext``, ``N_`` or ``LazyText``. The catalog (``hub/console/locale/ja.toml``) must have every one
(nothing shown in English by accident) and nothing else (no stale entry), keep each ``%(name)s``
placeholder, and use the federation's vocabulary as its glossary says.

The core's notices (:mod:`hub.core.operator.notices`: four-eyes refusals, replay and discard outcomes) are
keyed by their stable code in the catalog's ``[notices]`` table: every code needs its Japanese (a new code
without one fails here), and every error code of the hierarchy and every kind of verification problem its
label.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
import sys
from collections.abc import Iterator
from enum import Enum
from pathlib import Path

import jinja2
import pytest

from contracts.errors import RenkeiError
from hub.console.i18n import (
    CatalogTranslations,
    LazyText,
    install,
    load_catalog,
    load_notices,
    translations,
    using,
)
from hub.console.labels import LABELS, label
from hub.console.notices import PARAMETERS, shown
from hub.core.operator.notices import Notice, NoticeCode
from hub.core.runtime.dead_letter_entry import BROKER_REASONS
from hub.core.runtime.retry import CRASH
from hub.infra.audit.verify_chain import ProblemKind

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
        # extract_translations is added to the environment by the i18n extension, at run time.
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
    notices = {NoticeCode(code).english: text for code, text in load_notices("ja").items()}
    for msgid, text in {**load_catalog("ja"), **notices}.items():
        for english, japanese in GLOSSARY.items():
            if english in PLACEHOLDER.sub("", msgid).lower():  # a placeholder's name is not a word shown
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


# -- the core's notices and codes ------------------------------------------------------------------------

SHOWN_AS_THEY_ARE = frozenset(
    {"approval_id", "person", "org", "requested_org", "requested_by", "target", "error"}
)
"""Values a notice names that a page shows unchanged (ids, people, organisations); the rest have a form."""


def test_every_core_notice_has_its_japanese_and_nothing_stale():
    catalog = load_notices("ja")
    codes = {code.value for code in NoticeCode}
    missing = sorted(codes - set(catalog))
    stale = sorted(set(catalog) - codes)
    assert not missing, f"add under [notices] in hub/console/locale/ja.toml: {missing}"
    assert not stale, f"no longer a code of hub/core/operator/notices.py, remove from [notices]: {stale}"


def test_every_notice_translation_says_only_the_values_it_has():
    catalog = load_notices("ja")
    for code in NoticeCode:
        names = set(PLACEHOLDER.findall(code.english))
        text = catalog[code.value]
        assert text.strip(), code
        # Japanese may leave a value out (an English detail a page need not repeat), never invent one.
        assert set(PLACEHOLDER.findall(text)) <= names, code
        assert "%(" not in text.replace("%(", "", len(PLACEHOLDER.findall(text))), code
        text % dict.fromkeys(names, "x")


def test_every_value_a_notice_names_is_said_the_way_the_pages_say_it():
    for code in NoticeCode:
        for name in PLACEHOLDER.findall(code.english):
            assert name in PARAMETERS or name in SHOWN_AS_THEY_ARE, (
                f"{code}: say how a page shows %({name})s (hub.console.notices.PARAMETERS) or that it is "
                "shown as it is"
            )


def test_a_notice_is_english_for_the_api_and_japanese_on_a_page():
    notice = Notice(NoticeCode.APPROVAL_NOT_PENDING, approval_id="apr-abcdefghijkl", status="used")
    assert notice == "apr-abcdefghijkl is used, not pending"  # what the API, the CLI and the logs carry
    with using("ja"):
        assert shown(notice) == "依頼 apr-abcdefghijkl は「実行済み」で、承認待ちではありません"
    with using("en"):
        assert shown(notice) == "apr-abcdefghijkl is used, not pending"
    refusal = Notice(NoticeCode.REPLAY_PUBLISH_FAILED, code="broker_unavailable")
    with using("ja"):
        assert shown(refusal) == "送信に失敗しました：ブローカーに接続できない"


def _codes(cls: type[RenkeiError]) -> set[tuple[str, str]]:
    found = set()
    for sub in cls.__subclasses__():
        module = sub.__module__
        if module.startswith(("contracts.", "hub.")) and not module.startswith("hub.bench"):
            found.add((sub.code, f"{module}.{sub.__qualname__}"))
        found |= _codes(sub)
    return found


ERROR_MODULES = (
    "contracts.errors",
    "hub.console.app",
    "hub.core.operator.approvals",
    "hub.core.operator.holds",
    "hub.infra.crypto.envelope",
    "hub.ports.codes",
    "hub.ports.holds",
    "hub.ports.vault",
)
"""Where the hub's errors are defined (the adapters' are found by walking the package, below)."""


def test_every_error_code_of_the_hierarchy_has_a_label():
    """A dead letter's failure and an action's error are shown by their code's name on a page."""
    for module in ERROR_MODULES:
        importlib.import_module(module)
    codes = {("error", "contracts.errors.RenkeiError")} | _codes(RenkeiError)
    codes |= {(CRASH, "hub.core.runtime.retry.CRASH")}
    codes |= {(reason, "hub.core.runtime.dead_letter_entry.BROKER_REASONS") for reason in BROKER_REASONS}
    assert len(codes) > 25
    missing = sorted(f"{code} ({where})" for code, where in codes if code not in LABELS["error"])
    assert not missing, f"name these codes in hub/console/labels.py LABELS['error']: {missing}"
    assert {kind.value for kind in ProblemKind} == set(LABELS["verify_problem"])


def adapter_codes() -> dict[str, str]:
    """Every failure code an adapter declares, code → where: from the code itself, not from a list here.

    Every module of ``adapters`` is imported; a code is the ``code`` of each error class they define (the
    hierarchy's subclasses), and of each member of an enum they define whose members carry one (a pension
    file's :class:`~adapters.pension.errors.Reason` gives ``pension_<reason>``).
    """
    import adapters

    for info in pkgutil.walk_packages(adapters.__path__, "adapters."):
        importlib.import_module(info.name)
    found: dict[str, str] = {}
    stack: list[type[RenkeiError]] = [RenkeiError]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            stack.append(sub)
            if sub.__module__.startswith("adapters.") and "code" in vars(sub):
                found.setdefault(str(vars(sub)["code"]), f"{sub.__module__}.{sub.__qualname__}")
    for name, module in sorted(sys.modules.items()):
        if not name.startswith("adapters.") or module is None:
            continue
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Enum) and value.__module__ == name:
                for member in value:
                    code = getattr(member, "code", None)
                    if isinstance(code, str):
                        found.setdefault(code, f"{name}.{value.__qualname__}.{member.name}")
    return found


def test_every_adapter_failure_code_has_a_japanese_name():
    """An adapter's own code (jlis_wire_format, pension_checksum_mismatch ...) is named on a Japanese page."""
    codes = adapter_codes()
    # Not vacuous: the six counterparts' codes and the pension file reasons are found.
    assert {"jlis_wire_format", "is_mapping", "eltax_field_refused", "nta_purpose_refused"} <= set(codes)
    assert {"implementing_bodies_unexpected_file", "pension_checksum_mismatch"} <= set(codes)
    assert len(codes) > 50
    catalog = load_catalog("ja")
    unnamed = sorted(f"{code} ({where})" for code, where in codes.items() if code not in LABELS["error"])
    assert not unnamed, f"name these adapter codes in hub/console/labels.py LABELS['error']: {unnamed}"
    untranslated = sorted(code for code in codes if not catalog.get(LABELS["error"][code], "").strip())
    assert not untranslated, (
        f"add the Japanese of these codes' names to hub/console/locale/ja.toml: {untranslated}"
    )
    with using("ja"):
        for code in codes:
            assert label("error", code) != LABELS["error"][code], code  # Japanese, not the English name
