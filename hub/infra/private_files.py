"""Owner-only files: every renkei process creates what it writes readable by its own user alone.

renkei's data directory holds the embedded database and its WAL, the keys in development, the logs and the
exchange files with the pension system: personal data, and keys to more. Each process therefore runs with
umask 077 (:func:`owner_only_umask`, set by the ``renkei`` process's entry point before any command runs), so
that every directory it creates is 0700 and every file 0600 whatever the library creating it asks for; the
data directory is created 0700, and an existing one open to others is reported (:func:`private_data_dir`).
Files that must be shared with another system (the pension system's exchange directories) are handed over
by that system's own user, not by wider modes.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Final

__all__ = ["DIR_MODE", "FILE_MODE", "UMASK", "owner_only_umask", "private_data_dir"]

log = logging.getLogger(__name__)

UMASK: Final = 0o077
DIR_MODE: Final = 0o700
FILE_MODE: Final = 0o600


def owner_only_umask() -> int:
    """Make this process create owner-only files and directories from now on; returns the old umask."""
    return os.umask(UMASK)


def private_data_dir(path: Path) -> bool:
    """Create ``path`` owner-only (0700) if it is missing; returns whether it is owner-only.

    An existing directory is left as its owner set it (a mount point, a directory shared on purpose), with
    a warning when others may enter it: ``chmod 700`` it.
    """
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    if mode & 0o077:
        log.warning(
            "the data directory is open to other users; make it owner-only (chmod 700)",
            extra={"path": str(path), "mode": f"{mode & 0o777:o}"},
        )
        return False
    return True
