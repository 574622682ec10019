"""Where each service's keyring lives, how it is read, and how development makes them on first run.

Layout (development, the default): ``<data_dir>/keys/<service>/keyring.json``, one per service
(:data:`~hub.infra.service_names.SERVICE_NAMES`), directories 0700, files 0600. ``RENKEI_KEY_DIR`` moves the
root; ``RENKEI_KEY_FILE`` names one file (``{service}`` in it is replaced by the service name);
``RENKEI_KEY_ENV`` names an environment variable holding the keyring's JSON instead (``{SERVICE}`` in its
name is replaced by the service's name in capitals).

In development, the first service to start makes every service's keyring at once (under a lock, so that
processes starting together agree), because keys are shared between services: the hub's public key goes to
the adapters that seal for it, a link key to both ends of a line. A keyring of the old format 1
(``<data_dir>/keys/keyring.json``, every key in one file) found then is imported and removed. In production
nothing is ever generated; ``renkei keys init --out DIR`` makes a set for the operator to install.

``renkei keys`` (rotate, retire) works on every service's keyring at once: it reads them all, merges them
into a deployment's keyring (:func:`~hub.infra.keys.needs.assemble`), changes that, and writes each
service its cut again, the keyrings holding private and secret keys before those holding only public
keys, so that a recipient always has a key before anyone seals for it.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from contracts.errors import ConfigurationError
from hub.infra.keys.keyring import (
    KeyKind,
    Keyring,
    generate_keyring,
    keyring_from_json,
    keyring_from_v1_json,
    missing_parties,
    private_dir,
    read_keyring_file,
    rotate,
    save_keyring,
)
from hub.infra.keys.needs import assemble, check_keyring, cut
from hub.infra.service_names import SERVICE_NAMES, ServiceName
from hub.settings import Environment, Settings

__all__ = [
    "KeyringLocation",
    "deployment_keyring",
    "ensure_development_keyrings",
    "keyring_location",
    "keyring_paths",
    "one_keyring_each",
    "read_service_keyring",
    "write_deployment",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class KeyringLocation:
    """Where one service's keyring is: a file, or an environment variable."""

    service: ServiceName
    path: Path | None = None
    variable: str | None = None

    def __str__(self) -> str:
        return f"${self.variable}" if self.variable else str(self.path)

    def stamp(self) -> tuple[int, int, int] | None:
        """What changes when the file is replaced (inode, size, modification time); ``None``: no file."""
        if self.path is None:
            return None
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)


def keyring_location(settings: Settings, service: ServiceName) -> KeyringLocation:
    """Where ``service``'s keyring is, by the settings."""
    variable = settings.keyring_variable_of(service)
    if variable is not None:
        return KeyringLocation(service, variable=variable)
    return KeyringLocation(service, path=settings.keyring_path_of(service))


def read_service_keyring(
    location: KeyringLocation, environ: Mapping[str, str] | None = None, *, check: bool = True
) -> Keyring:
    """Read the keyring at ``location``; with ``check``, refuse one that is not exactly the service's.

    Raises:
        ConfigurationError: missing, open to others, malformed, or (``check``) holding a key the service
            must not hold, or lacking one it needs.
    """
    if location.variable is not None:
        env = os.environ if environ is None else environ
        text = env.get(location.variable)
        if not text:
            raise ConfigurationError(
                f"RENKEI_KEY_ENV names the variable {location.variable!r} for {location.service}, which is "
                "not set or empty"
            )
        ring = keyring_from_json(text)
    else:
        assert location.path is not None
        if not location.path.exists():
            raise ConfigurationError(
                f"no keyring for {location.service} at {location.path}: run `renkei keys init` (development "
                "makes it on first run; production never does)"
            )
        ring = read_keyring_file(location.path)
    return check_keyring(ring, location.service) if check else ring


def keyring_paths(settings: Settings) -> dict[ServiceName, Path]:
    """Every service's keyring file, for commands that work on all of them.

    Raises:
        ConfigurationError: the keyrings come from environment variables, or one file is named for every
            service (``RENKEI_KEY_FILE`` without ``{service}``).
    """
    if settings.key_env:
        raise ConfigurationError(
            "the keyrings come from environment variables (RENKEI_KEY_ENV), which this command cannot "
            "change: give --out DIR, then put each file's contents into its service's variable"
        )
    paths = {s: settings.keyring_path_of(s) for s in SERVICE_NAMES}
    if len(set(paths.values())) != len(paths):
        raise ConfigurationError(
            "RENKEI_KEY_FILE names one file for every service: put '{service}' in it (or use "
            "RENKEI_KEY_DIR), so that each service has its own keyring"
        )
    return paths


def deployment_keyring(settings: Settings) -> Keyring:
    """Every service's keyring merged into a deployment's (for ``renkei keys``).

    Raises:
        ConfigurationError: no keyring is found, or they do not belong together.
    """
    found = [read_service_keyring(KeyringLocation(s, path=p), check=False) for s, p in _existing(settings)]
    if not found:
        raise ConfigurationError("no service's keyring was found: run `renkei keys init` first")
    return assemble(found)


def _existing(settings: Settings) -> Iterator[tuple[ServiceName, Path]]:
    for service, path in keyring_paths(settings).items():
        if path.exists():
            yield service, path


def _write_order(keyring: Keyring, services: Sequence[ServiceName]) -> list[ServiceName]:
    # Keyrings that hold a private or secret key come first; those holding only public keys last. A sender
    # then never holds a public key before its recipient holds the private one.
    def public_only(service: ServiceName) -> bool:
        names = cut(keyring, service).names()
        return bool(names) and all(n.kind is KeyKind.SEAL_PUBLIC for n in names)

    return sorted(services, key=lambda s: (public_only(s), SERVICE_NAMES.index(s)))


def write_deployment(
    keyring: Keyring,
    paths: Mapping[ServiceName, Path],
    *,
    only_changed: bool = True,
) -> list[ServiceName]:
    """Write each service in ``paths`` its cut of a deployment's ``keyring``; returns the services written.

    Each file is replaced atomically; a keyring whose content would not change is left alone (so that
    running services do not re-read it for nothing).
    """
    written = []
    for service in _write_order(keyring, list(paths)):
        ring = cut(keyring, service)
        path = paths[service]
        if only_changed and path.exists():
            try:
                if read_keyring_file(path) == ring:
                    continue
            except ConfigurationError:
                pass
        save_keyring(ring, path)
        written.append(service)
    return written


@contextlib.contextmanager
def _init_lock(settings: Settings) -> Iterator[None]:
    directory = settings.data_dir / "keys"
    private_dir(directory)
    fd = os.open(directory / ".init.lock", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def ensure_development_keyrings(settings: Settings) -> None:
    """In development, make every missing service keyring (a whole set on first run); never in production.

    On first run (no service keyring yet) a fresh deployment's keys are generated, or imported from the
    format-1 keyring at ``<data_dir>/keys/keyring.json``, which is then removed. Later, a service whose
    keyring is missing gets its cut of the others', and a recipient or counterpart added since the keys
    were made (the NTA adapter, say) gets the first version of its keys, in every keyring that holds them.

    Raises:
        ConfigurationError: not development, or a missing keyring cannot be made from the others'.
    """
    if settings.environment is not Environment.DEVELOPMENT:
        raise ConfigurationError("keys are never generated outside development")
    paths = keyring_paths(settings)
    if all(p.exists() for p in paths.values()) and not _lacks_parties(paths.values()):
        return
    with _init_lock(settings):
        existing = dict(_existing(settings))
        legacy = settings.legacy_keyring_path
        if existing:
            whole = assemble(read_keyring_file(p) for p in existing.values())
        elif legacy.exists():
            whole = keyring_from_v1_json(_read_legacy(legacy))
        else:
            whole = generate_keyring()
        new = missing_parties(whole)
        if new:
            whole = rotate(
                whole,
                kek=False,
                sealing=[n.owner for n in new if n.kind is KeyKind.SEAL_PRIVATE],
                links=[n.owner for n in new if n.kind is KeyKind.LINK],
            )
            log.warning("added the first keys of new recipients", extra={"keys": [str(n) for n in new]})
        missing = {s: p for s, p in paths.items() if s not in existing}
        write_deployment(whole, paths if new else missing, only_changed=bool(new))
        if not existing and legacy.exists():
            legacy.unlink()  # every key of it now lives in the keyrings of the services that need it
            log.warning(
                "imported the format-1 keyring into one keyring per service and removed it",
                extra={"services": len(missing)},
            )


def one_keyring_each(settings: Settings) -> bool:
    """Whether every service's keyring is a file of its own (what :func:`keyring_paths` works on)."""
    try:
        keyring_paths(settings)
    except ConfigurationError:
        return False
    return True


def _lacks_parties(paths: Iterable[Path]) -> bool:
    try:
        return bool(missing_parties(assemble(read_keyring_file(p) for p in paths)))
    except ConfigurationError:
        return False  # unreadable or not of one deployment: the service's own check says so


def _read_legacy(path: Path) -> str:
    mode = path.stat().st_mode
    if os.name == "posix" and mode & 0o077:
        raise ConfigurationError(
            f"the keyring {path} is open to others (mode {mode & 0o777:o}); make it owner-only (chmod 600)"
        )
    return path.read_text(encoding="utf-8")
