"""The review's cases, each through the real path: ingress → the hub's worker → the dead-letter consumer →
the dead-letter store → ``renkei dlq show`` and the console's views (and replay, for the bodies).

Each case is what review found stored or shown verbatim: bodies in Shift_JIS, EUC-JP and UTF-16, a spaced
number, a number inside a fixed-width record's digits, a JSON-escaped one, an AMQP header whose key is a
number, an 8 MB body parsed and stored whole, and a message id rewritten because its last group passed the
check digit. The leak check here is the test's own (it knows nothing of the redactor): normalise full-width
digits, JSON escapes, separators and NULs away, and look for the number's twelve digits.

Every number is built here from the check digit; nobody's.
"""

from __future__ import annotations

import json
import logging
import random
import re
import string
import unicodedata
from unittest import mock

import pytest
from typer.testing import CliRunner

from contracts import registry
from contracts.individual_number import check_digit
from contracts.registry import Decoded
from hub.cli import dlq
from hub.console.render import body_view, headers_view
from hub.core.operator.dead_letter_replay import replay_message
from hub.core.runtime import worker as worker_module
from hub.core.runtime.senders import ReplayTarget
from hub.infra.observability.logs import configure_logging
from hub.ports.transport import OutgoingMessage
from tests.unit.test_dlq_fixtures import INQUIRY, FlakyHandler, inquiry, make_env

runner = CliRunner()
WIDE = str.maketrans("0123456789", "０１２３４５６７８９")
REVIEWED_ID = "06fd043e-dbd2-4351-9bd5-538423279290"


def number(seed: int) -> str:
    rng = random.Random(seed)
    base = "".join(rng.choice(string.digits) for _ in range(11))
    return base + str(check_digit(base))


def spaced(digits: str, sep: str = " ") -> str:
    return sep.join((digits[:4], digits[4:8], digits[8:]))


def normalised(text: str) -> str:
    text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"[\s\-‐‑‒–—―−－ー\x00]", "", text)


def leaks(text: str, *digits: str) -> list[str]:
    seen = normalised(text)
    return [d for d in digits if d in seen]


@pytest.fixture
def env(tmp_path):
    env = make_env(tmp_path)
    yield env
    env.hub.close()


def dead_letter_of(env, body: bytes, *, headers=None, message_id="m-review", message_type="garbage"):
    """Publish ``body`` to the hub's ingress and return the one dead letter it became in the store."""
    env.mem.publish(
        [
            OutgoingMessage(
                env.names.ingress_exchange,
                "hub",
                body,
                message_id,
                message_type,
                message_id,
                headers=headers or {},
            )
        ]
    )
    env.run(env.worker({INQUIRY: FlakyHandler(failures=0)}))
    [dead] = env.dead_letters()
    return dead


def shown(env, dead) -> str:
    """Everything an operator sees of ``dead``: ``renkei dlq show`` (table and JSON) and the console."""
    out = []
    for args in (["show", str(dead.id)], ["show", str(dead.id), "--json"]):
        result = runner.invoke(dlq.app, args, obj=env.settings)
        assert result.exit_code == 0, result.output
        out.append(result.stdout)
    out.append(body_view(dead.body).text)
    out.append(json.dumps(headers_view(dead.headers), ensure_ascii=False))
    return "\n".join(out)


def assert_kept_without_numbers(env, dead, encoding: str, *digits: str) -> None:
    stored = dead.body.decode(encoding)
    assert not leaks(stored, *digits), f"the dead-letter store kept a number ({encoding})"
    assert not leaks(shown(env, dead), *digits), "an operator was shown a number"
    target = ReplayTarget(env.names.ingress_exchange, "hub", env.names.ingress_queue)
    replayed = replay_message(dead, replay_id="r", operator="o", target=target).body
    assert not leaks(replayed.decode(encoding), *digits), "replay would publish a number"


@pytest.mark.parametrize("encoding", ["cp932", "shift_jis"])
def test_a_shift_jis_body_is_kept_without_its_numbers(env, encoding):
    a, b = number(1), number(2)
    body = f"特別徴収 個人番号 {a} / {spaced(b.translate(WIDE), '　')} です".encode(encoding)
    dead = dead_letter_of(env, body)
    assert_kept_without_numbers(env, dead, encoding, a, b)
    assert len(dead.body) == len(body), "the body keeps its length and encoding"


def test_an_euc_jp_body_is_kept_without_its_numbers(env):
    a, b = number(3), number(4)
    body = f"個人番号：{a.translate(WIDE)}、{spaced(b, '−')}".encode("euc_jp")
    dead = dead_letter_of(env, body)
    assert_kept_without_numbers(env, dead, "euc_jp", a, b)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_utf16_body_is_kept_without_its_numbers(env, encoding):
    a, b = number(5), number(6)
    body = json.dumps({"note": f"{a} と {b.translate(WIDE)}"}, ensure_ascii=False).encode(encoding)
    dead = dead_letter_of(env, body)
    assert_kept_without_numbers(env, dead, encoding, a, b)


def test_a_spaced_number_is_neither_kept_nor_shown(env):
    a, b = number(7), number(8)
    body = json.dumps({"note": f"番号 {spaced(a)} 又は {spaced(b, '-')}"}).encode()
    dead = dead_letter_of(env, body)
    assert_kept_without_numbers(env, dead, "utf-8", a, b)


def test_a_number_inside_a_fixed_width_record_is_neither_kept_nor_shown(env):
    a = number(9)
    record = f"0120240101{a}19580803"
    name = "  ﾔﾏﾀﾞ ﾀﾛｳ\r\n".encode("cp932")
    body = f"2131010010000{record}".encode("cp932") + name
    dead = dead_letter_of(env, body)
    assert_kept_without_numbers(env, dead, "cp932", a)
    assert len(dead.body) == len(body), "the record keeps its layout"
    assert dead.body.endswith(name)


def test_a_json_escaped_number_is_neither_kept_nor_shown(env):
    a, b = number(10), number(11)
    body = json.dumps({"note": a, "wide": b.translate(WIDE)}, ensure_ascii=True)  # \uff11... for b
    body = body.replace(a, "".join(f"\\u003{d}" for d in a))
    dead = dead_letter_of(env, body.encode())
    assert_kept_without_numbers(env, dead, "utf-8", a, b)
    assert json.loads(dead.body), "the escaped body is still JSON"


def test_a_header_whose_key_is_a_number_is_neither_kept_nor_shown(env):
    a, b = number(12), number(13)
    # Dead-lettered by the hub's worker: its copy keeps renkei's own headers, whatever their names hold.
    dead = dead_letter_of(env, b"not json", headers={f"x-renkei-{a}": "x", "x-renkei-note": spaced(b)})
    assert not leaks(json.dumps(dead.headers, ensure_ascii=False), a, b)
    assert not leaks(shown(env, dead), a, b)


def test_a_header_key_of_a_message_the_broker_dead_lettered_is_neither_kept_nor_shown(env):
    a, b = number(16), number(17)
    # Rejected by a consumer, the broker dead-letters the message with every header it had.
    headers = {
        "x-death": [{"reason": "rejected", "queue": env.names.ingress_queue, "count": 1}],
        a: "x",
        f"{spaced(b)}": 1,
    }
    env.mem.publish(
        [
            OutgoingMessage(
                env.names.dead_letter_exchange,
                "",
                b"{}",
                "m-broker",
                "garbage",
                "m-broker",
                headers,  # type: ignore[arg-type]  # x-death, the broker's own list of tables, faked
            )
        ]
    )
    env.run(env.worker({}))
    [dead] = env.dead_letters()
    assert not leaks(json.dumps(dead.headers, ensure_ascii=False), a, b)
    assert not leaks(shown(env, dead), a, b)


def test_an_8_mb_body_is_dead_lettered_as_too_large_without_being_parsed(env):
    a = number(14)
    big = (f'{{"note": "{a}", "pad": "'.encode() + b"x" * (8 * 1024 * 1024) + b'"}').replace(b"xx", b"x ", 1)
    neighbour = inquiry()
    env.send(neighbour)
    # A type without a limit of its own: 4 MiB (the bulk kinds may be larger).
    env.mem.publish([OutgoingMessage(env.names.ingress_exchange, "hub", big, "m-big", "garbage", "m-big")])
    handler = FlakyHandler(failures=0)
    decoded: list[int] = []
    real_decode = registry.decode  # the worker's own, which the test wraps

    def counting_decode(body: bytes) -> Decoded:
        decoded.append(len(body))
        return real_decode(body)

    with mock.patch.object(worker_module, "decode", counting_decode):
        env.run(env.worker({INQUIRY: handler}))
    assert handler.completed == [str(neighbour.message_id)], "its batch neighbour completes"
    assert max(decoded) < 1024 * 1024, "the large body was never handed to the decoder"
    [dead] = env.dead_letters()
    assert dead.failure.reason_code == "too_large"
    assert f"{len(big):,}" in dead.failure.reason_text
    assert dead.headers["x-renkei-body-size"] == len(big)
    assert len(dead.body) == 64 * 1024, "only its beginning is kept"
    assert not leaks(dead.body.decode("utf-8", "replace"), a)
    assert not leaks(shown(env, dead), a)


def test_the_reviewed_message_id_is_kept_whole_everywhere(env, tmp_path):
    base = REVIEWED_ID.rsplit("-", 1)[1]
    assert check_digit(base[:11]) == int(base[11]), "its last group passes the check digit"
    dead = dead_letter_of(env, b"not json", message_id=REVIEWED_ID)
    assert dead.message_id == REVIEWED_ID
    assert dead.correlation_id == REVIEWED_ID
    out = runner.invoke(dlq.app, ["show", str(dead.id), "--json"], obj=env.settings)
    assert json.loads(out.stdout)["message_id"] == REVIEWED_ID
    assert [r.message_id for r in env.records("dead_lettered")] == [REVIEWED_ID]
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    log_file = tmp_path / "renkei.log"
    try:
        configure_logging(json=True, file=log_file, stderr=False)
        logging.getLogger("hub.core.runtime.worker").warning(
            "dead-lettered", extra={"message_id": REVIEWED_ID}
        )
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
            handler.close()
        for handler in handlers:
            root.addHandler(handler)
        root.setLevel(level)
    assert json.loads(log_file.read_text(encoding="utf-8"))["message_id"] == REVIEWED_ID
