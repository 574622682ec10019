"""Create renkei's broker users and their least-privilege permissions in a running broker (idempotent).

The users and permissions are those of the definitions document (:func:`hub.infra.broker_definitions
.definitions`), with each service's password from :mod:`hub.infra.broker_credentials` (generated owner-only
in development). Two ways to reach the broker, chosen by the settings:

* ``rabbitmqctl import_definitions`` on the broker's own machine (the development default); or
* the management HTTP API (``RENKEI_BROKER_MANAGEMENT_URL``, e.g. ``http://admin:secret@host:15672``):
  ``PUT /api/users/{user}`` with the password hash and ``PUT /api/permissions/{vhost}/{user}``.

Applying again sets the same users, hashes and permissions: nothing changes but the hash's salt. Only the
users, their virtual host and permissions are applied; the topology is ``renkei topology apply``'s (run it as
the operator). Nothing secret is printed, logged or put on a command line (``rabbitmqctl`` reads the
document from standard input).
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from contracts.errors import BrokerUnavailable, ConfigurationError
from hub.infra.broker_credentials import service_password, url_vhost
from hub.infra.broker_definitions import BrokerUser, broker_users, definitions, hash_password
from hub.settings import Settings

__all__ = [
    "BrokerAdmin",
    "ManagementApi",
    "Rabbitmqctl",
    "admin_for",
    "apply_users",
    "delete_users",
    "users_document",
]

_TIMEOUT_S = 60


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
    """``rabbitmqctl`` on the broker's own machine (it needs the node's Erlang cookie: run as root)."""

    command: str = "rabbitmqctl"

    def apply(self, document: dict[str, Any]) -> None:
        """Import the document from standard input."""
        self._run("import_definitions", "--timeout", str(_TIMEOUT_S - 10), stdin=json.dumps(document))

    def delete(self, users: Sequence[str]) -> None:
        """Delete each user; a missing one is fine."""
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
        try:
            result = subprocess.run(  # noqa: S603 - a fixed command; the document goes to stdin
                [self.command, "-q", *args],
                input=stdin,
                capture_output=True,
                text=True,
                timeout=_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise BrokerUnavailable(f"rabbitmqctl {args[0]} did not finish in {_TIMEOUT_S} s") from None
        if check and result.returncode != 0:
            raise ConfigurationError(f"rabbitmqctl {args[0]} failed: {_last_line(result.stderr)}")
        return result


@dataclass(frozen=True, slots=True)
class ManagementApi:
    """The RabbitMQ management HTTP API at ``url`` (credentials in the URL's user part)."""

    url: str

    def apply(self, document: dict[str, Any]) -> None:
        """PUT each virtual host, user (by password hash) and permission."""
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


def users_document(settings: Settings, *, vhost: str | None = None) -> dict[str, Any]:
    """The users, virtual host and permissions of the definitions document, with every service's password.

    Args:
        settings: the settings (prefix, retry tiers, where passwords come from).
        vhost: the virtual host; default: the one of the AMQP URL.

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


def delete_users(settings: Settings, *, admin: BrokerAdmin | None = None) -> tuple[BrokerUser, ...]:
    """Delete every service's broker user of the settings' prefix; returns them."""
    users = broker_users(settings.exchange_prefix)
    (admin or admin_for(settings)).delete([user.name for user in users])
    return users


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no message"
