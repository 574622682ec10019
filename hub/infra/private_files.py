"""Owner-only files: every renkei process creates what it writes readable by its own user alone.

renkei's data directory holds the embedded database and its WAL, the keys in development, the logs and the
exchange files with the pension system: personal data, and keys to more. Each process therefore runs with
umask 077 (:func:`owner_only_umask`, set by the ``renkei`` command before any command runs), so that every
directory it creates is 0700 and every file 0600 whatever the library creating it asks for, and the data
directory itself is kept 0700 (:func:`private_data_dir`). Files that must be shared with another system
(the pension system's exchange directories) are handed over by that system's own user, not by wider modes.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Final

__all__ = ["DIR_MODE", "FILE_MODE", "UMASK", "owner_only_umask", "private_data_dir"]

UMASK: Final = 0o077
DIR_MODE: Final = 0o700
FILE_MODE: Final = 0o600


def owner_only_umask() -> int:
    """Make this process create owner-only files and directories from now on; returns the old umask."""
    return os.umask(UMASK)


def private_data_dir(path: Path) -> None:
    """Create ``path`` owner-only (0700), or make it so if this user owns it and others may enter it.

    A directory owned by someone else (a mount point prepared by an administrator) is left as it is.
    """
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        info = path.stat()
        if info.st_mode & 0o077 and info.st_uid == os.getuid():
            path.chmod(DIR_MODE)
