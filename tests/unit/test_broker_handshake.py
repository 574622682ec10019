"""A connection lost during the AMQP handshake is an outage, not refused credentials.

Found by the broker-restart fault test in a clean-clone CI run: the broker was stopped while the pension
adapter was logging in, pika reported the reset as a ``ProbableAuthenticationError`` (it guesses from the
stage at which the stream ended), renkei took it for refused credentials, a permanent error, and the
adapter exited. RabbitMQ refuses a user or a virtual host with a Connection.Close (403, 530), which stays
permanent.
"""

from __future__ import annotations

import pika.exceptions
import pytest

from contracts.errors import BrokerUnavailable, ConfigurationError
from hub.infra.broker._io import translate

LOST = (
    "StreamLostError: (\"Stream connection lost: ConnectionResetError(104, 'Connection reset by peer')\",)",
    "StreamLostError: ('Transport indicated EOF',)",
)


@pytest.mark.parametrize("cause", LOST)
@pytest.mark.parametrize(
    "error", [pika.exceptions.ProbableAuthenticationError, pika.exceptions.ProbableAccessDeniedError]
)
def test_a_stream_lost_mid_handshake_is_an_outage(error: type[Exception], cause: str) -> None:
    translated = translate(error(cause), "connecting")
    assert isinstance(translated, BrokerUnavailable), translated
    assert "lost during the handshake" in str(translated)


@pytest.mark.parametrize(
    ("code", "text"), [(403, "ACCESS_REFUSED - Login was refused"), (530, "NOT_ALLOWED")]
)
def test_a_refusal_by_the_broker_stays_a_configuration_error(code: int, text: str) -> None:
    assert isinstance(
        translate(pika.exceptions.ConnectionClosedByBroker(code, text), "connecting"), ConfigurationError
    )


def test_a_handshake_error_without_a_lost_stream_is_still_taken_for_a_refusal() -> None:
    translated = translate(
        pika.exceptions.ProbableAuthenticationError("ConnectionClosed: (320, 'x')"), "connecting"
    )
    assert isinstance(translated, ConfigurationError)
