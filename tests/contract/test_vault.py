"""One contract for every Vault: the SQL vault (SQLite, PostgreSQL) and its in-memory twin behave alike.

``VaultContract`` holds the tests; each subclass supplies ``vault``, bound to one unit of work's worth of
state (a rolled-back transaction for SQL). What only the SQL vault can show (no number in the clear in any
column, key rotation, crypto-shredding, statement counts) stays in ``tests/integration/test_vault.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import Connection

from contracts.individual_number import IndividualNumber, synthetic_individual_number
from contracts.redaction import find_numbers
from contracts.usage_number import UsageNumber, UsageNumberKind
from hub.core.rules.retention import dependants_declaration_retention
from hub.infra.crypto.tokens import Tokenizer
from hub.infra.keys.keyring import Keyring
from hub.infra.memory.vault import InMemoryVault
from hub.infra.vault.sql import SqlVault
from hub.ports.vault import Ground, NumberConflict, Retention, SubjectId, TokenScope, UnknownSubject, Vault
from tests import vault_fixtures as fx

keyring = fx.keyring
people = fx.people

PENSION = Retention("pension.entitlement")
AUDIT = TokenScope("audit")
JLIS = TokenScope("jlis.ref")
People = Callable[[int], list[tuple[UsageNumber, IndividualNumber]]]


def usage(value: str, kind: UsageNumberKind = UsageNumberKind.BASIC_PENSION) -> UsageNumber:
    return UsageNumber(kind=kind, value=value)


class VaultContract:
    """Behaviour every vault shows. Subclasses provide ``vault``."""

    @pytest.fixture
    def vault(self, keyring: Keyring) -> Vault:
        raise NotImplementedError

    def test_enrol_a_batch_and_find_it_by_every_key(self, vault: Vault, people: People) -> None:
        links = people(5)
        enrolled = vault.enrol(links, retention=PENSION, source="t")
        assert len(set(enrolled.values())) == 5
        subjects = list(enrolled.values())
        assert vault.subjects_by_usage([u for u, _ in links] + [usage("9999999999")]) == enrolled
        assert vault.usage_of(subjects) == {s: u for u, s in enrolled.items()}
        assert vault.numbers_of(subjects) == {enrolled[u]: n for u, n in links}
        stranger = synthetic_individual_number()
        assert vault.subjects_by_number([n for _, n in links] + [stranger]) == {
            n: enrolled[u] for u, n in links
        }

    def test_enrolling_again_changes_nothing_and_keeps_the_longer_retention(
        self, vault: Vault, people: People
    ) -> None:
        links = people(3)
        first = vault.enrol(links, retention=Retention("a", date(2030, 1, 10)), source="t")
        again = vault.enrol(links, retention=Retention("b", date(2031, 1, 10)), source="t")
        shorter = vault.enrol(links[:1], retention=Retention("c", date(2029, 1, 10)), source="t")
        assert again == first
        assert shorter == {links[0][0]: first[links[0][0]]}
        subject = first[links[0][0]]
        history = vault.number_history([subject])[subject]
        assert [(r.number, r.retention) for r in history] == [
            (links[0][1], Retention("b", date(2031, 1, 10)))
        ]
        assert [len(vault.usage_history([s])[s]) for s in first.values()] == [1, 1, 1]

    def test_a_new_usage_number_joins_the_subject_of_its_number(self, vault: Vault, people: People) -> None:
        [(pension, number)] = people(1)
        dependant = usage("DEP-0001", UsageNumberKind.DEPENDANT)
        subject = vault.enrol([(pension, number)], retention=PENSION, source="t")[pension]
        joined = vault.enrol(
            [(dependant, number)], retention=dependants_declaration_retention(date(2025, 1, 1)), source="t"
        )
        assert joined == {dependant: subject}
        assert vault.usage_of([subject]) == {
            subject: pension
        }  # the basic pension number outranks a dependant key
        assert {r.usage for r in vault.usage_history([subject])[subject]} == {pension, dependant}

    def test_links_of_one_batch_that_share_a_new_number_share_a_subject(self, vault: Vault) -> None:
        number = synthetic_individual_number()
        a, b = usage("0000000001"), usage("CERT-1", UsageNumberKind.PENSION_CERTIFICATE)
        enrolled = vault.enrol([(a, number), (b, number)], retention=PENSION, source="t")
        assert enrolled[a] == enrolled[b]
        assert len(vault.number_history([enrolled[a]])[enrolled[a]]) == 1
        assert vault.usage_of([enrolled[a]]) == {enrolled[a]: b}  # the certificate number ranks first

    def test_enrol_without_a_number_then_link_one(self, vault: Vault) -> None:
        u, number = usage("0000000001"), synthetic_individual_number()
        subject = vault.enrol([(u, None)], retention=PENSION, source="t")[u]
        assert vault.numbers_of([subject]) == {}
        assert vault.number_history([subject]) == {}
        assert vault.enrol([(u, number)], retention=PENSION, source="t") == {u: subject}
        assert vault.numbers_of([subject]) == {subject: number}

    def test_conflicting_links_are_refused_before_anything_is_written(
        self, vault: Vault, people: People
    ) -> None:
        (u1, n1), (u2, n2), (u3, _) = people(3)
        enrolled = vault.enrol([(u1, n1), (u2, n2)], retention=PENSION, source="t")
        bad_batches = [
            [(u3, synthetic_individual_number()), (u1, n2)],  # a known usage number with another's number
            [(u3, synthetic_individual_number()), (u1, synthetic_individual_number())],  # a silent change
            [(u3, synthetic_individual_number()), (u3, synthetic_individual_number())],  # two numbers at once
        ]
        for batch in bad_batches:
            with pytest.raises(NumberConflict) as caught:
                vault.enrol(batch, retention=PENSION, source="t")
            assert caught.value.usage
            assert find_numbers(str(caught.value)) == []
            assert vault.subjects_by_usage([u1, u2, u3]) == enrolled
            assert vault.subjects_by_number([n for _, n in batch if n not in (n1, n2)]) == {}
            assert vault.numbers_of(list(enrolled.values())) == {enrolled[u1]: n1, enrolled[u2]: n2}

    def test_a_number_change_keeps_the_history(self, vault: Vault, people: People) -> None:
        [(u, old)], new = people(1), synthetic_individual_number()
        subject = vault.enrol([(u, old)], retention=PENSION, source="t")[u]
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

    def test_an_earlier_number_of_someone_is_never_enrolled_to_a_new_usage_number(
        self, vault: Vault, people: People
    ) -> None:
        [(u, old)] = people(1)
        subject = vault.enrol([(u, old)], retention=PENSION, source="t")[u]
        vault.link_number(subject, synthetic_individual_number(), retention=PENSION, source="t")
        with pytest.raises(NumberConflict):
            vault.enrol([(usage("0000000777"), old)], retention=PENSION, source="t")

    def test_linking_refuses_another_subjects_number_and_unknown_subjects(
        self, vault: Vault, people: People
    ) -> None:
        (u1, n1), (u2, n2) = people(2)
        enrolled = vault.enrol([(u1, n1), (u2, n2)], retention=PENSION, source="t")
        with pytest.raises(NumberConflict) as caught:
            vault.link_numbers([(enrolled[u1], n2)], retention=PENSION, source="t")
        assert caught.value.subjects == (enrolled[u1],)
        stranger = SubjectId("z" * 26)
        with pytest.raises(UnknownSubject) as unknown:
            vault.link_number(stranger, synthetic_individual_number(), retention=PENSION, source="t")
        assert unknown.value.subjects == (stranger,)
        assert vault.numbers_of([enrolled[u1], enrolled[u2]]) == {enrolled[u1]: n1, enrolled[u2]: n2}

    def test_usage_numbers_are_added_retired_and_kept_as_history(self, vault: Vault, people: People) -> None:
        (u1, n1), (u2, n2) = people(2)
        cert = usage("CERT-9", UsageNumberKind.PENSION_CERTIFICATE)
        enrolled = vault.enrol([(u1, n1), (u2, n2)], retention=PENSION, source="t")
        s1, s2 = enrolled[u1], enrolled[u2]
        vault.add_usage_numbers([(s1, cert)])
        vault.add_usage_numbers([(s1, cert)])  # already its own: nothing changes
        assert vault.usage_of([s1]) == {s1: cert}
        with pytest.raises(NumberConflict) as caught:
            vault.add_usage_numbers([(s2, cert)])
        assert caught.value.usage == (cert,)
        with pytest.raises(UnknownSubject):
            vault.add_usage_numbers([(SubjectId("z" * 26), usage("0000000555"))])
        vault.retire_usage_numbers([cert, usage("0000000404")])  # an unknown one is ignored
        assert vault.subjects_by_usage([cert]) == {}
        assert vault.usage_of([s1]) == {s1: u1}
        history = vault.usage_history([s1])[s1]
        assert [(r.usage, r.valid_to is None) for r in history] == [(u1, True), (cert, False)]
        vault.add_usage_numbers([(s2, cert)])  # retired, so free for someone else
        assert vault.subjects_by_usage([cert]) == {cert: s2}

    def test_grounds_are_recorded_once_and_only_for_known_subjects(
        self, vault: Vault, people: People
    ) -> None:
        (u1, n1), (u2, n2) = people(2)
        enrolled = vault.enrol([(u1, n1), (u2, n2)], retention=PENSION, source="t")
        s1, s2 = enrolled[u1], enrolled[u2]
        recipient, dependant = Ground("recipient", "jlis"), Ground("dependant", "declaration")
        vault.add_grounds([(s1, recipient), (s1, recipient), (s1, dependant)], source="t")
        vault.add_grounds([(s1, recipient)], source="again")
        vault.add_grounds([], source="nothing")
        assert vault.grounds_of([s1, s2]) == {s1: frozenset({recipient, dependant})}
        with pytest.raises(UnknownSubject):
            vault.add_grounds([(s2, recipient), (SubjectId("z" * 26), recipient)], source="t")
        assert vault.grounds_of([s2]) == {}

    def test_set_retention_replaces_the_current_numbers_retention_only(
        self, vault: Vault, people: People
    ) -> None:
        [(u, old)] = people(1)
        subject = vault.enrol([(u, old)], retention=PENSION, source="t")[u]
        vault.link_number(subject, synthetic_individual_number(), retention=PENSION, source="t")
        ended = Retention("pension.ended", date(2026, 3, 31))
        vault.set_retention([subject], ended)
        assert [r.retention for r in vault.number_history([subject])[subject]] == [PENSION, ended]

    def test_tokens_are_deterministic_reversible_and_unlinkable_across_scopes(
        self, vault: Vault, people: People
    ) -> None:
        subjects = list(vault.enrol(people(4), retention=PENSION, source="t").values())
        stranger = SubjectId("z" * 26)
        audit = vault.tokens(AUDIT, [*subjects, stranger])
        jlis = vault.tokens(JLIS, subjects)
        assert set(audit) == set(subjects)  # an unknown subject has no token
        assert vault.tokens(AUDIT, subjects) == audit
        assert dict(vault.subjects_of_tokens(AUDIT, list(audit.values()))) == {t: s for s, t in audit.items()}
        assert dict(vault.subjects_of_tokens(JLIS, list(audit.values()))) == {}  # wrong scope: nothing
        assert dict(vault.subjects_of_tokens(AUDIT, ["tk1abcd_" + "a" * 28, "nonsense"])) == {}
        assert all(audit[s] != jlis[s] for s in subjects)
        assert not {t.split("_")[1] for t in audit.values()} & {t.split("_")[1] for t in jlis.values()}


class TestSqlVaultOnSqlite(VaultContract):
    @pytest.fixture
    def vault(self, keyring: Keyring, sqlite_connection: Connection) -> Vault:
        return SqlVault(sqlite_connection, keyring.vault)


@pytest.mark.postgres
class TestSqlVaultOnPostgres(VaultContract):
    @pytest.fixture
    def vault(self, keyring: Keyring, postgres_connection: Connection) -> Vault:
        return SqlVault(postgres_connection, keyring.vault)


class TestInMemoryVault(VaultContract):
    @pytest.fixture
    def vault(self, keyring: Keyring) -> Vault:
        return InMemoryVault(Tokenizer(keyring.vault.token_root))

    def test_erased_subjects_are_unknown(self, vault: Vault, people: People) -> None:
        assert isinstance(vault, InMemoryVault)
        [(u, n)] = people(1)
        subject = vault.enrol([(u, n)], retention=PENSION, source="t")[u]
        vault.erase([subject])
        assert vault.numbers_of([subject]) == {}
        assert vault.tokens(AUDIT, [subject]) == {}
        with pytest.raises(UnknownSubject):
            vault.add_grounds([(subject, Ground("recipient", "jlis"))], source="t")
