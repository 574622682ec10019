"""A running service's keyring, followed as its file changes: a rotation reaches a process without a restart.

:class:`KeyringSource` holds the keyring a service loaded and hands out live views of its keys
(:meth:`KeyringSource.view`). A view looks at the keyring file at most once every ``check_every_s`` seconds
(a ``stat``, cheap) and re-reads it when the file was replaced, so a version added by ``renkei keys rotate``
becomes the one a sender writes with within a second. A component that meets a key id it does not hold (a
number sealed under the recipient's new key, a data key re-wrapped under the new KEK) calls
:meth:`~hub.infra.keys.series.SeriesView.reread`, which looks at the file at once: the receiving end
never fails for a key that was already written to its keyring.

A keyring that is replaced by a bad one (malformed, or holding a key the service must not hold) is not
taken: the service keeps the keys it has and logs an error, once per change of the file. Keyrings from an
environment variable never change while the process runs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable

from contracts.errors import ConfigurationError
from hub.infra.keys.keyring import KeyName, Keyring
from hub.infra.keys.needs import check_keyring
from hub.infra.keys.series import KeySeries, SeriesView
from hub.infra.service_names import ServiceName

__all__ = ["CHECK_EVERY_S", "KeyringSource"]

log = logging.getLogger(__name__)

CHECK_EVERY_S = 1.0
"""How often a live view looks at its keyring file for a new version (a sender adopts it this late)."""


class KeyringSource:
    """One service's keyring, re-read when its file is replaced.

    Args:
        service: the service whose keyring it is.
        read: reads (and parses) the keyring.
        stamp: what changes when the file is replaced (``None``: the keyring never changes).
        check_every_s: how often :meth:`get` looks at the stamp.
        clock: monotonic seconds (tests).

    Raises:
        ConfigurationError: the first read fails, or the keyring is not exactly the service's.
    """

    def __init__(
        self,
        service: ServiceName,
        read: Callable[[], Keyring],
        stamp: Callable[[], Hashable] | None = None,
        *,
        check_every_s: float = CHECK_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.service = service
        self._read = read
        self._stamp_of = stamp
        self._every = check_every_s
        self._clock = clock
        self._lock = threading.Lock()
        self._stamp = stamp() if stamp is not None else None
        self._ring = check_keyring(read(), service)
        self._checked = clock()

    @classmethod
    def fixed(cls, keyring: Keyring, service: ServiceName) -> KeyringSource:
        """A source that never changes (tests, and keyrings from an environment variable)."""
        return cls(service, lambda: keyring)

    def get(self) -> Keyring:
        """The keyring in force (looked at again when ``check_every_s`` has passed)."""
        if self._stamp_of is not None and self._clock() - self._checked >= self._every:
            self._refresh()
        return self._ring

    def reread(self) -> Keyring:
        """The keyring in force after looking at the file now."""
        if self._stamp_of is not None:
            self._refresh()
        return self._ring

    def view(self, name: KeyName) -> SeriesView:
        """A live view of the key ``name`` (empty when the keyring holds none, e.g. after retirement)."""
        return _LiveSeries(self, name)

    def _refresh(self) -> None:
        assert self._stamp_of is not None
        with self._lock:
            self._checked = self._clock()
            stamp = self._stamp_of()
            if stamp == self._stamp:
                return
            self._stamp = stamp
            try:
                ring = check_keyring(self._read(), self.service)
            except ConfigurationError as exc:
                log.error(  # noqa: TRY400 - the reason is the message; no traceback to show
                    "the replaced keyring was not taken; the keys in force stay",
                    extra={"service": self.service, "error": str(exc)},
                )
                return
            added = {v.key_id for _, v in ring.key_ids()} - {v.key_id for _, v in self._ring.key_ids()}
            dropped = {v.key_id for _, v in self._ring.key_ids()} - {v.key_id for _, v in ring.key_ids()}
            self._ring = ring
        log.info(
            "keyring re-read",
            extra={"service": self.service, "added": sorted(added), "dropped": sorted(dropped)},
        )


class _LiveSeries:
    """A :class:`SeriesView` of one key of a :class:`KeyringSource`."""

    __slots__ = ("_empty", "_name", "_source")

    def __init__(self, source: KeyringSource, name: KeyName) -> None:
        self._source = source
        self._name = name
        self._empty = KeySeries(str(name), ())

    def series(self) -> KeySeries:
        return self._source.get().get(self._name) or self._empty

    def reread(self) -> KeySeries:
        return self._source.reread().get(self._name) or self._empty

    def __repr__(self) -> str:
        return f"LiveSeries({self._source.service}: {self._name})"
