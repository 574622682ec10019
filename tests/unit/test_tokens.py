"""Tokens: shape, determinism, scopes and key versions (no database)."""

from __future__ import annotations

import re
import secrets

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.individual_number import is_valid_individual_number
from contracts.redaction import find_numbers
from hub.infra.crypto.tokens import TOKEN_PATTERN, Tokenizer, check_scope, parse_token, scope_tag
from hub.infra.keys.keyring import generate_keyring, rotate

KEYS = generate_keyring()
TOKENIZER = Tokenizer(KEYS.token_root)

subject_ids = st.binary(min_size=16, max_size=16).map(bytes.hex)
scopes = st.from_regex(r"[a-z][a-z0-9_.-]{0,20}", fullmatch=True)


@given(scope=scopes, subject=subject_ids)
def test_a_token_never_passes_for_an_individual_number(scope: str, subject: str) -> None:
    token = TOKENIZER.token(scope, subject)
    assert re.fullmatch(TOKEN_PATTERN, token)
    assert not token.isdigit()
    assert not is_valid_individual_number(token)
    assert find_numbers(token) == []  # not even inside it: the body has no digits at all
    assert not re.search(r"[0-9]{12}", token)


@given(scope=scopes, subject=subject_ids)
def test_tokens_are_deterministic_and_parse_back(scope: str, subject: str) -> None:
    token = TOKENIZER.token(scope, subject)
    assert Tokenizer(KEYS.token_root).token(scope, subject) == token  # another instance, same keys
    parsed = parse_token(token)
    assert parsed is not None
    assert parsed.version == 1
    assert parsed.tag == scope_tag(scope)
    assert TOKENIZER.belongs_to(scope, token)


@given(a=scopes, b=scopes, subject=subject_ids)
def test_tokens_of_one_subject_in_two_scopes_share_nothing(a: str, b: str, subject: str) -> None:
    if a == b:
        return
    ta, tb = TOKENIZER.token(a, subject), TOKENIZER.token(b, subject)
    assert ta.split("_")[1] != tb.split("_")[1]
    assert not TOKENIZER.belongs_to(b, ta) or scope_tag(a) == scope_tag(b)


def test_different_subjects_get_different_tokens() -> None:
    tokens = {TOKENIZER.token("audit", secrets.token_hex(16)) for _ in range(2_000)}
    assert len(tokens) == 2_000


def test_another_keyring_gives_other_tokens() -> None:
    subject = secrets.token_hex(16)
    assert Tokenizer(generate_keyring().token_root).token("audit", subject) != TOKENIZER.token(
        "audit", subject
    )


def test_a_new_root_version_gives_new_tokens_and_old_ones_stay_recognised() -> None:
    rotated = Tokenizer(rotate(KEYS, kek=False, token_root=True).token_root)
    subject = secrets.token_hex(16)
    old, new = TOKENIZER.token("audit", subject), rotated.token("audit", subject)
    assert new.startswith("tk2")
    assert new != old
    assert rotated.token("audit", subject, version=1) == old
    assert rotated.belongs_to("audit", old)
    assert not TOKENIZER.belongs_to("audit", new)  # a version this keyring does not hold


@pytest.mark.parametrize("scope", ["", "Audit", "1audit", "a" * 65, "audit scope", "監査"])
def test_scope_names_are_checked(scope: str) -> None:
    with pytest.raises(ValueError, match="scope"):
        check_scope(scope)


@pytest.mark.parametrize(
    "text", ["", "123456789012", "tk1abcd_short", "tk0abcd_" + "a" * 28, "xx1abcd_" + "a" * 28]
)
def test_what_is_not_a_token_does_not_parse(text: str) -> None:
    assert parse_token(text) is None
