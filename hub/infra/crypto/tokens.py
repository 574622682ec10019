"""Pairwise tokens of subjects: deterministic per (scope, subject, key version), unlinkable across scopes.

A token stands for a subject outside the vault (in access records, references to counterparts), the way a
機関別符号 stands for a person in the information-provision network: each scope has its own key, derived
from the token root with HKDF (``info`` = the scope), so tokens of one subject in two scopes share nothing
a holder of both could match. The token is an HMAC of the subject id, never a function of the number.

Shape: ``tk<version><tag>_<body>``, e.g. ``tk1hvqa_kzbxq...``: ``tk`` and the key version, a four-letter
tag of the scope (a public function of the scope name, so that a token presented in the wrong scope is
refused without a lookup), and a 28-letter body (128 bits in base 26, letters only). The body has no
digits at all, so no part of a token can ever pass for a twelve-digit Individual Number.

Erasure and linkability (issue 16, docs/retention.md "Linkability"): the subject id is the per-person secret
the tokens derive from. Erasing a person deletes it from every table (:mod:`hub.infra.vault.lifecycle`), so
with every key the deployment keeps nobody can recompute or look up that person's tokens any more; the
token root is not retired for it (tokens of everyone else must stay resolvable). Tokens already written stay
equal to one another: an erased person's access records remain linked to each other, naming nobody, which
the access record's purpose (取扱状況の記録) and its hash chain require.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from hub.infra.keys.series import SeriesView

__all__ = [
    "SCOPE_PATTERN",
    "TOKEN_PATTERN",
    "ParsedToken",
    "Tokenizer",
    "check_scope",
    "parse_token",
    "scope_tag",
]

SCOPE_PATTERN: Final = r"^[a-z][a-z0-9_.-]{0,63}$"
TOKEN_PATTERN: Final = r"^tk([1-9][0-9]{0,3})([a-z]{4})_([a-z]{28})$"  # noqa: S105 (a shape, not a secret)
_SCOPE: Final = re.compile(SCOPE_PATTERN)
_TOKEN: Final = re.compile(TOKEN_PATTERN)
_LETTERS: Final = "abcdefghijklmnopqrstuvwxyz"
_BODY_LETTERS: Final = 28  # 26**28 > 2**128: every 128-bit value has its own body


@dataclass(frozen=True, slots=True)
class ParsedToken:
    """The visible parts of a token."""

    version: int
    tag: str
    body: str


_TRIPLES: Final = tuple(a + b + c for a in _LETTERS for b in _LETTERS for c in _LETTERS)
"""Every three-letter group, by its value (0 to 26**3 - 1): a third of the divisions per token."""


def _base26(value: bytes, width: int) -> str:
    """``value`` (big-endian) modulo ``26**width`` as ``width`` letters, most significant first."""
    number = int.from_bytes(value, "big")
    groups, singles = divmod(width, 3)
    parts = []
    for _ in range(groups):
        number, triple = divmod(number, 17_576)
        parts.append(_TRIPLES[triple])
    for _ in range(singles):
        number, digit = divmod(number, 26)
        parts.append(_LETTERS[digit])
    return "".join(reversed(parts))


def check_scope(scope: str) -> str:
    """Return ``scope`` if it is a valid scope name.

    Raises:
        ValueError: when ``scope`` is not lower-case letters, digits, ``_``, ``.`` or ``-`` (1-64).
    """
    if not _SCOPE.match(scope):
        raise ValueError("a token scope is 1-64 of [a-z0-9_.-], starting with a letter")
    return scope


@lru_cache(maxsize=256)
def scope_tag(scope: str) -> str:
    """The public four-letter tag of ``scope`` (not a secret: it only names the scope)."""
    return _base26(hashlib.sha256(b"renkei/token-scope/v1|" + check_scope(scope).encode()).digest()[:4], 4)


def parse_token(token: str) -> ParsedToken | None:
    """Split a token into its parts, or ``None`` when it does not have the token shape."""
    match = _TOKEN.match(token)
    if match is None:
        return None
    return ParsedToken(int(match.group(1)), match.group(2), match.group(3))


class Tokenizer:
    """Computes tokens from the keyring's token roots; scope keys are derived once and cached."""

    def __init__(self, roots: SeriesView) -> None:
        series = roots.series()  # the versions in force when made (one tokenizer per unit of work)
        self._roots = {v.version: v.material for v in series.versions}
        self._current = series.current.version
        self._scope_keys: dict[tuple[str, int], bytes] = {}

    @property
    def current_version(self) -> int:
        """The root version new tokens are made under."""
        return self._current

    def _scope_key(self, scope: str, version: int) -> bytes:
        key = self._scope_keys.get((scope, version))
        if key is None:
            hkdf = HKDF(
                algorithm=hashes.SHA256(), length=32, salt=None, info=b"renkei/token/v1|" + scope.encode()
            )
            key = hkdf.derive(self._roots[version])
            self._scope_keys[(scope, version)] = key
        return key

    def token(self, scope: str, subject_id: str, version: int | None = None) -> str:
        """The token of ``subject_id`` in ``scope`` under root ``version`` (default: the current one)."""
        return self.tokens(scope, [subject_id], version)[0]

    def tokens(self, scope: str, subject_ids: Sequence[str], version: int | None = None) -> list[str]:
        """The tokens of many subjects in one scope, in order (the scope's key and tag looked up once)."""
        v = self._current if version is None else version
        key = self._scope_key(check_scope(scope), v)
        prefix = f"tk{v}{scope_tag(scope)}_"
        return [
            prefix + _base26(hmac.digest(key, subject.encode("ascii"), "sha256")[:16], _BODY_LETTERS)
            for subject in subject_ids
        ]

    def belongs_to(self, scope: str, token: str) -> bool:
        """Tell whether ``token`` has the token shape, the tag of ``scope`` and a root version we hold."""
        parsed = parse_token(token)
        return parsed is not None and parsed.tag == scope_tag(scope) and parsed.version in self._roots
