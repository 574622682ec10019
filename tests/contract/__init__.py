"""Contract tests: one abstract test class per port, run against every implementation of it.

Each ``tests/contract/test_<port>.py`` holds a ``<Port>Contract`` class and one subclass per implementation
(the SQL one on SQLite and on PostgreSQL, each test in a rolled-back transaction of a database migrated once
per session, see ``conftest.py``; and the in-memory twin of ``hub.infra.memory``). The transport's double
lives in ``hub.infra.memory.transport``.

``test_store.py`` runs the unit of work (``hub.infra.db.uow`` and ``hub.infra.memory.store``) on a database
of each test's own, since it commits; ``test_provisions.py`` holds the ``ProvisionLog`` of ``audit``.

The one port without a contract class here, and why:

- ``link`` (``LinkCipher``): its one implementation, ``hub.infra.crypto.link_cipher.AeadLinkCipher``, already
runs
  in memory (it stores nothing); a second one could only fake the encryption.
"""
