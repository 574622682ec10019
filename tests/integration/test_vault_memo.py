"""The memoising vault: a batch's look-ups answered from memory, never stale after a write or a rollback."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Engine, update

from contracts.individual_number import IndividualNumber, synthetic_individual_number
from contracts.usage_number import UsageNumber
from hub.infra.audit.sql import ChainWriter, SqlAuditLog
from hub.infra.db.tables.vault import subjects
from hub.infra.db.uow import SqlUnitOfWorkFactory
from hub.infra.keys.keyring import Keyring
from hub.infra.vault.memo import MemoisingVault
from hub.ports.vault import AUDIT_SCOPE, Retention, TokenScope
from tests import vault_fixtures as fx
from tests.vault_fixtures import StatementCounter

count_statements = fx.count_statements
keyring = fx.keyring
people = fx.people
sqlite_engine = fx.sqlite_engine

PENSION = Retention("pension.entitlement")
REF = TokenScope("jlis.ref")
People = Callable[[int], list[tuple[UsageNumber, IndividualNumber]]]


def factory(engine: Engine, keys: Keyring) -> SqlUnitOfWorkFactory:
    chain = ChainWriter("memo test")
    return SqlUnitOfWorkFactory(
        engine, lambda conn: MemoisingVault(conn, keys.vault), lambda conn: SqlAuditLog(conn, chain)
    )


def test_what_a_batch_looked_up_is_answered_without_a_statement(
    sqlite_engine: Engine, keyring: Keyring, people: People, count_statements
) -> None:
    links = people(20)
    uows = factory(sqlite_engine, keyring)
    with uows() as uow:
        uow.vault.enrol(links, retention=PENSION, source="test")
        uow.commit()
    counter: StatementCounter = count_statements(sqlite_engine)
    with uows() as uow:
        vault = uow.vault
        subjects = vault.subjects_by_usage([u for u, _ in links])  # the batch, at once
        numbers = vault.numbers_of(list(subjects.values()))
        refs = vault.tokens(REF, list(subjects.values()))
        counter.reset()
        for usage, number in links:  # then each message alone
            subject = vault.subjects_by_usage([usage])[usage]
            assert vault.numbers_of([subject]) == {subject: number}
            assert vault.tokens(REF, [subject]) == {subject: refs[subject]}
            assert vault.subjects_of_tokens(REF, [refs[subject]]) == {refs[subject]: subject}
        assert counter.count == len(links)  # the reverse look-ups only, one each: never asked before
        assert numbers == {subjects[u]: n for u, n in links}
        uow.commit()


def test_unknown_people_are_remembered_as_unknown_and_found_once_enrolled(
    sqlite_engine: Engine, keyring: Keyring, people: People
) -> None:
    ((usage, number),) = people(1)
    with factory(sqlite_engine, keyring)() as uow:
        assert uow.vault.subjects_by_usage([usage]) == {}
        uow.vault.enrol([(usage, number)], retention=PENSION, source="test")
        subject = uow.vault.subjects_by_usage([usage])[usage]
        assert uow.vault.numbers_of([subject]) == {subject: number}
        uow.commit()


def test_a_relinked_number_is_read_anew(sqlite_engine: Engine, keyring: Keyring, people: People) -> None:
    ((usage, number),) = people(1)
    with factory(sqlite_engine, keyring)() as uow:
        subject = uow.vault.enrol([(usage, number)], retention=PENSION, source="test")[usage]
        assert uow.vault.numbers_of([subject]) == {subject: number}
        new = synthetic_individual_number()
        while new == number:
            new = synthetic_individual_number()
        uow.vault.link_number(subject, new, retention=PENSION, source="test")
        assert uow.vault.numbers_of([subject]) == {subject: new}
        uow.commit()


def test_a_token_recorded_in_a_rolled_back_savepoint_is_recorded_again(
    sqlite_engine: Engine, keyring: Keyring, people: People
) -> None:
    ((usage, number),) = people(1)
    uows = factory(sqlite_engine, keyring)
    with uows() as uow:
        subject = uow.vault.enrol([(usage, number)], retention=PENSION, source="test")[usage]
        uow.commit()
    with uows() as uow:
        try:
            with uow.savepoint():
                token = uow.vault.tokens(REF, [subject])[subject]
                raise RuntimeError("the handler failed after tokenising")
        except RuntimeError:
            pass
        assert uow.vault.tokens(REF, [subject]) == {subject: token}  # recorded again, not taken from memory
        uow.commit()
    with uows() as uow:
        assert uow.vault.subjects_of_tokens(REF, [token]) == {token: subject}


def test_a_second_scope_asks_no_more_who_is_live_and_an_erased_person_has_no_token(
    sqlite_engine: Engine, keyring: Keyring, people: People, count_statements
) -> None:
    links = people(6)
    uows = factory(sqlite_engine, keyring)
    with uows() as uow:
        enrolled = uow.vault.enrol(links, retention=PENSION, source="test")
        uow.commit()
    erased = enrolled[links[0][0]]
    with sqlite_engine.begin() as conn:  # erased in a transaction of its own, as the retention run does
        conn.execute(update(subjects).where(subjects.c.id == erased).values(erased_at=datetime.now(UTC)))
    everyone = list(enrolled.values())
    counter: StatementCounter = count_statements(sqlite_engine)
    with uows() as uow:
        counter.reset()
        audit = uow.vault.tokens(AUDIT_SCOPE, everyone)
        first = [s for s in counter.statements if "FROM subjects" in s]
        counter.reset()
        refs = uow.vault.tokens(REF, everyone)
        assert [s for s in counter.statements if "FROM subjects" in s] == []  # remembered from the first
        assert len(first) == 1
        assert erased not in audit
        assert erased not in refs
        assert set(refs) == set(audit) == set(everyone) - {erased}
        vault = uow.vault
        assert isinstance(vault, MemoisingVault)
        vault.forget()  # as after a savepoint's rollback
        counter.reset()
        assert uow.vault.tokens(TokenScope("jlis.ref.dependant"), everyone).keys() == refs.keys()
        assert len([s for s in counter.statements if "FROM subjects" in s]) == 1  # forgotten: asked again
        uow.commit()
