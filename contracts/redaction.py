r"""Redaction: the one place that finds Individual Numbers in what leaves renkei's control.

Numbers travel sealed, so a well-formed message never holds one in the clear; this module is the last line
of defence behind sealing. Everything that carries text or bytes out of renkei's hands goes through it:
dead-letter bodies, headers and reasons, log lines, error texts, console pages and ``renkei dlq`` output,
replays. The input validators (:mod:`contracts.text`, :mod:`contracts.usage_number`) use the same finder,
so that what is refused at the door and what is redacted on the way out is one definition.

**What it finds.** A *digit* is any Unicode decimal digit (ASCII ``0-9``, full-width ``０-９`` and the other
scripts' digits) or a JSON/JavaScript escape of an ASCII or full-width digit (``\u0031``, ``\uff11``). A
*run* is a sequence of digits in which two neighbours are at most three *separator* characters apart:
spaces (ASCII, no-break, ideographic U+3000), hyphens and dashes (``-``, U+2010-U+2015, U+2212 minus, the
full-width hyphen-minus U+FF0D, the prolonged sound mark ー), or a JSON escape of one of them. Twelve
digits whose last is the check digit of the eleven before it *are* a number when they stand in a row that
is not part of a longer row of digits, or in three groups of four: ``dddddddddddd``, ``dddd dddd dddd``,
full-width digits with full-width hyphens and ``\u0031\u0032…`` are, wherever they stand in a run.

Redaction goes further (``embedded``): every 12-digit *window* of a run with a valid check digit is a
number too, however it is grouped, so that one inside the digits of a fixed-width record
(``0120240101<number>19580803``) or glued to a date is found. Windows that overlap are one span. A run of
more than :data:`LONG_RUN` digits is a span as a whole: nearly every such run holds valid windows that
cover it (about one window in ten is valid), and checking millions of windows of a hostile body would cost
seconds. The price is paid in readability only: a 15-digit 団体内統合宛名番号, a long timestamp or a date
and a time written together are often redacted too. Input validation (:func:`holds_number`) and leak
scanners do not take that price: a longer row of digits is a value of its own, not a number, and refusing
every message with a 15-digit code would refuse lawful work.

**What it never rewrites.** Identifiers are recognised by their shape *before* numbers are looked for, and
a digit run never crosses one: the identifier wins, and the text on either side is searched on its own.
The shapes (each bounded by a character that is not a letter or a digit):

* a UUID, ``8-4-4-4-12`` hex digits (its last group is twelve decimal digits with a valid check digit for
  about one UUID in 3,100);
* a hex id or digest of 16 or more hex digits holding at least one letter (a run of decimal digits alone is
  a digit run, not an id);
* a sealed value, ``sealed:v<digits>:`` and its colon-separated fields (``v1``'s base64url, ``v2``'s
  letters ``a``-``p`` and any later version; see :mod:`contracts.sealing`);
* a vault token ``tk<version><tag>_<letters>``, and a token of the reference design,
  ``mn<version>.<base32>.<version>``.

A file name that carries an id keeps it (the id part is recognised; the rest of the name has no digit run).
In a structured field known to hold an identifier (message and correlation ids),
:func:`redact_identifier` keeps a value that *is* an identifier without looking further. The cost of the
rule: free text can hide a number from the redactor by writing it as part of an identifier's shape (hex
letters around it, say); sealing, not redaction, is what keeps numbers out of messages.

**What it writes.** Text (:func:`redact_text`) gets :data:`REDACTED` in place of each span. Bytes
(:func:`redact_bytes`) keep their length and encoding: each digit of a number becomes an asterisk of the
same byte length in the same form (``*``; ``＊`` in UTF-8, Shift_JIS, EUC-JP, UTF-16 and JIS X 0208;
``\u002a`` for an escape), separators and every other byte stay as they were. A fixed-width record keeps
its layout, a Shift_JIS or UTF-16 body stays decodable, JSON stays JSON, and an encrypted body keeps every
byte.

**Bytes of unknown encoding.** A body is read in every encoding renkei reads or writes, each pass masking in
place (so the passes compose without moving a byte):

1. as UTF-8, with every byte that is not UTF-8 kept as itself (``surrogateescape``): UTF-8 text, and the
   ASCII digits of CP932/Shift_JIS, EUC-JP, JIS8 (JIS X 0201) and ISO-2022-JP's ASCII mode (an ASCII byte
   is never part of another character in any of them);
2. as Shift_JIS/CP932 and EUC-JP, on the bytes themselves: their two-byte full-width digits and separators,
   with ASCII digits and separators beside them (not through a decode, where a trail byte and the next
   lead byte can pass for a UTF-8 character and hide a digit); a run must hold a two-byte part;
3. as JIS X 0208 two-byte codes (ISO-2022-JP, and the kanji fields of JIS8 files between their shift
   sequences): full-width digits ``#0``-``#9`` and separators, with the shift sequences themselves
   (``ESC $ B``, ``ESC ( B`` ...) read as nothing, so a number split by one is still one run;
4. as UTF-16, little- and big-endian, from an even and from an odd offset, with or without a byte-order
   mark, identifiers recognised as in text; only when the body holds a NUL or a 0xFF byte, which every
   ASCII or full-width digit in UTF-16 has (another script's digits in a UTF-16 body without a single ASCII
   character would go unread).

**Performance.** Text shorter than twelve characters costs a length check; other text one regular
expression scan, of character classes only unless it holds an escape; identifiers are looked for only
around a run that was found. A JSON log line of 370 characters with two UUIDs and a timestamp takes about
12 µs, as long as the finder this module replaced, which knew no separator, escape or identifier. A
body costs more (measured on the shared development machine): 4 MiB of UTF-8 JSON about half a second,
4 MiB of random bytes under a second, 1 MiB of CP932 text or of UTF-16 JSON about 0.15 s. That is the
dead-letter path, never the path of every message.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from typing import AnyStr, Final

from contracts.individual_number import check_digit

__all__ = [
    "LONG_RUN",
    "REDACTED",
    "find_numbers",
    "holds_number",
    "identifier_spans",
    "is_identifier",
    "redact_bytes",
    "redact_identifier",
    "redact_text",
    "replace_spans",
    "scrub",
]

REDACTED: Final = "[個人番号:redacted]"
"""What :func:`redact_text` puts in place of a number."""

LONG_RUN: Final = 64
"""A run of more digits than this is one span as a whole, without checking its windows."""

Span = tuple[int, int]
_Number = tuple[int, int, list[Span]]  # a number's span and the spans of its digits (none: the whole run)

# -- text ---------------------------------------------------------------------------------------------

_SEPARATOR_CHARS: Final = " \u00a0\u3000-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\uff0d\u30fc\uff70"
_ESCAPED_DIGIT: Final = r"\\u(?:003[0-9]|[fF][fF]1[0-9])"
_ESCAPED_SEPARATOR: Final = (
    r"\\u(?:0020|00[aA]0|3000|002[dD]|201[0-5]|2212|[fF][fF]0[dD]|30[fF][cC]|[fF][fF]70)"
)
_SEPARATOR_CLASS: Final = f"[{re.escape(_SEPARATOR_CHARS)}]"


def _run_of(digit: AnyStr, separator: AnyStr) -> re.Pattern[AnyStr]:
    # Twelve digits at least; neighbours at most three separators apart. Possessive: no separator is a
    # digit, so giving one back could never help, and not trying is faster.
    group, gap, more = (
        (b"(?:", b"{0,3}+", b"){11,}") if isinstance(digit, bytes) else ("(?:", "{0,3}+", "){11,}")
    )
    return re.compile(digit + group + separator + gap + digit + more)


_PLAIN: Final = (_run_of(r"\d", _SEPARATOR_CLASS), re.compile(r"\d"))
"""Text without an escape (nearly every log line): character classes only, twice as fast."""
_TEXT_DIGIT: Final = rf"(?:\d|{_ESCAPED_DIGIT})"
_TEXT: Final = (
    _run_of(_TEXT_DIGIT, rf"(?:{_SEPARATOR_CLASS}|{_ESCAPED_SEPARATOR})"),
    re.compile(_TEXT_DIGIT),
)
_LONGEST_UNIT: Final = 24
"""The most characters one digit and the gap before it can take (an escape and three escaped separators):
a run longer than ``LONG_RUN`` times this holds more than ``LONG_RUN`` digits, without counting them."""
_ID_REACH: Final = 256
"""How far around a digit run identifiers are looked for: an identifier longer than this that holds the run
is not recognised, and the run is redacted."""

_ID_SHAPES: Final = (
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"  # UUID
    r"|(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{16,}"  # hex id or digest, one letter at least
    r"|sealed:v[0-9]{1,3}(?::[A-Za-z0-9_=-]+)+"  # sealed value, any version
    r"|tk[1-9][0-9]{0,3}[a-z]{4}_[a-z]{16,}"  # vault token
    r"|mn[0-9]{1,3}\.[A-Za-z2-7]{16,}\.[0-9]{1,4}"  # token of the reference design
)
_IDENTIFIER: Final = re.compile(rf"(?<![0-9A-Za-z])(?:{_ID_SHAPES})(?![0-9A-Za-z])")
_IDENTIFIER_BYTES: Final = re.compile(_IDENTIFIER.pattern.encode("ascii"))
_WHOLE_IDENTIFIER: Final = re.compile(_ID_SHAPES)

# -- bytes: Shift_JIS/CP932 and EUC-JP ----------------------------------------------------------------


def _legacy(char: str) -> set[bytes]:
    """The two-byte Shift_JIS/CP932 and EUC-JP forms of ``char``."""
    forms = set()
    for codec in ("cp932", "shift_jis", "euc_jp"):
        try:
            raw = char.encode(codec)
        except UnicodeEncodeError:
            continue
        if len(raw) == 2 and raw[0] >= 0x80:
            forms.add(raw)
    return forms


def _either(forms: Iterable[bytes]) -> bytes:
    return b"|".join(re.escape(f) for f in sorted(forms))


_LEGACY_DIGITS: Final = {form: d for d in range(10) for form in _legacy(chr(0xFF10 + d))}
_LEGACY_SEPARATORS: Final = {form for char in _SEPARATOR_CHARS for form in _legacy(char)}
_LEGACY_UNIT: Final = re.compile(_either({*_LEGACY_DIGITS, *_LEGACY_SEPARATORS}))
_SJIS_DIGITS: Final = frozenset(chr(0xFF10 + d).encode("cp932") for d in range(10))
_SJIS_MASK: Final = "＊".encode("cp932")
_EUC_MASK: Final = "＊".encode("euc_jp")
_ESCAPED_DIGIT_BYTES: Final = _ESCAPED_DIGIT.encode("ascii")
_LEGACY_DIGIT: Final = b"(?:[0-9]|%s|%s)" % (_ESCAPED_DIGIT_BYTES, _either(_LEGACY_DIGITS))
_LEGACY: Final = (
    _run_of(
        _LEGACY_DIGIT, b"(?:[ \\-]|%s|%s)" % (_ESCAPED_SEPARATOR.encode("ascii"), _either(_LEGACY_SEPARATORS))
    ),
    re.compile(_LEGACY_DIGIT),
)

# -- bytes: JIS X 0208 ----------------------------------------------------------------------------------

# ISO-2022-JP and the kanji fields of JIS8: full-width digits and separators are two 7-bit bytes; shift
# sequences switch between it and ASCII or JIS X 0201.
_JIS_DIGIT: Final = rb"(?:#[0-9]|[0-9])"
_JIS_SEPARATOR: Final = rb"(?:!!|!<|!=|!>|!\]|[ \-])"
_JIS_SHIFT: Final = rb"(?:\x1b\$[@B]|\x1b\$\(D|\x1b\([BJI]|[\x0e\x0f])"
_JIS_RUN: Final = re.compile(
    rb"%s(?:%s*(?:%s%s*){0,3}%s){11,}" % (_JIS_DIGIT, _JIS_SHIFT, _JIS_SEPARATOR, _JIS_SHIFT, _JIS_DIGIT)
)
_JIS_DIGITS: Final = re.compile(_JIS_DIGIT)
_JIS_SPECIFIC: Final = re.compile(rb"#[0-9]|[\x0e\x0f\x1b]")
_JIS_MASK: Final = b"!v"  # ＊ in JIS X 0208


# -- finding ------------------------------------------------------------------------------------------


def identifier_spans(text: str) -> list[Span]:
    """The spans of the identifiers in ``text`` (UUIDs, hex ids, sealed values, tokens)."""
    return [m.span() for m in _IDENTIFIER.finditer(text)]


def is_identifier(value: str) -> bool:
    """Tell whether ``value`` as a whole has an identifier's shape."""
    return _WHOLE_IDENTIFIER.fullmatch(value) is not None


def _digit_value(unit: str | bytes) -> int:
    if isinstance(unit, str):
        return unicodedata.digit(unit) if len(unit) == 1 else int(unit[-1])  # a digit, or its escape
    if len(unit) == 1:
        return unit[0] - 48
    if unit[:1] == b"\\":
        return unit[-1] - 48
    return _LEGACY_DIGITS[unit] if unit in _LEGACY_DIGITS else unit[1] - 48  # two-byte: Shift_JIS/EUC, JIS


def _stands_alone(units: list[Span], i: int) -> bool:
    """Whether the window of twelve digits from ``i`` is a row of its own or three groups of four.

    A digit "touches" the next when nothing stands between them; the window must not touch the digits
    around it, and inside it either every digit touches the next, or exactly the 4th and 8th do not.
    """
    if i > 0 and units[i - 1][1] == units[i][0]:
        return False
    if i + 12 < len(units) and units[i + 11][1] == units[i + 12][0]:
        return False
    apart = [k for k in range(11) if units[i + k][1] != units[i + k + 1][0]]
    return apart in ([], [3, 7])


def _windows(units: list[Span], values: str, keep: str | None, embedded: bool) -> list[_Number]:
    """The numbers among the digits ``values`` of one run (``units``: where each digit is).

    ``embedded``: every window with a valid check digit; otherwise only those that stand alone.
    """
    found: list[_Number] = []
    starts: Iterable[int] = range(len(units) - 11)
    if not embedded:  # a window that stands alone starts a group: look at those only
        starts = [i for i in starts if i == 0 or units[i - 1][1] != units[i][0]]
    for i in starts:
        window = values[i : i + 12]
        if check_digit(window[:11]) != ord(window[11]) - 48 or window == keep:
            continue
        if embedded or _stands_alone(units, i):
            found.append((units[i][0], units[i + 11][1], units[i : i + 12]))
    return found


def _outside_identifiers(
    text: AnyStr, runs: list[re.Match[AnyStr]], run: re.Pattern[AnyStr], ids: re.Pattern[AnyStr]
) -> list[re.Match[AnyStr]]:
    """The runs once identifiers are taken out: the identifiers win, the text between them is searched.

    Identifiers are looked for only around each run, so a large body full of ids costs little.
    """
    kept: list[re.Match[AnyStr]] = []
    for match in runs:
        start, end = match.span()
        near = ids.finditer(text, max(0, start - _ID_REACH), min(len(text), end + _ID_REACH))
        spans: list[Span] = [(i, j) for i, j in (m.span() for m in near) if i < end and j > start]
        if not spans:
            kept.append(match)
            continue
        last = start
        for id_start, id_end in [*spans, (end, end)]:
            if id_start > last:
                kept.extend(run.finditer(text, last, id_start))
            last = max(last, id_end)
    return kept


def _numbers(
    text: AnyStr,
    runs: Iterable[re.Match[AnyStr]],
    digits: re.Pattern[AnyStr],
    keep: str | None,
    embedded: bool,
) -> list[_Number]:
    found: list[_Number] = []
    for match in runs:
        start, end = match.span()
        if embedded and end - start > LONG_RUN * _LONGEST_UNIT:  # more than LONG_RUN digits, certainly
            found.append((start, end, []))
            continue
        units = [m.span() for m in digits.finditer(text, start, end)]
        if embedded and len(units) > LONG_RUN:
            found.append((start, end, []))
            continue
        values = "".join(str(_digit_value(text[s:e])) for s, e in units)
        found.extend(_windows(units, values, keep, embedded))
    return found


def _scan(
    text: str, keep: str | None = None, identifiers: bool = True, embedded: bool = True
) -> list[_Number]:
    """The numbers of ``text``; a number of an over-long run has no digit spans (it is the whole run)."""
    if len(text) < 12:  # too short to hold one, like most ids, codes and words
        return []
    run, digits = _TEXT if "\\u" in text else _PLAIN
    runs = list(run.finditer(text))
    if runs and identifiers:
        runs = _outside_identifiers(text, runs, run, _IDENTIFIER)
    return _numbers(text, runs, digits, keep, embedded) if runs else []


def _merged(spans: Iterable[Span]) -> list[Span]:
    out: list[Span] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def find_numbers(
    text: str, *, embedded: bool = False, identifiers: bool = True, keep: str | None = None
) -> list[Span]:
    """The spans of the numbers in ``text`` (see the module docstring), ordered and disjoint.

    Args:
        text: any text.
        embedded: also every valid 12-digit window of a longer digit run, as redaction does.
        identifiers: ``False`` looks for numbers inside identifiers too, for a caller that asks whether an
            identifier of its own would *look like* a number to a scanner that knows no better
            (:mod:`contracts.ids`).
        keep: one number (twelve ASCII digits) not to report: the console's audited reveal.
    """
    found = _scan(text, keep, identifiers, embedded)
    return _merged((s, e) for s, e, _ in found) if found else []


def holds_number(text: str) -> bool:
    """Tell whether ``text`` holds a value that is a number, in any form (what input validation refuses).

    Twelve digits in a row of their own or in groups of four (see the module docstring): a window of a longer
    row of digits, or of digits grouped otherwise, is not one here; redaction treats it as one.
    """
    return bool(_scan(text, embedded=False))


def replace_spans(text: str, spans: Sequence[Span], marker: str) -> str:
    """``text`` with each of the (ordered, disjoint) ``spans`` replaced by ``marker``."""
    if not spans:
        return text
    parts, last = [], 0
    for start, end in spans:
        parts.append(text[last:start])
        parts.append(marker)
        last = end
    parts.append(text[last:])
    return "".join(parts)


def scrub(text: str, *, keep: str | None = None, marker: str = REDACTED) -> tuple[str, int]:
    """``text`` with every number but ``keep`` replaced by ``marker``, and how many spans were."""
    spans = find_numbers(text, embedded=True, keep=keep)
    return replace_spans(text, spans, marker), len(spans)


def redact_text(text: str, *, keep: str | None = None, marker: str = REDACTED) -> str:
    """``text`` with every number (but ``keep``) replaced by ``marker`` (:data:`REDACTED`)."""
    if len(text) < 12:  # the fast path: most log fields, ids and codes
        return text
    return replace_spans(text, find_numbers(text, embedded=True, keep=keep), marker)


def redact_identifier(value: str) -> str:
    """A structured field known to hold an identifier (a message or correlation id, a file name).

    A value that is an identifier as a whole is kept as it is, unread; anything else (a producer may put any
    text in a message id) is redacted as text.
    """
    return value if is_identifier(value) else redact_text(value)


# -- masking bytes ------------------------------------------------------------------------------------

_MASKS: Final = str.maketrans(
    {chr(48 + d): "*" for d in range(10)} | {chr(0xFF10 + d): "＊" for d in range(10)}
)


def _mask_char(unit: str, utf16: bool) -> str:
    """A mask for one digit of text, of the same length in bytes (UTF-8, or UTF-16 code units)."""
    if unit[0] == "\\":  # an escape: six ASCII characters either way
        return "\\uff0a" if unit[2] in "fF" else "\\u002a"
    if "\uff10" <= unit <= "\uff19":
        return "＊"  # the width of a full-width digit in every encoding
    size = len(unit.encode("utf-16-le")) // 2 if utf16 else len(unit.encode("utf-8"))
    return "*" * size  # ASCII, or another script's digit: as many asterisks as it takes


def _masked_run(segment: str, utf16: bool) -> str:
    """Every digit of an over-long run masked: ASCII and full-width ones at C speed, others one by one."""
    if "\\" not in segment:
        segment = segment.translate(_MASKS)
        if not _PLAIN[1].search(segment):
            return segment
    return _TEXT[1].sub(lambda m: _mask_char(m.group(), utf16), segment)


def _masked_text(text: str, *, utf16: bool) -> str | None:
    """``text`` with each digit of each number masked, or ``None`` when it holds none."""
    found = _scan(text)
    if not found:
        return None
    pieces: list[tuple[int, int, str]] = []
    for start, end, units in found:
        if units:
            pieces.extend((s, e, _mask_char(text[s:e], utf16)) for s, e in units)
        else:
            pieces.append((start, end, _masked_run(text[start:end], utf16)))
    parts, last = [], 0
    for start, end, mask in sorted(set(pieces)):
        if start < last:
            continue  # a digit of an over-long run, masked with it
        parts.append(text[last:start])
        parts.append(mask)
        last = end
    parts.append(text[last:])
    return "".join(parts)


def _mask_utf8(body: bytes) -> bytes:
    """Pass 1: the body as UTF-8 (bytes that are not UTF-8 kept as themselves)."""
    text = body.decode("utf-8", "surrogateescape")
    if not _PLAIN[0].search(text) and "\\u" not in text:
        return body
    masked = _masked_text(text, utf16=False)
    return body if masked is None else masked.encode("utf-8", "surrogateescape")


def _escape_mask(unit: bytes) -> bytes:
    return b"\\uff0a" if unit[2:3] in (b"f", b"F") else b"\\u002a"


def _legacy_mask(unit: bytes) -> bytes:
    if unit[:1] == b"\\":
        return _escape_mask(unit)
    if len(unit) == 1:
        return b"*"
    return _SJIS_MASK if unit in _SJIS_DIGITS else _EUC_MASK


def _jis_mask(unit: bytes) -> bytes:
    return b"*" if len(unit) == 1 else _JIS_MASK


def _mask_in_place(
    body: bytes, numbers: list[_Number], digits: re.Pattern[bytes], mask: Callable[[bytes], bytes]
) -> bytes:
    """``body`` with each digit of ``numbers`` replaced by ``mask`` of it (the same length)."""
    if not numbers:
        return body
    out = bytearray(body)
    for start, end, units in numbers:
        if units:
            for s, e in units:
                out[s:e] = mask(body[s:e])
        else:  # an over-long run, masked whole
            out[start:end] = digits.sub(lambda m: mask(m.group()), body[start:end])
    return bytes(out)


def _mask_legacy(body: bytes) -> bytes:
    """Pass 2: Shift_JIS/CP932 and EUC-JP two-byte digits and separators, on the bytes."""
    if not _LEGACY_UNIT.search(body):
        return body
    run, digits = _LEGACY
    runs = [m for m in run.finditer(body) if _LEGACY_UNIT.search(body, m.start(), m.end())]
    runs = _outside_identifiers(body, runs, run, _IDENTIFIER_BYTES) if runs else []
    return _mask_in_place(body, _numbers(body, runs, digits, None, embedded=True), digits, _legacy_mask)


def _mask_jis(body: bytes) -> bytes:
    """Pass 3: JIS X 0208 with shift sequences (a run must hold a two-byte digit or a shift)."""
    if not _JIS_SPECIFIC.search(body):
        return body
    runs = [m for m in _JIS_RUN.finditer(body) if _JIS_SPECIFIC.search(body, m.start(), m.end())]
    return _mask_in_place(
        body, _numbers(body, runs, _JIS_DIGITS, None, embedded=True), _JIS_DIGITS, _jis_mask
    )


def _mask_utf16(body: bytes, codec: str, offset: int) -> bytes:
    """Pass 4: the body as UTF-16 (``codec``) from ``offset``."""
    end = offset + (len(body) - offset) // 2 * 2
    if end - offset < 24:  # twelve code units
        return body
    text = body[offset:end].decode(codec, "surrogatepass")
    masked = _masked_text(text, utf16=True)
    if masked is None:
        return body
    return body[:offset] + masked.encode(codec, "surrogatepass") + body[end:]


def redact_bytes(body: bytes) -> bytes:
    """``body`` with the digits of every number masked, in every encoding renkei reads or writes.

    The length and every other byte stay as they were (see the module docstring); a body without a number
    comes back as the same object.
    """
    if len(body) < 12:
        return body
    out = _mask_jis(_mask_legacy(_mask_utf8(body)))
    if b"\x00" in out or b"\xff" in out:  # a digit in UTF-16, ASCII or full-width, has one of them
        for codec in ("utf-16-le", "utf-16-be"):
            for offset in (0, 1):
                out = _mask_utf16(out, codec, offset)
    return out
