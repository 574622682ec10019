"""A small benchmark of the vault: enrol, look up by number and tokenise ``n`` synthetic people.

Run against an empty or scratch database (it migrates it and adds ``n`` subjects)::

    from hub.bench.vault import bench_vault
    print(bench_vault("sqlite:///var/bench.db", 10_000))

Numbers are synthetic (valid check digits, nobody real). Each step runs in its own transaction, as the hub
would run a batch; the rates include the commit.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection

from contracts.individual_number import synthetic_individual_number
from contracts.usage_number import UsageNumber, UsageNumberKind
from hub.infra.db.engine import make_engine
from hub.infra.db.migrate import upgrade
from hub.infra.keys.keyring import Keyring, generate_keyring
from hub.infra.vault.sql import SqlVault
from hub.ports.vault import Retention, TokenScope

__all__ = ["bench_vault"]

T = TypeVar("T")


def bench_vault(url: str, n: int, *, keyring: Keyring | None = None, seed: int = 7) -> dict[str, float]:
    """Enrol ``n`` people, look all of them up by number, tokenise all of them; records per second.

    Args:
        url: SQLAlchemy URL of a scratch database (migrated to the newest schema first).
        n: people per step.
        keyring: the keys (default: a fresh in-memory keyring).
        seed: seed of the synthetic data.

    Returns:
        ``n``, and ``enrol_per_s``, ``lookup_per_s``, ``numbers_of_per_s``, ``tokenise_per_s``.
    """
    keys = keyring or generate_keyring()
    rng = random.Random(seed)
    tag = f"{rng.getrandbits(32):08x}"  # several runs on one database do not collide
    links = [
        (
            UsageNumber(kind=UsageNumberKind.BASIC_PENSION, value=f"b{tag}-{i}"),
            synthetic_individual_number(rng),
        )
        for i in range(n)
    ]
    engine = make_engine(url)
    try:
        upgrade(engine)

        def timed(step: Callable[[SqlVault], T]) -> tuple[T, float]:
            start = time.perf_counter()
            with engine.begin() as conn:
                result = step(_vault(conn, keys))
            return result, time.perf_counter() - start

        subjects, enrol_s = timed(lambda v: v.enrol(links, retention=Retention("bench"), source="bench"))
        _, lookup_s = timed(lambda v: v.subjects_by_number([number for _, number in links]))
        _, numbers_s = timed(lambda v: v.numbers_of(list(subjects.values())))
        _, token_s = timed(lambda v: v.tokens(TokenScope("bench"), list(subjects.values())))
    finally:
        engine.dispose()
    return {
        "n": float(n),
        "enrol_per_s": _rate(n, enrol_s),
        "lookup_per_s": _rate(n, lookup_s),
        "numbers_of_per_s": _rate(n, numbers_s),
        "tokenise_per_s": _rate(n, token_s),
    }


def _vault(conn: Connection, keyring: Keyring) -> SqlVault:
    return SqlVault(conn, keyring.vault)


def _rate(n: int, seconds: float) -> float:
    return round(n / seconds, 1) if seconds > 0 else float("inf")
