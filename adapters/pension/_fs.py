"""File-system primitives of the directory exchange: private directories and atomic, owner-only writes.

A reader of the exchange directories must never see half a file under its final name. Every file is
written under a temporary name ending in ``.tmp``, flushed, fsynced, made owner-only, and then renamed;
the directory is fsynced after the rename so the name survives a crash too. Readers ignore ``*.tmp``.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Final

from adapters.pension.errors import PensionDirectoryUnavailable
from contracts.errors import ConfigurationError

__all__ = [
    "DIR_MODE",
    "FILE_MODE",
    "TMP_SUFFIX",
    "AtomicWriter",
    "ensure_private_dir",
    "fsync_dir",
    "open_regular",
    "rename",
    "restrict",
    "write_bytes",
]

DIR_MODE: Final = 0o700
FILE_MODE: Final = 0o600
TMP_SUFFIX: Final = ".tmp"


def ensure_private_dir(path: Path) -> None:
    """Create ``path`` owner-only (0o700) if missing; refuse an existing one others can enter.

    Raises:
        ConfigurationError: the directory exists and group or others have access to it.
        PensionDirectoryUnavailable: it cannot be created.
    """
    try:
        path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError as exc:
        raise PensionDirectoryUnavailable(f"cannot create the exchange directory {path.name}/") from exc
    if mode & 0o077:
        raise ConfigurationError(
            f"the exchange directory {path} is open to group or others (mode {mode:o}); "
            "it holds personal data: restrict it to its owner (chmod 700)"
        )


def fsync_dir(path: Path) -> None:
    """Make the latest renames in ``path`` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def rename(source: Path, target: Path) -> None:
    """Rename ``source`` to ``target`` (same file system) and make both directories durable."""
    os.rename(source, target)
    fsync_dir(target.parent)
    if source.parent != target.parent:
        fsync_dir(source.parent)


def restrict(path: Path) -> None:
    """Make a regular file owner-only (0o600) if it is not; best effort (the producer may own it)."""
    try:
        info = path.lstat()
        if stat.S_ISREG(info.st_mode) and stat.S_IMODE(info.st_mode) != FILE_MODE:
            os.chmod(path, FILE_MODE)
    except OSError:
        pass  # the directory is owner-only anyway; this is defence in depth


def open_regular(path: Path) -> BinaryIO:
    """Open ``path`` for reading without following a symbolic link; refuse anything but a regular file.

    Raises:
        FileNotFoundError: there is no such file.
        IsADirectoryError: ``path`` is not a regular file (a link, a directory, a device...).
    """
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        regular = stat.S_ISREG(os.fstat(fd).st_mode)
        if regular:
            os.set_blocking(fd, True)
            return os.fdopen(fd, "rb", buffering=1 << 16)
    except BaseException:
        os.close(fd)
        raise
    os.close(fd)
    raise IsADirectoryError(f"{path.name} is not a regular file")


class AtomicWriter:
    """Write a file under a temporary name and publish it by rename, owner-only (0o600).

    Use as a context manager: :meth:`commit` publishes; leaving the block without committing (or with an
    exception) removes the temporary file. The SHA-256 and size of what was written are kept, so that a
    manifest can be written afterwards without reading the file again.

    Args:
        target: the final path.
        unique_tmp: ``True`` gives the temporary file a random suffix, so that two writers of the same
            file never collide (the exchange directory); ``False`` uses ``NAME.tmp`` exactly (the producer's
            documented convention, used by the simulator).
    """

    def __init__(self, target: Path, *, unique_tmp: bool = True) -> None:
        self.target = target
        suffix = f".{secrets.token_hex(6)}{TMP_SUFFIX}" if unique_tmp else TMP_SUFFIX
        self.tmp = target.with_name(target.name + suffix)
        self.size = 0
        self._hash = hashlib.sha256()
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | (os.O_EXCL if unique_tmp else 0)
        fd = os.open(self.tmp, flags, FILE_MODE)
        try:
            os.fchmod(fd, FILE_MODE)  # the umask may only remove bits; this also fixes a stale NAME.tmp
            self._file: BinaryIO | None = os.fdopen(fd, "wb", buffering=1 << 16)
        except BaseException:
            os.close(fd)
            raise

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of the bytes written so far."""
        return self._hash.hexdigest()

    def write(self, data: bytes) -> None:
        """Append ``data``."""
        if self._file is None:
            raise ValueError("the file is already committed or aborted")
        self._file.write(data)
        self._hash.update(data)
        self.size += len(data)

    def commit(self) -> None:
        """Flush, fsync, and rename the temporary file to its final name."""
        if self._file is None:
            raise ValueError("the file is already committed or aborted")
        file, self._file = self._file, None
        try:
            file.flush()
            os.fsync(file.fileno())
        finally:
            file.close()
        rename(self.tmp, self.target)

    def abort(self) -> None:
        """Discard the temporary file (no effect after :meth:`commit`)."""
        if self._file is not None:
            file, self._file = self._file, None
            file.close()
            self.tmp.unlink(missing_ok=True)

    def __enter__(self) -> AtomicWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.abort()


def write_bytes(target: Path, content: bytes, *, unique_tmp: bool = True) -> str:
    """Write ``content`` atomically to ``target``; returns its SHA-256."""
    with AtomicWriter(target, unique_tmp=unique_tmp) as writer:
        writer.write(content)
        writer.commit()
        return writer.sha256
