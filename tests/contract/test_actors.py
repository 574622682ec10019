"""One contract for every MessageActors: the SQL store (SQLite, PostgreSQL) and its in-memory twin."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection

from hub.infra.memory.actors import InMemoryMessageActors
from hub.infra.stores.actors import SqlMessageActors
from hub.ports.actors import MessageActor, MessageActors


class MessageActorsContract:
    """Behaviour every actor store shows. Subclasses provide ``actors``."""

    @pytest.fixture
    def actors(self) -> MessageActors:
        raise NotImplementedError

    def test_each_message_keeps_its_first_actor(self, actors: MessageActors) -> None:
        actors.record([MessageActor("m1", "c1", "kumiai01"), MessageActor("m2", "c1", "kumiai01")])
        actors.record([MessageActor("m1", "c1", "federation"), MessageActor("", "c9", "ignored")])
        actors.record([])
        assert actors.of_messages(["m1", "m2", "m3", ""]) == {"m1": "kumiai01", "m2": "kumiai01"}
        assert actors.of_messages([]) == {}

    def test_within_one_batch_a_message_keeps_its_first_actor(self, actors: MessageActors) -> None:
        long_id = "m" * 80
        actors.record(
            [
                MessageActor("m1", "c1", "kumiai01"),
                MessageActor("m1", "c1", "federation"),
                MessageActor(long_id, "c2", "kumiai02"),
                MessageActor(long_id[:64] + "x", "c2", "federation"),  # the same id once cut to 64
            ]
        )
        assert actors.of_messages(["m1", long_id[:64]]) == {"m1": "kumiai01", long_id[:64]: "kumiai02"}
        assert actors.of_correlations(["c1", "c2"]) == {
            "c1": frozenset({"kumiai01"}),
            "c2": frozenset({"kumiai02"}),
        }

    def test_a_correlation_names_every_actor_of_its_messages(self, actors: MessageActors) -> None:
        actors.record(
            [
                MessageActor("m1", "c1", "kumiai01"),
                MessageActor("m2", "c1", "kumiai01"),
                MessageActor("m3", "c2", "kumiai01"),
                MessageActor("m4", "c2", "kumiai02"),
            ]
        )
        assert actors.of_correlations(["c1", "c2", "c3", ""]) == {
            "c1": frozenset({"kumiai01"}),
            "c2": frozenset({"kumiai01", "kumiai02"}),
        }

    def test_values_are_cut_to_the_stored_widths(self, actors: MessageActors) -> None:
        long_id, long_correlation = "m" * 80, "c" * 80
        actors.record([MessageActor(long_id, long_correlation, "a" * 20)])
        assert actors.of_messages([long_id[:64]]) == {long_id[:64]: "a" * 16}
        assert actors.of_correlations([long_correlation[:64]]) == {
            long_correlation[:64]: frozenset({"a" * 16})
        }


class TestSqlMessageActorsOnSqlite(MessageActorsContract):
    @pytest.fixture
    def actors(self, sqlite_connection: Connection) -> MessageActors:
        return SqlMessageActors(sqlite_connection)


@pytest.mark.postgres
class TestSqlMessageActorsOnPostgres(MessageActorsContract):
    @pytest.fixture
    def actors(self, postgres_connection: Connection) -> MessageActors:
        return SqlMessageActors(postgres_connection)


class TestInMemoryMessageActors(MessageActorsContract):
    @pytest.fixture
    def actors(self) -> MessageActors:
        return InMemoryMessageActors()
