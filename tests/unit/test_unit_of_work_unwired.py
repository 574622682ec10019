"""A unit of work built without a store (no vault keys, no keyring) fails closed when that store is used."""

from __future__ import annotations

import pytest

from contracts.errors import ConfigurationError
from hub.infra.memory.store import InMemoryStores, InMemoryUnitOfWorkFactory


def test_a_store_the_unit_of_work_was_built_without_refuses_every_use() -> None:
    factory = InMemoryUnitOfWorkFactory(InMemoryStores())
    with factory() as uow:
        with pytest.raises(ConfigurationError, match="built without a vault"):
            _ = uow.vault.usage_of
        with pytest.raises(ConfigurationError, match="built without a code store"):
            _ = uow.codes.erase
        with pytest.raises(ConfigurationError, match="built without a provision log"):
            _ = uow.provisions.record
        uow.inbox.mark("consumer", ["m1"])  # the stores it has work as ever
        assert uow.inbox.handled("consumer", ["m1", "m2"]) == {"m1"}
