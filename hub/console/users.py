"""Console users, read from a TOML file named in the settings; passwords hashed with Argon2id.

The file (``RENKEI_CONSOLE_USERS_FILE``) holds no secret in the clear::

    [[users]]
    name = "sato"
    role = "operator"                      # viewer, operator, auditor or admin
    org = "federation"                     # or a 構成組合 code, e.g. "chiba"
    password_hash = "$argon2id$v=19$..."   # from `renkei console hash-password`

    [[users]]
    name = "prometheus"
    role = "viewer"
    org = "federation"
    token_hash = "sha256:..."              # from `renkei console new-token`; sent as a Bearer token

There are no default users: without the file the console does not start. An admin signs in with a password
only: a bearer token cannot carry the admin role (a token is a long-lived secret a script holds; the power to
reveal numbers must not sit in one), and a users file giving an admin a ``token_hash`` is refused at start. An
``org`` is ``federation`` or a 構成組合's actor code from the purpose table
(``contracts/purpose_table.toml``): the console's association scope compares it with each message's actor.
Passwords use Argon2id (``argon2-cffi``, RFC 9106 parameters); API tokens are 256-bit random values, for which
one SHA-256 is enough (no dictionary to try), compared in constant time.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from contracts.errors import ConfigurationError
from contracts.purpose_table import default_table
from hub.console.roles import FEDERATION, Role, valid_org

__all__ = [
    "ConsoleUser",
    "UserDirectory",
    "hash_password",
    "hash_token",
    "load_users",
    "new_token",
]

_HASHER: Final = PasswordHasher()
_NAME: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
_TOKEN_PREFIX: Final = "sha256:"  # noqa: S105 - a hash format name, not a secret


@functools.cache
def _dummy_hash() -> str:
    # Verifying against this keeps a sign-in for an unknown name as slow as one for a known name.
    return _HASHER.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True, slots=True)
class ConsoleUser:
    """One user of the console (its hashes are never shown).

    Attributes:
        name: the sign-in name; written to the access record as ``console:<name>``.
        role: what the user may do.
        org: ``federation`` or the code of the user's 構成組合.
    """

    name: str
    role: Role
    org: str
    password_hash: str | None = None
    token_hash: str | None = None

    @property
    def federation(self) -> bool:
        """Whether the user belongs to the federation (sees every association)."""
        return self.org == FEDERATION

    @property
    def actor(self) -> str:
        """The access record's actor for this user."""
        return f"console:{self.name}"

    def __repr__(self) -> str:
        return f"ConsoleUser(name={self.name!r}, role={self.role.value!r}, org={self.org!r})"


def hash_password(password: str) -> str:
    """An Argon2id hash of ``password`` for the users file."""
    if len(password) < 12:
        raise ConfigurationError("a console password has at least 12 characters")
    return _HASHER.hash(password)


def new_token() -> str:
    """A fresh API token (256 bits, URL-safe letters)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The users file's form of an API token: ``sha256:<hex>``."""
    return _TOKEN_PREFIX + hashlib.sha256(token.encode("utf-8")).hexdigest()


class UserDirectory:
    """The configured users; authenticates by password or token."""

    def __init__(self, users: Iterable[ConsoleUser]) -> None:
        self._users: dict[str, ConsoleUser] = {}
        for user in users:
            if user.name in self._users:
                raise ConfigurationError(f"console user {user.name!r} is listed twice")
            self._users[user.name] = user
        if not self._users:
            raise ConfigurationError("the console users file lists no user")
        self._tokens = {u.token_hash: u for u in self._users.values() if u.token_hash}

    def __len__(self) -> int:
        return len(self._users)

    def get(self, name: str) -> ConsoleUser | None:
        """The user called ``name``, if any."""
        return self._users.get(name)

    def by_password(self, name: str, password: str) -> ConsoleUser | None:
        """The user if ``password`` is theirs; ``None`` otherwise (same work for unknown names)."""
        user = self._users.get(name)
        stored = user.password_hash if user is not None and user.password_hash else _dummy_hash()
        try:
            _HASHER.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        return user if user is not None and user.password_hash else None

    def by_token(self, token: str) -> ConsoleUser | None:
        """The user whose API token this is, if any (constant-time comparison)."""
        digest = hash_token(token)
        found = None
        for stored, user in self._tokens.items():
            if hmac.compare_digest(stored, digest):
                found = user
        return found


def _user(raw: Mapping[str, Any], index: int) -> ConsoleUser:
    where = f"users[{index}]"
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigurationError(f"{where}: name is 1-64 letters, digits or . _ @ -")
    try:
        role = Role(str(raw.get("role")))
    except ValueError:
        raise ConfigurationError(
            f"{where} ({name}): role is one of {', '.join(r.value for r in Role)}"
        ) from None
    org = raw.get("org")
    if not isinstance(org, str) or not valid_org(org):
        raise ConfigurationError(f"{where} ({name}): org is 'federation' or an association code")
    if org != FEDERATION and default_table().actor(org) is None:
        raise ConfigurationError(
            f"{where} ({name}): org {org!r} is not a 構成組合 of the purpose table's actor list "
            "(contracts/purpose_table.toml [[actor]]); use 'federation' or one of its codes"
        )
    password_hash, token_hash = raw.get("password_hash"), raw.get("token_hash")
    if password_hash is None and token_hash is None:
        raise ConfigurationError(f"{where} ({name}): give password_hash or token_hash")
    if role is Role.ADMIN and token_hash is not None:
        raise ConfigurationError(
            f"{where} ({name}): bearer tokens cannot carry the admin role. Remove token_hash from this "
            "admin (admins sign in with their password), or give the token to a user of another role"
        )
    if password_hash is not None and (
        not isinstance(password_hash, str) or not password_hash.startswith("$argon2")
    ):
        raise ConfigurationError(f"{where} ({name}): password_hash must be an Argon2 hash (hash-password)")
    if token_hash is not None and (
        not isinstance(token_hash, str) or not re.fullmatch(r"sha256:[0-9a-f]{64}", token_hash)
    ):
        raise ConfigurationError(f"{where} ({name}): token_hash must be sha256:<64 hex> (new-token)")
    unknown = set(raw) - {"name", "role", "org", "password_hash", "token_hash"}
    if unknown:
        raise ConfigurationError(f"{where} ({name}): unknown keys {', '.join(sorted(unknown))}")
    return ConsoleUser(name, role, org, password_hash, token_hash)


def load_users(path: Path | None) -> UserDirectory:
    """Read the users file.

    Raises:
        ConfigurationError: no file named, unreadable, open to others, or invalid.
    """
    if path is None:
        raise ConfigurationError(
            "the console has no users: set RENKEI_CONSOLE_USERS_FILE to a TOML file of users "
            "(see docs/console.md; hashes from `renkei console hash-password`)"
        )
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"the console users file {path} cannot be read ({exc.strerror})") from exc
    if mode & 0o022:
        raise ConfigurationError(f"the console users file {path} is writable by others; chmod go-w it")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"the console users file {path} is not valid TOML: {exc}") from exc
    raw_users = data.get("users")
    if not isinstance(raw_users, list):
        raise ConfigurationError(f"the console users file {path} has no [[users]] entries")
    return UserDirectory(_user(raw, i) for i, raw in enumerate(raw_users) if isinstance(raw, dict))
