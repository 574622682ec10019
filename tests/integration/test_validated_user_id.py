"""RabbitMQ itself refuses a message whose AMQP ``user_id`` is not the connection's user (Validated User-ID).

The hub believes the ``user_id`` a delivery carries because the broker checks it on every publish. These
tests create a uniquely named throwaway user on the shared local broker (allowed only names under a unique
prefix; one for the module, each test with a queue of its own) and delete it afterwards: publishing with
its own user as ``user_id`` is confirmed; naming any other user (the hub's, say) makes the broker close the
channel with ``406 PRECONDITION_FAILED``, and the transport turns that into
:class:`~contracts.errors.SenderNotPermitted`.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote, urlparse

import pika
import pika.exceptions
import pytest

from contracts.errors import SenderNotPermitted
from hub.infra.broker.transport import PikaTransport
from hub.ports.transport import OutgoingMessage

pytestmark = pytest.mark.rabbitmq
CTL_TIMEOUT_S = 60


def ctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["rabbitmqctl", "-q", *args], capture_output=True, text=True, timeout=CTL_TIMEOUT_S, check=False
    )


@dataclass
class Throwaway:
    user: str
    url: str
    queue: str


@dataclass(frozen=True)
class _User:
    name: str
    url: str
    prefix: str


@pytest.fixture(scope="module")
def _throwaway_user(amqp_url: str) -> Iterator[_User]:
    """One throwaway user for the module (each ``rabbitmqctl`` call starts an Erlang VM); each test has its
    own queue under the user's prefix (:func:`throwaway`)."""
    parts = urlparse(amqp_url)
    if shutil.which("rabbitmqctl") is None or parts.hostname not in {"127.0.0.1", "localhost"}:
        pytest.skip("creating a broker user needs rabbitmqctl on the broker's own machine")
    prefix = f"t{uuid.uuid4().hex[:8]}"
    # rabbitmqctl takes an argument starting with "-" for an option: the password must not start with one.
    user, password = f"renkei-test-uid-{prefix}", secrets.token_hex(18)
    vhost = parts.path[1:] or "/"
    vhost = "/" if vhost == "%2F" else vhost
    try:
        assert ctl("add_user", user, password).returncode == 0
        # Only its own names: queues under the prefix, and publishing to the default exchange.
        own = rf"^{prefix}\..*$"
        assert (
            ctl("set_permissions", "-p", vhost, user, own, rf"{own[:-1]}|^amq\.default$", own).returncode == 0
        )
        host = f"{parts.hostname}:{parts.port or 5672}"
        url = f"amqp://{quote(user, safe='')}:{quote(password, safe='')}@{host}/{quote(vhost, safe='')}"
        yield _User(user, url, prefix)
    finally:
        ctl("delete_user", user)


@pytest.fixture
def throwaway(amqp_url: str, _throwaway_user: _User) -> Iterator[Throwaway]:
    """The module's throwaway user, and a fresh queue of this test's own that only it may use."""
    queue = f"{_throwaway_user.prefix}.q{uuid.uuid4().hex[:8]}"
    connection = pika.BlockingConnection(pika.URLParameters(_throwaway_user.url))
    try:
        connection.channel().queue_declare(queue, auto_delete=False, durable=False)
    finally:
        connection.close()
    try:
        yield Throwaway(_throwaway_user.name, _throwaway_user.url, queue)
    finally:
        cleanup = pika.BlockingConnection(pika.URLParameters(amqp_url))
        try:
            cleanup.channel().queue_delete(queue)
        finally:
            cleanup.close()


def publish_raw(url: str, queue: str, user_id: str) -> None:
    """Publish one message with ``user_id`` on a confirm channel, bypassing renkei's own check."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        channel.basic_publish(
            "",
            queue,
            b"{}",
            pika.BasicProperties(user_id=user_id, message_id=str(uuid.uuid4())),
            mandatory=True,
        )
    finally:
        if connection.is_open:
            connection.close()


def depth(url: str, queue: str) -> int:
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        ready = connection.channel().queue_declare(queue, passive=True).method.message_count
        assert ready is not None, "Queue.DeclareOk carries the message count"
        return ready
    finally:
        connection.close()


def test_the_broker_confirms_a_message_naming_the_connections_own_user(throwaway: Throwaway) -> None:
    publish_raw(throwaway.url, throwaway.queue, throwaway.user)
    assert depth(throwaway.url, throwaway.queue) == 1


@pytest.mark.parametrize("claimed", ["renkei-hub", "guest"])
def test_the_broker_refuses_a_message_naming_another_user(throwaway: Throwaway, claimed: str) -> None:
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as refused:
        publish_raw(throwaway.url, throwaway.queue, claimed)

    assert refused.value.reply_code == 406  # PRECONDITION_FAILED
    assert "user_id" in refused.value.reply_text
    assert depth(throwaway.url, throwaway.queue) == 0  # nothing got through


def test_the_transport_stamps_its_user_and_reports_the_brokers_refusal_as_sender_not_permitted(
    throwaway: Throwaway,
) -> None:
    honest = PikaTransport(throwaway.url, connection_name=f"renkei-test:{__name__}", publish_retry_s=1)
    # A transport told it is someone else (a misconfiguration, or a forgery attempt) reaches the broker with
    # that user_id, and the broker says no.
    liar = PikaTransport(
        throwaway.url, connection_name=f"renkei-test:{__name__}:liar", publish_retry_s=1, user="renkei-hub"
    )
    message = OutgoingMessage("", throwaway.queue, b"{}", str(uuid.uuid4()), "test.uid", str(uuid.uuid4()))
    try:
        assert honest.user == throwaway.user
        honest.publish([message])
        with pytest.raises(SenderNotPermitted, match="user_id"):
            liar.publish([message])
    finally:
        honest.close()
        liar.close()
    assert depth(throwaway.url, throwaway.queue) == 1  # the honest one only
