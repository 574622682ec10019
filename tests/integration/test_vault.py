"""The vault on SQLite and PostgreSQL: one contract, run against both, each test on a fresh database."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, func, select

from contracts.individual_number import IndividualNumber, synthetic_individual_number
from contracts.redaction import find_numbers
from contracts.usage_number import UsageNumber, UsageNumberKind
from hub.core.rules.retention import dependants_declaration_retention
from hub.infra.crypto.envelope import EncryptedNumber, KeyWrapper, VaultIntegrityError
from hub.infra.db.tables.schema import metadata
from hub.infra.db.tables.vault import deletion_log, numbers, subject_keys, subjects, tokens, usage_numbers
from hub.infra.keys.keyring import Keyring, rotate
from hub.infra.vault.lifecycle import erase_due, retention_due, rewrap_all
from hub.infra.vault.sql import SqlVault
from hub.ports.vault import NumberConflict, Retention, SubjectId, TokenScope, UnknownSubject
from tests import vault_fixtures as fx
from tests.vault_fixtures import StatementCounter

# The fixtures this module uses (bound here, so that pytest finds them).
count_statements = fx.count_statements
keyring = fx.keyring
people = fx.people
pg_url = fx.pg_url
postgres_engine = fx.postgres_engine
sqlite_engine = fx.sqlite_engine

PENSION = Retention("pension.entitlement")
AUDIT = TokenScope("audit")
JLIS = TokenScope("jlis.ref")
People = Callable[[int], list[tuple[UsageNumber, IndividualNumber]]]


def usage(value: str, kind: UsageNumberKind = UsageNumberKind.BASIC_PENSION) -> UsageNumber:
    return UsageNumber(kind=kind, value=value)


def rows(conn: Connection, table: Any) -> int:
    return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def no_number_in(text: str) -> bool:
    return find_numbers(text) == []


class VaultContract:
    """Behaviour every vault backend must show."""

    @pytest.fixture
    def engine(self) -> Engine:
        raise NotImplementedError

    @pytest.fixture
    def tx(self, engine: Engine) -> Callable[[], Any]:
        """A transaction (what the unit of work gives the vault); commits on success."""
        return engine.begin

    # --- enrolment and lookups -----------------------------------------------------------------------------

    def test_enrol_batch_and_every_lookup(self, tx, keyring: Keyring, people: People) -> None:
        links = people(50)
        with tx() as conn:
            enrolled = SqlVault(conn, keyring.vault).enrol(links, retention=PENSION, source="test")
        assert len(set(enrolled.values())) == 50
        with tx() as conn:
            vault = SqlVault(conn, keyring.vault)
            stranger = usage("9999999999")
            assert vault.subjects_by_usage([u for u, _ in links] + [stranger]) == enrolled
            subjects = list(enrolled.values())
            assert vault.usage_of(subjects) == {s: u for u, s in enrolled.items()}
            numbers_of = vault.numbers_of(subjects)
            assert numbers_of == {enrolled[u]: n for u, n in links}
            unknown = synthetic_individual_number()
            found = vault.subjects_by_number([n for _, n in links] + [unknown])
            assert found == {n: enrolled[u] for u, n in links}

    def test_enrolling_again_changes_nothing_and_keeps_the_longer_retention(
        self, tx, keyring: Keyring, people: People
    ) -> None:
        links = people(5)
        with tx() as conn:
            first = SqlVault(conn, keyring.vault).enrol(
                links, retention=Retention("a", date(2030, 1, 10)), source="t"
            )
        with tx() as conn:
            vault = SqlVault(conn, keyring.vault)
            again = vault.enrol(links, retention=Retention("b", date(2031, 1, 10)), source="t")
            shorter = vault.enrol(links[:1], retention=Retention("c", date(2029, 1, 10)), source="t")
            assert rows(conn, subjects) == 5
            assert rows(conn, numbers) == 5
            assert rows(conn, usage_numbers) == 5
            history = vault.number_history([first[links[0][0]]])
        assert again == first
        assert shorter == {links[0][0]: first[links[0][0]]}
        assert [r.retention for r in history[first[links[0][0]]]] == [Retention("b", date(2031, 1, 10))]

    def test_a_new_usage_number_joins_the_subject_of_its_number(
        self, tx, keyring: Keyring, people: People
    ) -> None:
        [(pension, number)] = people(1)
        dependant = usage("DEP-0001", UsageNumberKind.DEPENDANT)
        with tx() as conn:
            vault = SqlVault(conn, keyring.vault)
            subject = vault.enrol([(pension, number)], retention=PENSION, source="t")[pension]
            joined = vault.enrol(
                [(dependant, number)],
                retention=dependants_declaration_retention(date(2025, 1, 1)),
                source="t",
            )
            assert joined == {dependant: subject}
            assert vault.usage_of([subject]) == {
                subject: pension
            }  # the basic pension number outranks a dependant key
            assert {r.usage for r in vault.usage_history([subject])[subject]} == {pension, dependant}

    def test_links_in_one_batch_that_share_a_new_number_share_a_subject(self, tx, keyring: Keyring) -> None:
        number = synthetic_individual_number()
        a, b = usage("0000000001"), usage("CERT-1", UsageNumberKind.PENSION_CERTIFICATE)
        with tx() as conn:
            enrolled = SqlVault(conn, keyring.vault).enrol(
                [(a, number), (b, number)], retention=PENSION, source="t"
            )
            assert enrolled[a] == enrolled[b]
            assert rows(conn, numbers) == 1

    def test_enrol_without_a_number_then_link_one(self, tx, keyring: Keyring) -> None:
        u, number = usage("0000000001"), synthetic_individual_number()
        with tx() as conn:
            vault = SqlVault(conn, keyring.vault)
            subject = vault.enrol([(u, None)], retention=PENSION, source="t")[u]
            assert vault.numbers_of([subject]) == {}
            assert vault.enrol([(u, number)], retention=PENSION, source="t") == {u: subject}
            assert vault.numbers_of([subject]) == {subject: number}

    def test_conflicting_links_are_refused_before_anything_is_written(
        self, tx, keyring: Keyring, people: People
    ) -> None:
        (u1, n1), (u2, n2), (u3, _) = people(3)
        with tx() as conn:
            SqlVault(conn, keyring.vault).enrol([(u1, n1), (u2, n2)], retention=PENSION, source="t")
        bad_batches = [
            [(u3, synthetic_individual_number()), (u1, n2)],  # a known usage number with another's number
            [(u3, synthetic_individual_number()), (u1, synthetic_individual_number())],  # a silent change
            [(u3, synthetic_individual_number()), (u3, synthetic_individual_number())],  # two numbers at once
        ]
        for batch in bad_batches:
            with tx() as conn:
                vault = SqlVault(conn, keyring.vault)
                with pytest.raises(NumberConflict) as caught:
                    vault.enrol(batch, retention=PENSION, source="t")
                assert rows(conn, subjects) == 2
                assert rows(conn, numbers) == 2
                assert rows(conn, usage_numbers) == 2
            assert caught.value.usage
            assert no_number_in(str(caught.value))

    def test_no_column_holds_a_number_in_the_clear(
        self, tx, engine: Engine, keyring: Keyring, people: People
    ) -> None:
        links = people(20)
        with tx() as conn:
            vault = SqlVault(conn, keyring.vault)
            enrolled = vault.enrol(links, retention=PENSION, source="t")
            vault.tokens(AUDIT, list(enrolled.values()))
        digits = [n.reveal() for _, n in links]
        unkeyed = {hashlib.sha256(d.encode()).digest() for d in digits}
        with engine.connect() as conn:
            for table in (subjects, subject_keys, numbers, usage_numbers, tokens, deletion_log):
                for row in conn.execute(select(table)):
                    for value in row:
                        raw = bytes(value) if isinstance(value, (bytes, memoryview)) else str(value).encode()
                        assert not any(d.encode() in raw for d in digits), table.name
                        assert raw not in unkeyed, f"{table.name} holds an unkeyed hash"

    # --- keys ----------------------------------------------------------------------------------------------

    def test_kek_rotation_rewraps_without_touching_numbers(
        self, tx, keyring: Keyring, people: People
    ) -> None:
        links = people(30)
        with tx() as conn:
            enrolled = SqlVault(conn, keyring.vault).enrol(links, retention=PENSION, source="t")
            before = {r.id: (bytes(r.nonce), bytes(r.ciphertext)) for r in conn.execute(select(numbers))}
        rotated = rotate(keyring)
        with tx() as conn:
            assert rewrap_all(conn, rotated.vault, chunk_size=7) == 30
            assert rewrap_all(conn, rotated.vault) == 0
        with tx() as conn:
            after = {r.id: (bytes(r.nonce), bytes(r.ciphertext)) for r in conn.execute(select(numbers))}
            assert after == before  # no number was decrypted or rewritten
            assert set(conn.execute(select(subject_keys.c.kek_id)).scalars()) == {rotated.kek.current.key_id}
            vault = SqlVault(conn, rotated.vault)
            assert vault.subjects_by_number([n for _, n in links]) == {n: enrolled[u] for u, n in links}
            assert vault.numbers_of(list(enrolled.values())) == {enrolled[u]: n for u, n in links}
            new = people(1)
            vault.enrol(new, retention=PENSION, source="t")  # written under the new KEK, readable too
            assert vault.subjects_by_number([new[0][1]])

    def test_blind_index_rotation_keeps_earlier_rows_findable(
        self, tx, keyring: Keyring, people: People
    ) -> None:
        old, new = people(10), people(10)[5:]
        with tx() as conn:
            SqlVault(conn, keyring.vault).enrol(old[:5], retention=PENSION, source="t")
        rotated = rotate(keyring, kek=False, blind_index=True)
        with tx() as conn:
            vault = SqlVault(conn, rotated.vault)
            vault.enrol(new, retention=PENSION, source="t")
            assert set(conn.execute(select(numbers.c.bix_version)).scalars()) == {1, 2}
            assert len(vault.subjects_by_number([n for _, n in old[:5] + new])) == 10
            # A number already indexed under version 1 is found, not enrolled twice.
            assert vault.enrol(old[:1], retention=PENSION, source="t")
            assert rows(conn, numbers) == 10

    # --- number changes and usage numbers ------------------------------------------------------------------

    def test_a_number_change_keeps_the_history(self, tx, keyring: Keyring, people: People) -> None:
        [(u, old)], new = people(1), synthetic_individual_number()
        with tx() as conn:
            subject = SqlVault(conn, keyring.vault).enrol([(u, old)], retention=PENSION, source="t")[u]
        with tx() as conn:
            vault = SqlVault(conn, keyring.vault)
            vault.link_number(subject, new, retention=PENSION, source="jlis:cycle")
            assert vault.numbers_of([subject]) == {subject: new}
            history = vault.number_history([subject])[subject]
            assert [(r.number, r.is_current) for r in history] == [(old, False), (new, True)]
            assert history[0].valid_to is not None
            assert history[1].valid_to is None
            assert history[1].source == "jlis:cycle"
            assert vault.subjects_by_number([old, new]) == {old: subject, new: subject}
            vault.link_number(subject, new, retention=PENSION, source="again")  # idempotent
            assert len(vault.number_history([subject])[subject]) == 2

    def test_linking_refuses_another_subjects_number_and_unknown_subjects(
        self, tx, keyring: Keyring, people: People
    ) -> None:
        (u1, n1), (u2, n2) = people(2)
        with tx() as conn:
            enrolled = SqlVault(conn, keyring.vault).enrol(
                [(u1, n1), (u2, n2)], retention=PENSION, source="t"
            )
        with tx() as conn:
            vault = SqlVault(conn, keyring.vault)
            with pytest.raises(NumberConflict) as caught:
                vault.link_numbers([(enrolled[u1], n2)], retention=PENSION, source="t")
            assert caught.value.subjects == (enrolled[u1],)
            with pytest.raises(UnknownSubject):
                vault.link_number(
                    SubjectId("0" * 32), synthetic_individual_number(), retention=PENSION, source="t"
                )
            assert vault.numbers_of([enrolled[u1]]) == {enrolled[u1]: n1}

    def test_usage_numbers_are_added_retired_and_kept_as_history(
        self, tx, keyring: Keyring, people: People
    ) -> None:
        (u1, n1), (u2, n2) = people(2)
        cert = usage("CERT-9", UsageNumberKind.PENSION_CERTIFICATE)
        with tx() as conn:
            vault = SqlVault(conn, keyring.vault)
            enrolled = vault.enrol([(u1, n1), (u2, n2)], retention=PENSION, source="t")
            s1, s2 = enrolled[u1], enrolled[u2]
            vault.add_usage_numbers([(s1, cert)])
            assert vault.usage_of([s1]) == {s1: cert}
            with pytest.raises(NumberConflict):
                vault.add_usage_numbers([(s2, cert)])
            vault.retire_usage_numbers([cert])
            assert vault.subjects_by_usage([cert]) == {}
            assert vault.usage_of([s1]) == {s1: u1}
            history = vault.usage_history([s1])[s1]
            assert [(r.usage, r.valid_to is None) for r in history] == [(u1, True), (cert, False)]
            vault.add_usage_numbers([(s2, cert)])  # retired, so free for someone else
            assert vault.subjects_by_usage([cert]) == {cert: s2}

    # --- tokens --------------------------------------------------------------------------------------------

    def test_tokens_are_deterministic_reversible_and_unlinkable_across_scopes(
        self, tx, keyring: Keyring, people: People
    ) -> None:
        with tx() as conn:
            subjects_ = list(
                SqlVault(conn, keyring.vault).enrol(people(40), retention=PENSION, source="t").values()
            )
        with tx() as conn:
            vault = SqlVault(conn, keyring.vault)
            audit, jlis = vault.tokens(AUDIT, subjects_), vault.tokens(JLIS, subjects_)
        with tx() as conn:
            vault = SqlVault(conn, keyring.vault)
            assert vault.tokens(AUDIT, subjects_) == audit  # same token, another transaction
            assert dict(vault.subjects_of_tokens(AUDIT, list(audit.values()))) == {
                t: s for s, t in audit.items()
            }
            assert vault.subjects_of_tokens(JLIS, list(audit.values())) == {}  # wrong scope: nothing
            assert vault.subjects_of_tokens(AUDIT, ["tk1abcd_" + "a" * 28, "nonsense"]) == {}
            assert rows(conn, tokens) == 80
        bodies = {t.split("_")[1] for t in audit.values()}
        assert not bodies & {t.split("_")[1] for t in jlis.values()}
        assert all(audit[s] != jlis[s] for s in subjects_)

    def test_token_root_rotation_issues_new_tokens_and_resolves_old_ones(
        self, tx, keyring: Keyring, people: People
    ) -> None:
        with tx() as conn:
            vault = SqlVault(conn, keyring.vault)
            subjects_ = list(vault.enrol(people(5), retention=PENSION, source="t").values())
            old = vault.tokens(AUDIT, subjects_)
        rotated = rotate(keyring, kek=False, token_root=True)
        with tx() as conn:
            vault = SqlVault(conn, rotated.vault)
            new = vault.tokens(AUDIT, subjects_)
            assert all(new[s] != old[s] and new[s].startswith("tk2") for s in subjects_)
            resolved = vault.subjects_of_tokens(AUDIT, list(old.values()) + list(new.values()))
            assert len(resolved) == 10
            assert set(resolved.values()) == set(subjects_)

    # --- retention and erasure -----------------------------------------------------------------------------

    def test_erasure_crypto_shreds_what_is_due(self, tx, keyring: Keyring, people: People) -> None:
        due, kept = people(6)[:3], people(6)[3:]
        retention = dependants_declaration_retention(date(2024, 12, 1))  # kept until 2032-01-10
        with tx() as conn:
            vault = SqlVault(conn, keyring.vault)
            gone = vault.enrol(due, retention=retention, source="扶養親族等申告書")
            stay = vault.enrol(kept, retention=PENSION, source="t")
            vault.tokens(AUDIT, list(gone.values()) + list(stay.values()))
        with tx() as conn:
            assert retention_due(conn, date(2032, 1, 10)) == []  # the last day it may be kept
            assert erase_due(conn, keyring.vault, date(2032, 1, 10), actor="test").subjects == ()
            planned = erase_due(conn, keyring.vault, date(2032, 1, 11), dry_run=True, actor="test")
            assert planned.subjects_erased == 3
            assert rows(conn, subject_keys) == 6  # a dry run writes nothing
        with tx() as conn:
            report = erase_due(conn, keyring.vault, date(2032, 1, 11), actor="retention-test")
        assert (report.subjects_erased, report.subjects_rekeyed, report.numbers_erased) == (3, 0, 3)
        erased = list(gone.values())
        with tx() as conn:
            vault = SqlVault(conn, keyring.vault)
            assert rows(conn, subject_keys) == 3
            assert rows(conn, numbers) == 3
            assert rows(conn, tokens) == 3
            assert vault.numbers_of(erased) == {}
            assert vault.subjects_by_number([n for _, n in due]) == {}
            assert vault.subjects_by_usage(list(gone)) == {}
            assert vault.tokens(AUDIT, erased) == {}
            # The subject id, from which the tokens derive, is gone from every table: the deletion log names
            # each erased person by a fresh reference instead, one entry per person and kind.
            assert conn.execute(select(subjects.c.id).where(subjects.c.id.in_(erased))).all() == []
            log = conn.execute(select(deletion_log)).all()
            assert {r.subject_id for r in log} == {None}
            refs = {r.person_ref for r in log}
            assert len(refs) == 3
            assert all(ref.startswith("erasure-") for ref in refs)
            assert sorted((r.kind, r.method, r.basis, r.actor) for r in log) == sorted(
                [
                    (
                        "vault.tax_dependants_declaration",
                        "crypto_shred",
                        "tax.dependants_declaration",
                        "retention-test",
                    )
                ]
                * 3
                + [("vault.person", "deleted", "tax.dependants_declaration", "retention-test")] * 3
            )
            assert {r.what for r in log if r.kind == "vault.person"} == {
                "subjects=1; tokens=1; usage_numbers=1"
            }
            for table in metadata.sorted_tables:
                for row in conn.execute(select(table)):
                    assert not any(s in str(v) for v in row for s in erased), f"{table.name} names one"
            assert vault.numbers_of(list(stay.values())) == {stay[u]: n for u, n in kept}
        with tx() as conn:
            assert erase_due(conn, keyring.vault, date(2040, 1, 1), actor="t").subjects == ()  # nothing twice
            # The same usage number can be enrolled again: it gets a new subject.
            assert set(
                SqlVault(conn, keyring.vault).enrol(due[:1], retention=PENSION, source="t").values()
            ).isdisjoint(erased)

    def test_partial_erasure_rekeys_so_the_erased_ciphertext_cannot_be_read(
        self, tx, keyring: Keyring, people: People
    ) -> None:
        [(u, old)], new = people(1), synthetic_individual_number()
        with tx() as conn:
            vault = SqlVault(conn, keyring.vault)
            subject = vault.enrol([(u, old)], retention=Retention("x", date(2020, 1, 1)), source="t")[u]
            vault.link_number(subject, new, retention=PENSION, source="t")
            copy = conn.execute(
                select(numbers).where(~numbers.c.is_current)
            ).one()  # a "backup" of the old row
        with tx() as conn:
            report = erase_due(conn, keyring.vault, date(2020, 1, 2), actor="t")
            assert (report.subjects_erased, report.subjects_rekeyed, report.numbers_erased) == (0, 1, 1)
        with tx() as conn:
            vault = SqlVault(conn, keyring.vault)
            assert vault.numbers_of([subject]) == {subject: new}
            assert [r.number for r in vault.number_history([subject])[subject]] == [new]
            key_row = conn.execute(select(subject_keys)).one()
            assert key_row.dek_version == 2
            key = KeyWrapper(keyring.kek).unwrap(subject, 2, bytes(key_row.wrapped_dek), key_row.kek_id)
            with pytest.raises(VaultIntegrityError):
                key.decrypt(EncryptedNumber(bytes(copy.nonce), bytes(copy.ciphertext)))
            [entry] = conn.execute(select(deletion_log)).all()
            assert entry.method == "crypto_shred_rekeyed"
            assert entry.basis == "x"
            assert (entry.subject_id, entry.person_ref, entry.kind) == (subject, None, "vault.other_basis")
            assert conn.execute(select(subjects.c.erased_at)).scalar_one() is None

    def test_set_retention_replaces_the_current_numbers_retention(
        self, tx, keyring: Keyring, people: People
    ) -> None:
        [(u, n)] = people(1)
        with tx() as conn:
            vault = SqlVault(conn, keyring.vault)
            subject = vault.enrol([(u, n)], retention=PENSION, source="t")[u]
            vault.set_retention([subject], Retention("pension.ended", date(2026, 3, 31)))
            assert [d.subject_id for d in retention_due(conn, date(2026, 4, 1))] == [subject]

    # --- chunking ------------------------------------------------------------------------------------------

    def test_bulk_operations_use_a_bounded_number_of_statements(
        self,
        tx,
        engine: Engine,
        keyring: Keyring,
        people: People,
        count_statements: Callable[[Engine], StatementCounter],
    ) -> None:
        links = people(2_000)  # four chunks of 500
        counter = count_statements(engine)
        rotated = rotate(keyring)
        past = Retention("x", date(2020, 1, 1))

        def statements(step: Callable[[Connection], Any]) -> int:
            counter.reset()
            with tx() as conn:
                step(conn)
            return counter.count

        def vault(conn: Connection) -> SqlVault:
            return SqlVault(conn, keyring.vault)

        enrolled: dict[UsageNumber, SubjectId] = {}
        assert statements(lambda c: enrolled.update(vault(c).enrol(links, retention=past, source="t"))) <= 40
        subjects_ = list(enrolled.values())
        numbers_ = [n for _, n in links]
        assert statements(lambda c: vault(c).subjects_by_usage([u for u, _ in links])) <= 10
        assert statements(lambda c: vault(c).subjects_by_number(numbers_)) <= 10
        assert statements(lambda c: vault(c).numbers_of(subjects_)) <= 10
        assert statements(lambda c: vault(c).usage_of(subjects_)) <= 10
        assert statements(lambda c: vault(c).tokens(AUDIT, subjects_)) <= 20
        assert statements(lambda c: vault(c).tokens(AUDIT, subjects_)) <= 20  # recorded already: selects only
        changes = [(s, synthetic_individual_number()) for s in subjects_]
        assert statements(lambda c: vault(c).link_numbers(changes, retention=past, source="t")) <= 40
        assert statements(lambda c: rewrap_all(c, rotated.vault)) <= 20
        # Per chunk of 500: the due rows, the traces (blind indexes, usage numbers, codes, tokens, access
        # records), one delete per subject table, the subjects and the log entries moved; never per person.
        assert statements(lambda c: erase_due(c, rotated.vault, date(2021, 1, 1), actor="t")) <= 100
        with tx() as conn:
            assert rows(conn, numbers) == 0
            assert rows(conn, deletion_log) == 4_000  # per person: the numbers' kind, and the person


class TestSqliteVault(VaultContract):
    @pytest.fixture
    def engine(self, sqlite_engine: Engine) -> Engine:
        return sqlite_engine


@pytest.mark.postgres
class TestPostgresVault(VaultContract):
    @pytest.fixture
    def engine(self, postgres_engine: Engine) -> Engine:
        return postgres_engine
