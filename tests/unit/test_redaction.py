"""The redaction module's contract, both ways (contracts/redaction.py).

Numbers in every form it knows, inside random text and random bytes, are gone after redaction; identifiers of
every shape it knows, inside random text, come back unchanged. Every number here is built from the check
digit, in the test: no fixture file holds one.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import string
import uuid

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from contracts.individual_number import check_digit
from contracts.redaction import (
    LONG_RUN,
    REDACTED,
    find_numbers,
    holds_number,
    is_identifier,
    redact_bytes,
    redact_identifier,
    redact_text,
)

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
WIDE = str.maketrans("0123456789", "０１２３４５６７８９")
NARROW = str.maketrans("０１２３４５６７８９", "0123456789")
SEPARATORS = [" ", "-", "\u3000", "\uff0d", "\u2010", "\u2212", "\u30fc", " - ", "  "]
# Characters of random text around a number: letters, kana and kanji, punctuation, digits, separators.
FILLER = string.ascii_letters + string.digits + " -.,:;/()[]{}\"'\n\t#" + "あいうアイウ漢字特別徴収年金　－"


def valid_number(rng: random.Random) -> str:
    base = "".join(rng.choice(string.digits) for _ in range(11))
    return base + str(check_digit(base))


numbers = st.randoms(use_true_random=False).map(valid_number)


def escaped(digits: str, rng: random.Random) -> str:
    """JSON escapes of the digits, ASCII or full-width, in either case of hex."""
    out = []
    for d in digits:
        code = f"\\u003{d}" if rng.random() < 0.5 else f"\\uff1{d}"
        out.append(code.upper().replace("\\U", "\\u") if rng.random() < 0.3 else code)
    return "".join(out)


def grouped(digits: str, rng: random.Random, wide: bool) -> str:
    """The digits in groups (4-4-4, or at random) joined by separators."""
    cuts = [4, 8] if rng.random() < 0.5 else sorted(rng.sample(range(1, 12), rng.randint(1, 5)))
    parts = [digits[a:b] for a, b in zip([0, *cuts], [*cuts, 12], strict=True)]
    text = "".join(p + rng.choice(SEPARATORS) for p in parts[:-1]) + parts[-1]
    return text.translate(WIDE) if wide else text


FORMS = ["plain", "wide", "grouped", "grouped-wide", "escaped", "fixed-width", "mixed-width"]


def form(digits: str, kind: str, rng: random.Random) -> str:
    """One number written in one of the forms the redactor knows."""
    if kind == "plain":
        return digits
    if kind == "wide":
        return digits.translate(WIDE)
    if kind in ("grouped", "grouped-wide"):
        return grouped(digits, rng, kind == "grouped-wide")
    if kind == "escaped":
        return escaped(digits, rng)
    if kind == "fixed-width":  # inside the digits of a fixed-width record
        before = "".join(rng.choice(string.digits) for _ in range(rng.randint(1, 20)))
        after = "".join(rng.choice(string.digits) for _ in range(rng.randint(1, 20)))
        return before + digits + after
    return "".join(d if rng.random() < 0.5 else d.translate(WIDE) for d in digits)


def digits_of(text: str) -> str:
    """Every digit of ``text`` in order, escapes decoded: what a number could be rebuilt from."""
    text = text.replace("\\U", "\\u")
    for d in range(10):
        text = text.replace(f"\\u003{d}", str(d)).replace(f"\\uff1{d}", str(d)).replace(f"\\uFF1{d}", str(d))
    return "".join(c for c in text.translate(NARROW) if c.isdigit())


@st.composite
def text_with_number(draw):
    rng = draw(st.randoms(use_true_random=False))
    digits = valid_number(rng)
    kind = draw(st.sampled_from(FORMS))
    before = draw(st.text(alphabet=FILLER, max_size=60))
    after = draw(st.text(alphabet=FILLER, max_size=60))
    # A boundary that no identifier shape crosses (not a letter, digit or hyphen).
    gap = draw(st.sampled_from([" ", "\n", "、", ": ", "「", "="]))
    return before + gap + form(digits, kind, rng) + gap + after, digits


@FAST
@given(text_with_number())
def test_no_number_survives_redaction_of_text_in_any_form(case):
    text, digits = case
    redacted = redact_text(text)
    assert not find_numbers(redacted, embedded=True)
    # Not this number's twelve digits either, whatever surrounds them: none of them stand together.
    assert all(digits not in digits_of(part) for part in redacted.split(REDACTED))


# -- bytes --------------------------------------------------------------------------------------------------

ENCODINGS = ["utf-8", "cp932", "shift_jis", "euc_jp", "iso2022_jp", "utf-16-le", "utf-16-be", "utf-16"]


@st.composite
def body_with_number(draw):
    rng = draw(st.randoms(use_true_random=False))
    digits = valid_number(rng)
    encoding = draw(st.sampled_from(ENCODINGS))
    kind = draw(st.sampled_from(FORMS))
    before = draw(st.text(alphabet=FILLER, max_size=60))
    after = draw(st.text(alphabet=FILLER, max_size=60))
    text = before + "\n" + form(digits, kind, rng) + "\n" + after
    return encodable(text, encoding).encode(encoding), encoding, digits


def encodable(text: str, encoding: str) -> str:
    """``text`` as ``encoding`` can write it: only CP932 and Unicode have the full-width hyphen-minus."""
    if encoding in ("cp932", "utf-8") or encoding.startswith("utf-16"):
        return text
    return text.replace("\uff0d", "\u2212")


@FAST
@given(body_with_number())
def test_no_number_survives_redaction_of_a_body_in_any_encoding(case):
    body, encoding, digits = case
    redacted = redact_bytes(body)
    assert len(redacted) == len(body), "a body keeps its length"
    text = redacted.decode(encoding)  # and stays decodable in its encoding
    assert not find_numbers(text, embedded=True)
    assert digits not in digits_of(text)
    assert redact_bytes(redacted) == redacted


@FAST
@given(
    st.binary(max_size=200),
    st.binary(max_size=200),
    st.sampled_from(ENCODINGS),
    st.sampled_from(["plain", "wide", "grouped", "escaped", "fixed-width"]),
    st.randoms(use_true_random=False),
)
def test_no_number_survives_in_random_bytes(before, after, encoding, kind, rng):
    digits = valid_number(rng)
    core = encodable(form(digits, kind, rng), encoding).encode(encoding)
    if encoding == "utf-16":
        core = core[2:]  # the byte-order mark: in the middle of bytes it would be just another character
    gap = "\n".encode(encoding.replace("utf-16", "utf-16-le") if encoding == "utf-16" else encoding)
    body = before + gap + core + gap + after
    redacted = redact_bytes(body)
    assert len(redacted) == len(body)
    assert core not in redacted
    assert redact_bytes(redacted) == redacted, "nothing left that the redactor would still find"


def test_a_body_without_a_number_comes_back_as_it_was():
    body = json.dumps({"message_id": str(uuid.uuid4()), "note": "年金 2026-11-26 09:00"}).encode()
    assert redact_bytes(body) is body
    assert redact_bytes(b"\xff\xfe\x00 encrypted \x01" * 50) == b"\xff\xfe\x00 encrypted \x01" * 50


def test_masks_keep_each_form_and_its_width():
    digits = valid_number(random.Random(3))
    wide = digits.translate(WIDE)
    assert redact_bytes(f'{{"n": "{digits}"}}'.encode()) == b'{"n": "' + b"*" * 12 + b'"}'
    assert redact_bytes(wide.encode("cp932")) == ("＊" * 12).encode("cp932")
    assert redact_bytes(wide.encode("euc_jp")) == ("＊" * 12).encode("euc_jp")
    assert redact_bytes(wide.encode("utf-16-le")) == ("＊" * 12).encode("utf-16-le")
    assert redact_bytes(wide.encode("iso2022_jp")) == ("＊" * 12).encode("iso2022_jp")
    assert redact_bytes(escaped(digits, random.Random(1)).encode()).count(b"\\u") == 12
    assert b"*" * 12 in redact_bytes(digits.encode("utf-16-be")).replace(b"\x00", b"")


def test_a_number_split_by_a_jis_shift_sequence_is_one_run():
    digits = valid_number(random.Random(4))
    body = digits[:4].encode() + b"\x1b$B" + digits[4:8].translate(WIDE).encode("iso2022_jp")[3:-3]
    body += b"\x1b(B" + digits[8:].encode() + b"\r\n"
    redacted = redact_bytes(body)
    assert digits not in digits_of(redacted.decode("iso2022_jp"))


def test_an_over_long_digit_run_is_redacted_whole():
    run = "7" * (LONG_RUN + 1)
    assert redact_text(f"a {run} b") == f"a {REDACTED} b"
    assert redact_bytes(run.encode()) == b"*" * len(run)


# -- identifiers --------------------------------------------------------------------------------------------


def token(rng: random.Random) -> str:
    letters = string.ascii_lowercase
    return f"tk{rng.randint(1, 99)}{''.join(rng.choice(letters) for _ in range(4))}_" + "".join(
        rng.choice(letters) for _ in range(28)
    )


def reference_token(rng: random.Random) -> str:
    b32 = string.ascii_uppercase + "234567"
    return f"mn1.{''.join(rng.choice(b32) for _ in range(26))}.{rng.randint(1, 9)}"


def sealed(rng: random.Random, version: int) -> str:
    recipient = rng.choice(["hub", "jlis", "eltax", "intermediate_server"])
    if version == 1:
        alphabet = string.ascii_letters + string.digits + "-_"
        return f"sealed:v1:{recipient}:k{rng.randint(1, 999)}:" + "".join(
            rng.choice(alphabet) for _ in range(56)
        )
    # v2 (being added): base32 lower-case letters without digits.
    return f"sealed:v2:{recipient}:" + "".join(rng.choice(string.ascii_lowercase) for _ in range(70))


@st.composite
def identifiers(draw):
    rng = draw(st.randoms(use_true_random=False))
    kind = draw(
        st.sampled_from(["uuid", "uuid-hex", "hex", "sha256", "sha1", "md5", "token", "mn", "v1", "v2"])
    )
    if kind == "uuid":
        return str(draw(st.uuids()))
    if kind == "uuid-hex":
        value = draw(st.uuids()).hex
    elif kind == "hex":
        value = draw(st.text(alphabet="0123456789abcdef", min_size=16, max_size=80))
    elif kind in ("sha256", "sha1", "md5"):
        value = hashlib.new(kind, draw(st.binary())).hexdigest()
    elif kind == "token":
        return token(rng)
    elif kind == "mn":
        return reference_token(rng)
    else:
        return sealed(rng, int(kind[1]))
    # The contract: a hex id holds a letter; all-decimal hex is a digit run (about one 16-digit id in
    # 1,800, one 32-digit id in three million).
    assume(any(c in "abcdef" for c in value))
    return value


@FAST
@given(identifiers(), st.text(alphabet=FILLER, max_size=40), st.text(alphabet=FILLER, max_size=40))
@example("06fd043e-dbd2-4351-9bd5-538423279290", "", "")
@example("06fd043e-dbd2-4351-9bd5-538423279290", "id ", " 1234")
def test_identifiers_come_back_unchanged(identifier, before, after):
    assert is_identifier(identifier)
    assert redact_identifier(identifier) == identifier
    text = f"{before} {identifier} {after}"
    assert identifier in redact_text(text)
    assert identifier.encode() in redact_bytes(text.encode())
    assert identifier.encode("utf-16-le") in redact_bytes(text.encode("utf-16-le"))


def test_the_text_around_an_identifier_is_still_searched():
    digits = valid_number(random.Random(5))
    spaced = f"{digits[:4]} {digits[4:8]} {digits[8:]}"
    uid = "06fd043e-dbd2-4351-9bd5-538423279290"
    for text in (f"{digits}-{uid}", f"{uid} {spaced}", f"{spaced}-{uid}-{digits}", f"{uid}/{digits}"):
        redacted = redact_text(text)
        assert uid in redacted
        assert digits not in digits_of(redacted.replace(uid, ""))


def test_a_file_name_keeps_the_id_it_carries():
    for name in (
        f"JLIS-SVR1-{uuid.UUID('06fd043e-dbd2-4351-9bd5-538423279290').hex}.dat",
        "ELTAX-TK01-131016-06fd043edbd243519bd5538423279290.dat",
    ):
        assert redact_text(f"file {name} refused") == f"file {name} refused"
        assert redact_identifier(name) == name


def test_an_identifier_field_that_is_not_an_identifier_is_redacted_as_text():
    digits = valid_number(random.Random(6))
    assert redact_identifier(digits) == REDACTED
    assert redact_identifier(f"order-{digits}") == f"order-{REDACTED}"
    assert redact_identifier("m-1") == "m-1"


def test_validation_asks_whether_a_value_is_a_number_not_whether_a_window_of_a_longer_run_is():
    digits = valid_number(random.Random(7))
    assert holds_number(f"{digits[:4]}-{digits[4:8]}-{digits[8:]}")
    assert holds_number(escaped(digits, random.Random(2)))
    assert not holds_number("1" + digits)  # a 13-digit code is a value of its own
    assert redact_text("1" + digits) != "1" + digits  # but redaction takes the window out of it
    assert not holds_number("200000000000000")  # a 団体内統合宛名番号 with a valid first window


@pytest.mark.parametrize("size", [0, 11, 12, 23])
def test_runs_without_a_valid_window_are_left_alone(size):
    text = "9" * size  # every window of nines fails the check digit
    assert redact_text(text) == text
    assert redact_bytes(text.encode()) == text.encode()


# -- what validation refuses (exact mode) ------------------------------------------------------------------

OLD_FINDER = re.compile(r"(?<![0-9０-９])[0-9０-９]{12}(?![0-9０-９])")
"""The finder this module replaced: twelve ASCII or full-width digits, not part of a longer row."""


def old_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for m in OLD_FINDER.finditer(text):
        digits = m.group().translate(NARROW)
        if check_digit(digits[:11]) == int(digits[11]):
            spans.append(m.span())
    return spans


@FAST
@given(
    st.text(alphabet="0123456789０１２３４５６７８９ -－　abc.,", max_size=80),
    st.randoms(use_true_random=False),
)
def test_validation_finds_everything_the_old_finder_found(filler, rng):
    digits = valid_number(rng)
    cut = rng.randint(0, len(filler))
    text = f"{filler[:cut]} {digits} {filler[cut:]}"
    found = find_numbers(text, identifiers=False)
    for start, end in old_spans(text):
        assert any(s <= start and end <= e for s, e in found), (text, text[start:end])
    assert holds_number(text)


def test_validation_reads_a_number_in_a_row_of_its_own_or_in_groups_of_four():
    rng = random.Random(8)
    digits = valid_number(rng)
    assert holds_number(f"c00-{digits}.csv")  # a file name carrying one
    assert holds_number(f"2026-11-26 {digits}")  # beside a date
    assert holds_number(f"{digits[:4]} {digits[4:8]} {digits[8:]}")
    assert holds_number(f"{digits[:4]}－{digits[4:8]}－{digits[8:]}".translate(WIDE))
    many = " ".join(valid_number(rng) for _ in range(10))  # one long run of separated numbers
    assert len(find_numbers(many)) == 10
    assert not holds_number("1" + digits)  # a 13-digit code
    assert not holds_number(f"{digits[:2]} {digits[2:8]} {digits[8:]}")  # grouped otherwise


def test_a_date_and_a_time_are_not_refused_but_are_redacted_when_they_pass_the_check_digit():
    for minute in range(600):  # bounded: the first time of day whose digits pass
        text = f"2026-11-26 {minute // 60:02d}{minute % 60:02d}"
        base = "".join(c for c in text if c.isdigit())
        if check_digit(base[:11]) == int(base[11]):
            break
    assert not holds_number(text)
    assert redact_text(text) == REDACTED
