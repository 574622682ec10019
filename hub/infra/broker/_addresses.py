"""Several broker addresses, one per cluster node: connect to the first that answers, and stay there.

A transport given one URL dies with that node. Given several (``RENKEI_AMQP_URLS``), each new connection
(the publisher's, or a consumer's after a loss) tries them in turn, starting with the address that last
worked for this transport, and moves on at once when one refuses or fails to answer within the connect
timeout. Only :class:`~contracts.errors.BrokerUnavailable` moves on: a refused password or a missing queue
is the same on every node of a cluster and is raised straight away.

The order of the URLs is an order of preference. Quorum queues serve clients on any node, so it does not
matter for correctness where a client lands; it spreads load only if different machines list the nodes in
different orders (or go through a load balancer with one address).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Literal, TypeVar

import pika

from contracts.errors import BrokerUnavailable, ConfigurationError
from hub.infra.broker._io import connection_parameters

__all__ = ["BrokerAddresses"]

_log = logging.getLogger(__name__)
T = TypeVar("T")
Role = Literal["publisher", "consumer"]


class BrokerAddresses:
    """The broker URLs of one transport, parsed once per role, with the address that last worked.

    Args:
        urls: one URL, or several in order of preference.
        connection_name: shown in the broker's connection list; ``.publisher``/``.consumer`` is appended.

    Raises:
        ConfigurationError: no URL was given, or one cannot be parsed.
    """

    def __init__(self, urls: str | Sequence[str], connection_name: str) -> None:
        listed = [urls] if isinstance(urls, str) else list(urls)
        if not listed:
            raise ConfigurationError("no AMQP URL given")
        self._params: dict[Role, list[pika.URLParameters]] = {
            role: [connection_parameters(url, f"{connection_name}.{role}") for url in listed]
            for role in ("publisher", "consumer")
        }
        self._lock = threading.Lock()
        self._current = 0

    def __len__(self) -> int:
        return len(self._params["publisher"])

    @property
    def user(self) -> str:
        """The user name of the URLs' credentials (``guest`` when a URL names none, as pika defaults).

        Raises:
            ConfigurationError: the URLs name different users (one transport is one broker user).
        """
        users = {_user_of(params) for params in self._params["publisher"]}
        if len(users) != 1:
            raise ConfigurationError(
                "the AMQP URLs of one transport name different users; one transport is one broker user"
            )
        return users.pop()

    def open(self, role: Role, open_one: Callable[[pika.URLParameters], T]) -> T:
        """Return ``open_one(params)`` for the first address that answers, starting with the last good one.

        Raises:
            BrokerUnavailable: no address answered (the last address's error, naming how many were tried).
            ConfigurationError: an address refused the credentials or the set-up; the others are not tried.
        """
        params = self._params[role]
        with self._lock:
            start = self._current
        last: BrokerUnavailable | None = None
        for offset in range(len(params)):  # bounded: each address once per call
            index = (start + offset) % len(params)
            try:
                session = open_one(params[index])
            except BrokerUnavailable as exc:
                last = exc
                if len(params) > 1:
                    _log.warning(
                        "broker %s:%s did not answer (%s); trying the next address",
                        params[index].host,
                        params[index].port,
                        exc,
                    )
                continue
            with self._lock:
                self._current = index
            return session
        assert last is not None
        if len(params) == 1:
            raise last
        raise BrokerUnavailable(f"none of {len(params)} broker addresses answered; last: {last}") from last


def _user_of(params: pika.URLParameters) -> str:
    username = getattr(params.credentials, "username", None)
    return username if isinstance(username, str) else ""
