"""``amqps://`` URLs with ``ssl_options``: what pika makes of them, without connecting anywhere.

pika reads the ``ssl_options`` query argument as a Python literal dict (``ast.literal_eval``): ``ca_certs``
(a file) or ``cadata`` (PEM text) for the CA, optionally ``certfile``/``keyfile`` for a client certificate
and ``server_hostname``. It builds a verifying ``SSLContext`` from it. The CA here is made in memory, so
the test touches no file and no network.
"""

from __future__ import annotations

import datetime as dt
import ssl
from urllib.parse import quote

import pika
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from contracts.errors import ConfigurationError
from hub.infra.broker._io import connection_parameters
from hub.infra.broker.transport import PikaTransport


def self_signed_ca_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "renkei test CA")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def amqps_url(options: dict[str, str]) -> str:
    return "amqps://renkei-hub:pw@broker.example:5671/renkei?ssl_options=" + quote(repr(options), safe="")


def test_pika_accepts_an_amqps_url_with_ssl_options() -> None:
    params = pika.URLParameters(amqps_url({"cadata": self_signed_ca_pem(), "server_hostname": "mq.internal"}))

    assert params.ssl_options is not None
    assert params.ssl_options.server_hostname == "mq.internal"
    context = params.ssl_options.context
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname
    assert len(context.get_ca_certs()) == 1
    assert (params.host, params.port, params.virtual_host) == ("broker.example", 5671, "renkei")


def test_renkei_keeps_the_tls_options_and_builds_a_transport_without_connecting() -> None:
    url = amqps_url({"cadata": self_signed_ca_pem()})

    params = connection_parameters(url, "renkei-test")
    assert params.ssl_options is not None
    assert params.ssl_options.context.verify_mode is ssl.CERT_REQUIRED
    assert params.client_properties == {"connection_name": "renkei-test", "product": "renkei"}
    PikaTransport(url, connection_name="renkei-test").close()  # parses the URL; opens nothing


def test_amqps_without_ssl_options_verifies_against_the_system_cas() -> None:
    params = pika.URLParameters("amqps://renkei-hub:pw@broker.example/renkei")

    assert params.ssl_options is not None
    assert params.ssl_options.context.verify_mode is ssl.CERT_REQUIRED
    assert params.port == 5671


def test_plain_amqp_has_no_tls() -> None:
    assert pika.URLParameters("amqp://guest:guest@127.0.0.1:5672/%2F").ssl_options is None


def test_ssl_options_without_a_ca_are_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="invalid AMQP URL"):
        connection_parameters(amqps_url({"server_hostname": "mq.internal"}), "renkei-test")
