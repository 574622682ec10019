"""Create renkei's broker users and their least-privilege permissions in a running broker (idempotent).

The users and permissions are those of the definitions document (:func:`hub.infra.broker.definitions
.definitions`), with each service's password from :mod:`hub.infra.broker.credentials` (generated owner-only
in development). Two ways to reach the broker, chosen by the settings:

* ``rabbitmqctl import_definitions`` on the broker's own machine (the development default); or
* the management HTTP API (``RENKEI_BROKER_MANAGEMENT_URL``, e.g. ``http://admin:secret@host:15672``):
  ``PUT /api/users/{user}`` with the password hash and ``PUT /api/permissions/{vhost}/{user}``.

Applying again sets the same users, hashes and permissions: nothing changes but the hash's salt.
:func:`apply_users` (``renkei topology users apply``) applies only the users, their virtual host and
permissions; the topology is ``renkei topology apply``'s (run it as the operator). :func:`apply_definitions`
(development's start-up, :mod:`hub.bootstrap.broker_identity`) applies the whole definitions document,
topology included, as production's ``broker-init`` imports it: the operator may declare, but RabbitMQ lets
nobody without write permission on the default exchange *create* the retry tiers (their dead-letter
exchange is the default one), so their first declaration belongs to the import. Nothing secret is printed,
logged or put on a command line (``rabbitmqctl`` reads the document from standard input).
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from contracts.errors import BrokerUnavailable, ConfigurationError
from hub.infra.broker.credentials import service_password, url_vhost
from hub.infra.broker.definitions import BrokerUser, broker_users, definitions, hash_password
from hub.settings import Settings

__all__ = [
    "BrokerAdmin",
    "ManagementApi",
    "Rabbitmqctl",
    "admin_for",
    "apply_definitions",
    "apply_users",
    "delete_users",
    "users_document",
]

_TIMEOUT_S = 60
_CLI_ATTEMPTS = 3


class BrokerAdmin(Protocol):
    """Somewhere users and permissions can be applied."""

    def apply(self, document: dict[str, Any]) -> None:
        """Create or update the document's virtual hosts, users and permissions."""
        ...

    def delete(self, users: Sequence[str]) -> None:
        """Delete these users (those that do not exist are skipped)."""
        ...


@dataclass(frozen=True, slots=True)
class Rabbitmqctl:
    """``rabbitmqctl`` on the broker's own machine (it needs the node's Erlang cookie: run as root).

    Attributes:
        command: the CLI (a name on ``PATH`` or a path).
        node: the node to talk to (``-n``); default: the CLI's own default node.
        env: the CLI's environment (``HOME`` locates the Erlang cookie); default: this process's.
    """

    command: str = "rabbitmqctl"
    node: str | None = None
    env: Mapping[str, str] | None = field(default=None, hash=False, compare=False)

    def apply(self, document: dict[str, Any]) -> None:
        """Import the document from standard input."""
        self._run("import_definitions", "--timeout", str(_TIMEOUT_S - 10), stdin=json.dumps(document))

    def delete(self, users: Sequence[str]) -> None:
        """Delete each user; a missing one is fine.

        All of them in one ``rabbitmqctl eval`` of the function ``rabbitmqctl delete_user`` itself calls
        (each ``rabbitmqctl`` call starts an Erlang VM, about half a second); user by user with
        ``delete_user`` when that is not possible (names outside ``[A-Za-z0-9._-]``, or a broker whose
        function differs).
        """
        if not users:
            return
        if all(_PLAIN_NAME.match(user) for user in users):
            names = ", ".join(f'<<"{user}">>' for user in users)
            code = f'[catch rabbit_auth_backend_internal:delete_user(U, <<"renkei">>) || U <- [{names}]].'
            result = self._run("eval", code, check=False)
            answers = result.stdout.strip()
            if result.returncode == 0 and answers.startswith("[") and _only_deleted_or_missing(answers):
                return
        for user in users:
            result = self._run("delete_user", user, check=False)
            if result.returncode != 0 and "no_such_user" not in result.stderr + result.stdout:
                raise ConfigurationError(f"rabbitmqctl could not delete {user}: {_last_line(result.stderr)}")

    def _run(
        self, *args: str, stdin: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        if shutil.which(self.command) is None:
            raise ConfigurationError(
                f"{self.command} is not installed here; run this on the broker's machine or set "
                "RENKEI_BROKER_MANAGEMENT_URL"
            )
        node = ("-n", self.node) if self.node else ()
        env = dict(self.env) if self.env is not None else None
        for attempt in range(_CLI_ATTEMPTS):  # bounded
            try:
                result = subprocess.run(  # noqa: S603 - a fixed command; the document goes to stdin
                    [self.command, "-q", *node, *args],
                    input=stdin,
                    capture_output=True,
                    text=True,
                    timeout=_TIMEOUT_S,
                    check=False,
                    env=env,
                )
            except subprocess.TimeoutExpired:
                raise BrokerUnavailable(f"rabbitmqctl {args[0]} did not finish in {_TIMEOUT_S} s") from None
            # The CLI is an Erlang node of its own; on a busy machine it sometimes fails to start its
            # distribution, which says nothing about the broker: try again.
            if "nodistribution" not in result.stderr or attempt == _CLI_ATTEMPTS - 1:
                break
            time.sleep(1)
        if check and result.returncode != 0:
            raise ConfigurationError(f"rabbitmqctl {args[0]} failed: {_last_line(result.stderr)}")
        return result


@dataclass(frozen=True, slots=True)
class ManagementApi:
    """The RabbitMQ management HTTP API at ``url`` (credentials in the URL's user part)."""

    url: str

    def apply(self, document: dict[str, Any]) -> None:
        """PUT each virtual host, user (by password hash) and permission; then the topology, if any."""
        for vhost in document["vhosts"]:
            self._call("PUT", f"/api/vhosts/{quote(vhost['name'], safe='')}", {})
        for user in document["users"]:
            body = {
                "password_hash": user["password_hash"],
                "hashing_algorithm": user["hashing_algorithm"],
                "tags": ",".join(user["tags"]),
            }
            self._call("PUT", f"/api/users/{quote(user['name'], safe='')}", body)
        for p in document["permissions"]:
            path = f"/api/permissions/{quote(p['vhost'], safe='')}/{quote(p['user'], safe='')}"
            self._call("PUT", path, {k: p[k] for k in ("configure", "write", "read")})
        for e in document.get("exchanges", []):
            keep = ("type", "durable", "auto_delete", "internal", "arguments")
            self._call("PUT", f"/api/exchanges/{_q(e['vhost'])}/{_q(e['name'])}", {k: e[k] for k in keep})
        for queue in document.get("queues", []):
            body = {k: queue[k] for k in ("durable", "auto_delete", "arguments")}
            self._call("PUT", f"/api/queues/{_q(queue['vhost'])}/{_q(queue['name'])}", body)
        for b in document.get("bindings", []):
            path = f"/api/bindings/{_q(b['vhost'])}/e/{_q(b['source'])}/q/{_q(b['destination'])}"
            self._call("POST", path, {"routing_key": b["routing_key"], "arguments": b["arguments"]})

    def delete(self, users: Sequence[str]) -> None:
        """DELETE each user; a missing one (404) is fine."""
        for user in users:
            self._call("DELETE", f"/api/users/{quote(user, safe='')}", None, missing_ok=True)

    def _call(self, method: str, path: str, body: dict[str, Any] | None, *, missing_ok: bool = False) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https"):
            raise ConfigurationError("the management URL must be http:// or https://")
        netloc = parts.hostname or "localhost"
        if parts.port:
            netloc += f":{parts.port}"
        target = urlunsplit((parts.scheme, netloc, parts.path.rstrip("/") + path, "", ""))
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(target, data=data, method=method)  # noqa: S310 - http(s) only, above
        request.add_header("content-type", "application/json")
        if parts.username:
            token = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            request.add_header("authorization", "Basic " + base64.b64encode(token).decode("ascii"))
        try:
            with urllib.request.urlopen(request, timeout=_TIMEOUT_S) as response:  # noqa: S310
                response.read()
        except urllib.error.HTTPError as exc:
            if missing_ok and exc.code == 404:
                return
            raise ConfigurationError(f"the management API answered {exc.code} to {method} {path}") from None
        except OSError as exc:
            raise BrokerUnavailable(f"the management API did not answer: {type(exc).__name__}") from None


def admin_for(settings: Settings) -> BrokerAdmin:
    """The management API when ``RENKEI_BROKER_MANAGEMENT_URL`` is set, else ``rabbitmqctl``."""
    return ManagementApi(settings.broker.management_url) if settings.broker.management_url else Rabbitmqctl()


def users_document(settings: Settings, *, vhost: str | None = None, topology: bool = False) -> dict[str, Any]:
    """The users, virtual host and permissions of the definitions document, with every service's password.

    Args:
        settings: the settings (prefix, retry tiers, where passwords come from).
        vhost: the virtual host; default: the one of the AMQP URL.
        topology: keep the exchanges, queues and bindings too (the whole definitions document).

    Raises:
        ConfigurationError: a password cannot be had (production without ``{service}`` files, say).
    """
    prefix = settings.exchange_prefix
    configured = settings.broker.password_file
    if configured and "{service}" not in configured:
        raise ConfigurationError(
            "applying every user needs one password file per service: put {service} in "
            "RENKEI_BROKER_PASSWORD_FILE"
        )
    hashes: dict[str, str | None] = {
        user.name: hash_password(service_password(settings, user.role)) for user in broker_users(prefix)
    }
    document = definitions(
        prefix, settings.retry, hashes, vhost=vhost or url_vhost(settings.amqp_addresses[0])
    )
    if topology:
        return document
    keep = ("users", "vhosts", "permissions")
    return {key: (value if key in keep else []) for key, value in document.items()}


def apply_users(
    settings: Settings, *, vhost: str | None = None, admin: BrokerAdmin | None = None
) -> tuple[BrokerUser, ...]:
    """Create (or update) every service's broker user and permissions; returns the users.

    Raises:
        ConfigurationError: no password, no way to reach the broker, or the broker refused.
        BrokerUnavailable: the broker did not answer.
    """
    document = users_document(settings, vhost=vhost)
    (admin or admin_for(settings)).apply(document)
    return broker_users(settings.exchange_prefix)


def apply_definitions(
    settings: Settings, *, vhost: str | None = None, admin: BrokerAdmin | None = None
) -> tuple[BrokerUser, ...]:
    """Import the whole definitions document: every user and permission, and the topology; returns the users.

    Raises:
        ConfigurationError: no password, no way to reach the broker, or the broker refused (a queue that
            exists with other arguments, say).
        BrokerUnavailable: the broker did not answer.
    """
    document = users_document(settings, vhost=vhost, topology=True)
    (admin or admin_for(settings)).apply(document)
    return broker_users(settings.exchange_prefix)


def delete_users(settings: Settings, *, admin: BrokerAdmin | None = None) -> tuple[BrokerUser, ...]:
    """Delete every service's broker user of the settings' prefix; returns them."""
    users = broker_users(settings.exchange_prefix)
    (admin or admin_for(settings)).delete([user.name for user in users])
    return users


_PLAIN_NAME = re.compile(r"^[A-Za-z0-9._-]{1,200}$")
_ANSWER = re.compile(r"ok|\{error,\{no_such_user,<<\"[A-Za-z0-9._-]+\">>\}\}")


def _only_deleted_or_missing(answers: str) -> bool:
    """Whether ``eval``'s list holds only ``ok`` and ``{error,{no_such_user,...}}`` (Erlang's printing)."""
    inner = re.sub(r"\s+", "", answers)[1:-1]
    return inner == "" or all(_ANSWER.fullmatch(item) for item in _split_terms(inner))


def _split_terms(text: str) -> list[str]:
    # Commas at depth 0 separate the list's items; nested tuples and binaries hold commas of their own.
    items, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char in "{[<":
            depth += 1
        elif char in "}]>":
            depth -= 1
        elif char == "," and depth == 0:
            items.append(text[start:i])
            start = i + 1
    items.append(text[start:])
    return items


def _q(name: str) -> str:
    return quote(name, safe="")


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no message"
