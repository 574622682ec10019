"""The Japanese character sets and width rules of counterpart files, in one place.

Today's users are the eLTAX files:

* The payment report CSV (公的年金等支払報告書, 総務省通達形式) is **CP932** (Windows-31J). Its "full-width"
  items hold only characters that CP932 writes in two bytes; its "half-width kana" items only half-width
  katakana (one byte each, 0xA1–0xDF) and spaces.
* The special collection file (年金特徴) is **JIS8**: single-byte fields are JIS X 0201 (ASCII graphic
  characters, and half-width katakana as single bytes 0xA1–0xDF); kanji fields hold JIS X 0208 two-byte
  codes (both bytes 0x21–0x7E) and are wrapped in 3-byte shift sequences, ``ESC $ B`` before and
  ``ESC ( B`` after. Lengths are in bytes, shift sequences included.

Every helper returns ``None`` (or raises nothing) when a text does not fit, so that callers raise their own
error naming the field, never the text.
"""

from __future__ import annotations

import unicodedata
from typing import Final

__all__ = [
    "JIS_SPACE",
    "KANJI_IN",
    "KANJI_IN_ACCEPTED",
    "KANJI_OUT",
    "KANJI_OUT_ACCEPTED",
    "cp932_fullwidth",
    "cp932_halfwidth_kana",
    "decode_jis0208",
    "decode_jis_single",
    "encode_jis0208",
    "encode_jis_single",
    "to_fullwidth_kana",
    "to_halfwidth_kana",
]

KANJI_IN: Final = b"\x1b$B"
"""Shift to JIS X 0208-1983 (written before every kanji field)."""
KANJI_OUT: Final = b"\x1b(B"
"""Shift back to ASCII (written after every kanji field)."""
KANJI_IN_ACCEPTED: Final = (b"\x1b$B", b"\x1b$@")
"""Read as well: JIS C 6226-1978 (``ESC $ @``), which older writers still emit."""
KANJI_OUT_ACCEPTED: Final = (b"\x1b(B", b"\x1b(J")
"""Read as well: JIS X 0201 Roman (``ESC ( J``), the usual shift-out of mainframe writers."""
JIS_SPACE: Final = b"\x21\x21"
"""The full-width space (U+3000) in JIS X 0208: the padding of kanji fields."""

_HALF_KANA_FIRST, _HALF_KANA_LAST = 0xFF61, 0xFF9F
# Full-width (and combining voicing marks) -> half-width katakana, from the NFKC of each half-width one.
_TO_HALF: Final = {
    unicodedata.normalize("NFKC", chr(c)): chr(c) for c in range(_HALF_KANA_FIRST, _HALF_KANA_LAST + 1)
}
_TO_HALF["\u3000"] = " "


def to_halfwidth_kana(text: str) -> str | None:
    """Full-width katakana (with ー, ・ and U+3000) as half-width katakana; ``None`` if one has none.

    Voiced kana become two half-width characters (ガ → ｶﾞ). ASCII graphic characters and spaces pass
    through unchanged; the field's type decides whether they are allowed.
    """
    out = []
    for char in unicodedata.normalize("NFD", text):
        if " " <= char <= "~":
            out.append(char)
            continue
        half = _TO_HALF.get(char)
        if half is None:
            return None
        out.append(half)
    return "".join(out)


def to_fullwidth_kana(text: str) -> str:
    """Half-width katakana as full-width (ｶﾞ → ガ, half-width space → U+3000); the rest unchanged."""
    return unicodedata.normalize("NFKC", text).replace(" ", "\u3000")


def cp932_fullwidth(text: str) -> bytes | None:
    """``text`` in CP932 if every character takes two bytes there, else ``None``."""
    try:
        raw = text.encode("cp932")
    except UnicodeEncodeError:
        return None
    return raw if len(raw) == 2 * len(text) else None


def cp932_halfwidth_kana(text: str) -> bytes | None:
    """``text`` in CP932 if it is half-width katakana and ASCII spaces only, else ``None``."""
    if not all(c == " " or _HALF_KANA_FIRST <= ord(c) <= _HALF_KANA_LAST for c in text):
        return None
    return text.encode("cp932")


def encode_jis_single(text: str) -> bytes | None:
    """JIS X 0201 bytes of ASCII graphic characters and half-width katakana, else ``None``."""
    out = bytearray()
    for char in text:
        code = ord(char)
        if 0x20 <= code <= 0x7E:
            out.append(code)
        elif _HALF_KANA_FIRST <= code <= _HALF_KANA_LAST:
            out.append(code - _HALF_KANA_FIRST + 0xA1)
        else:
            return None
    return bytes(out)


def decode_jis_single(raw: bytes) -> str | None:
    """Text of JIS X 0201 bytes (0x20–0x7E, 0xA1–0xDF), else ``None``."""
    chars = []
    for byte in raw:
        if 0x20 <= byte <= 0x7E:
            chars.append(chr(byte))
        elif 0xA1 <= byte <= 0xDF:
            chars.append(chr(byte - 0xA1 + _HALF_KANA_FIRST))
        else:
            return None
    return "".join(chars)


def encode_jis0208(text: str) -> bytes | None:
    """The JIS X 0208 two-byte codes of ``text`` (no shift sequences); ``None`` if a character has none."""
    try:
        raw = text.encode("iso2022_jp")
    except UnicodeEncodeError:
        return None
    if not text:
        return b""
    # All of it must be one run of two-byte codes: ESC $ B, 2 bytes per character, ESC ( B.
    if len(raw) != 6 + 2 * len(text) or raw[:3] != KANJI_IN or raw[-3:] != KANJI_OUT:
        return None
    body = raw[3:-3]
    return body if b"\x1b" not in body else None


def decode_jis0208(raw: bytes) -> str | None:
    """The text of JIS X 0208 two-byte codes (no shift sequences), else ``None``."""
    if len(raw) % 2 or any(not 0x21 <= b <= 0x7E for b in raw):
        return None
    try:
        return (KANJI_IN + raw + KANJI_OUT).decode("iso2022_jp")
    except UnicodeDecodeError:
        return None
