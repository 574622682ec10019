"""What renkei keeps about a person, for how long, and which job ends it: the retention model, as data.

:data:`RETENTION_MODEL` is ``hub/core/rules/retention_model.toml``, loaded and checked at import: one row per
kind of data: what it is and where it rests, its legal basis or reason, how long it is kept, what happens at
the end, and the job that enforces it. ``renkei retention run`` runs every job of
:attr:`Enforcer.RETENTION_RUN` and reports every kind (``--dry-run --json`` lists them all with counts);
``docs/retention.md`` is :func:`retention_markdown` (``tests/unit/test_retention_doc.py`` keeps it equal; run
it with ``RENKEI_WRITE_DOCS=1`` after changing a row). The periods that code acts on are the ``days`` of their
row, read through :func:`days_of`: a period is written once, in the file.

The numbers' own rule (seven years after the year following a 扶養親族等申告書's deadline) is
:mod:`hub.core.rules.retention`; the vault keeps each number's ``purge_after`` and the job erases what is due.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from typing import Final, Self, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from contracts.errors import ConfigurationError
from contracts.purpose_table import default_table
from hub.core.rules.retention import DEPENDANTS_DECLARATION

__all__ = [
    "ENTITLEMENT",
    "RETENTION_MODEL",
    "UNANSWERED_QUERY_DAYS",
    "DataKind",
    "Enforcer",
    "Kind",
    "days_of",
    "kind_of_basis",
    "load_model",
    "retention_markdown",
]

ENTITLEMENT: Final = default_table().held_under["jlis"].retention
"""The retention basis of pensioners' numbers (and of numbers linked for a new entitlement): the purpose
table's ``jlis`` row says it."""


def _legal_basis(retention: str) -> str:
    """The basis cell of a vault row, taken from the purpose table (the law is stated there, once).

    Every ``[[held_under]]`` row kept with ``retention``: the articles the number is obtained under, then
    the ones that say how long it is kept.
    """
    rows = default_table().held_under_retention(retention)
    held = "; ".join(
        f"held under `{h.code}` ({h.name}): "
        + ", ".join(b.text for b in h.bases)
        + "; kept under "
        + ", ".join(b.text + ("" if b.status == "verified" else " [inferred]") for b in h.kept_under)
        for h in rows
    )
    return f"`{retention}`: {held} (docs/legal-basis.md)"


class Kind(StrEnum):
    """The kinds of data renkei keeps about a person (stable names: the JSON report and the log use them)."""

    VAULT_ENTITLEMENT = "vault.pension_entitlement"
    VAULT_DEPENDANTS = "vault.tax_dependants_declaration"
    VAULT_OTHER = "vault.other_basis"
    VAULT_PERSON = "vault.person"
    IS_CODES = "intermediate_server.codes"
    IS_PENDING_QUERIES = "intermediate_server.pending_queries"
    PROVISION_RECORDS = "provision_records"
    ACCESS_RECORDS = "access_records"
    DELETION_LOG = "deletion_log"
    OUTBOX = "outbox"
    DEAD_LETTERS_ERASED = "dead_letters.erased_person"
    DEAD_LETTERS_ARCHIVED = "dead_letters.archived"
    HOLDS_PENDING = "holds.pending"
    HOLDS_RESOLVED = "holds.resolved"
    HOLDS_ERASED = "holds.erased_person"
    LOGS = "logs"
    WIRE_FILES = "wire_files"
    STORAGE_SQLITE = "storage.sqlite"
    STORAGE_POSTGRESQL = "storage.postgresql"
    BACKUPS = "backups"
    BROKER_QUEUES = "broker_queues"


class Enforcer(StrEnum):
    """Who ends a kind's retention."""

    RETENTION_RUN = "renkei retention run"
    RELAY = "the hub's outbox relay, then renkei retention run"
    OPERATOR = "the operator (backup rotation) and renkei keys retire"
    BROKER = "RabbitMQ (consumption)"


@dataclass(frozen=True, slots=True)
class DataKind:
    """One row of the retention model.

    Attributes:
        kind: its stable name.
        what: what renkei keeps.
        where: where it rests (tables, files).
        basis: the legal basis, or the reason it is kept.
        retention: how long.
        at_end: what happens when the retention ends.
        enforcer: who ends it.
        job: the part of the job that does, as ``renkei retention run`` reports it.
        days: the period the job acts on, for rows kept a fixed number of days.
    """

    kind: Kind
    what: str
    where: str
    basis: str
    retention: str
    at_end: str
    enforcer: Enforcer
    job: str
    days: int | None = None


class _Row(BaseModel):
    """One ``[[kind]]`` of ``retention_model.toml`` as written (its header says what each field holds)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Kind
    what: str = Field(min_length=1)
    where: str = Field(min_length=1)
    basis_held_under: str | None = None
    basis: str | None = Field(default=None, min_length=1)
    retention: str = Field(min_length=1)
    at_end: str | None = Field(default=None, min_length=1)
    crypto_shredded: bool = False
    enforcer: Enforcer
    job: str = Field(min_length=1)
    days: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _one_basis_one_end(self) -> Self:
        if self.basis_held_under is None and self.basis is None:
            raise ValueError("give basis, basis_held_under or both")
        if self.basis_held_under is not None and not default_table().held_under_retention(
            self.basis_held_under
        ):
            raise ValueError(f"the purpose table keeps no number with {self.basis_held_under!r}")
        if self.crypto_shredded == (self.at_end is not None):
            raise ValueError("give at_end or crypto_shredded = true, not both")
        return self

    def data_kind(self, crypto_shred: str) -> DataKind:
        """The row of the model, its basis and end spelled out."""
        held_under = None if self.basis_held_under is None else _legal_basis(self.basis_held_under)
        return DataKind(
            self.kind,
            what=self.what,
            where=self.where,
            basis="; ".join(b for b in (held_under, self.basis) if b is not None),
            retention=self.retention,
            at_end=crypto_shred if self.crypto_shredded else cast(str, self.at_end),
            enforcer=self.enforcer,
            job=self.job,
            days=self.days,
        )


class _ModelFile(BaseModel):
    """``retention_model.toml``: the crypto-shredding text vault rows end with, and every kind once."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    crypto_shred: str = Field(min_length=1)
    kind: tuple[_Row, ...]

    @model_validator(mode="after")
    def _every_kind_once(self) -> Self:
        kinds = [row.kind for row in self.kind]
        if sorted(kinds) != sorted(Kind):
            raise ValueError(f"every kind once, in {sorted(Kind)}; the file has {kinds}")
        return self


def load_model(text: str | None = None) -> tuple[DataKind, ...]:
    """Read and check the retention model: ``text``, or ``retention_model.toml`` kept beside this module.

    Raises:
        ConfigurationError: the text is not TOML or breaks the rules of the file's header.
    """
    if text is None:
        text = resources.files(__package__).joinpath("retention_model.toml").read_text(encoding="utf-8")
    try:
        model = _ModelFile.model_validate(tomllib.loads(text))
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise ConfigurationError(f"the retention model (retention_model.toml) is malformed: {exc}") from None
    return tuple(row.data_kind(model.crypto_shred) for row in model.kind)


RETENTION_MODEL: Final = load_model()
"""Every kind of data renkei keeps about a person, once (``hub/core/rules/retention_model.toml``)."""

_BY_KIND: Final = {row.kind: row for row in RETENTION_MODEL}


def days_of(kind: Kind) -> int:
    """The fixed period, in days, of ``kind``'s row.

    Raises:
        ValueError: the row has no fixed period.
    """
    days = _BY_KIND[kind].days
    if days is None:
        raise ValueError(f"{kind} is not kept a fixed number of days")
    return days


UNANSWERED_QUERY_DAYS: Final = 90
"""How long a query without an answer is kept (its row in :data:`RETENTION_MODEL` says so)."""


def kind_of_basis(basis: str) -> Kind:
    """The kind of a vault number kept under ``basis``."""
    if basis == ENTITLEMENT:
        return Kind.VAULT_ENTITLEMENT
    if basis == DEPENDANTS_DECLARATION:
        return Kind.VAULT_DEPENDANTS
    return Kind.VAULT_OTHER


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


_INTRO: Final = """\
# Retention: what renkei keeps about a person, and when it forgets

<!-- Generated from hub/core/rules/retention_model.py by tests/unit/test_retention_doc.py
     (RENKEI_WRITE_DOCS=1). Edit the model, not this file. -->

Every kind of data renkei keeps about a person, its legal basis or reason, how long it is kept, what
happens at the end and which job does it. `renkei retention run` runs every job of the rows it enforces
(`--as-of DATE` for another day, `--dry-run` to count only, `--json` for scripts: every kind below, with
counts) and writes one deletion-log entry per person and kind, never a number. Schedule it daily
(compose: `retention`).

The rule behind the numbers' own dates: a 扶養親族等申告書 is kept seven years from 11 January of the year
after its filing deadline, so its numbers may be kept through 10 January of the eighth year and are due
the next day; then the PPC guidelines ask for deletion as soon as possible and so that the number cannot
be restored.
"""

_LINKABILITY: Final = """\
## Linkability: what stays linkable after an erasure, and why

Erasure deletes the number itself everywhere renkei keeps it (see the table): the vault's ciphertext, its
data key and blind index, every sealed copy (outbox bodies at confirmation, dead letters, holds), the
intermediate server's codes and the person's pending queries.

Tokens (`tk…`) stand for a person in the access record and in the 情報提供等の記録. A token is an HMAC,
under a key derived from the keyring's token root, of the person's **subject id**: 26 random letters that
never leave the hub. Erasure deletes the subject id from every table (`subjects`, and every table with a
`subject_id` column, which a test enumerates), and the deletion log names the erasure by a fresh random
reference instead. With every key the deployment keeps, nobody can then recompute an erased person's
token, nor look it up: the subject id is the per-person secret the tokens derive from, and erasure
destroys it (on SQLite with `secure_delete` and a truncated WAL, on PostgreSQL with a rewrite of the
tables; in backups when the key versions of their time are retired).

What stays linkable, and why the law allows it:

* **The access records of one erased person to one another.** Their token is the same in each record of a
  scope, so an auditor still sees that one unnamed person was handled so many times, by whom, when and for
  which purpose. That is what the access record is for (PPC guidelines: 取扱状況を確認する記録), it holds no
  number and, once the subject id is gone, identifies nobody with anything renkei keeps. Cutting the
  records out would break the hash chain that makes them tamper-evident.
* **The 情報提供等の記録 of the person**, for their own seven years (番号法 第23条): they carry the same token
  and are deleted when their period ends.
* **Message and correlation ids**: access records, dead letters and the outbox name messages by id. The
  outbox keeps no body once confirmed; a dead letter concerning the person loses its sealed values and the
  person's fields; exchange files with the pension system (利用番号, no number) are deleted after 30 days.
"""

_STORAGE: Final = """\
## Storage: making the disk forget

* **SQLite** (development and the demo): every connection sets `PRAGMA secure_delete=ON`, so deleted rows
  and freed pages are overwritten with zeros. Until a checkpoint the WAL still holds the pages as they were
  before; the run ends with `PRAGMA wal_checkpoint(TRUNCATE)`, which empties the WAL file. It cannot do so
  while another connection holds a read transaction: it waits a moment, tries three times and reports
  what stayed (`wal_frames_left`, exit code 3), so run it again when the services are idle.
* **PostgreSQL**: a deleted row stays in its page as a dead row version until VACUUM, and a plain VACUUM
  only marks the space free: the bytes stay in the page until new rows overwrite them (measured on
  PostgreSQL 15: of 1,050 rows deleted from a small table, 492 were still readable in its relation file
  after `VACUUM` and a checkpoint). So after a run that erased or scrubbed anything, the tables it touched
  are rewritten with `VACUUM FULL`, outside any transaction and under a lock timeout: the new files hold
  only live rows and the old ones are truncated at once. It takes an exclusive lock on each table for as
  long as writing it anew takes (the hub waits meanwhile: schedule the job in a quiet hour); with
  `--no-rewrite`, or when the lock is not obtained within 15 seconds, the run does a plain `VACUUM` and
  says so (exit code 3). A rewrite also copies every row another transaction may still see: a transaction
  of the same database that began before the erasure (a long report, autovacuum's `ANALYZE`, a writer)
  keeps the erased rows in the new file, with no lock conflict to tell. So the step first waits, up to
  60 seconds, for such transactions to end; when one stays open the run names its server process, says
  the step is incomplete (exit code 3), and is to be run again.
* **PostgreSQL's planner statistics**: `ANALYZE` (autovacuum's too) copies sampled column values into the
  `pg_statistic` catalog (with fewer rows than the statistics target, every value), where no erasure
  reaches. Every column holding a secret or naming a person (ciphertexts, wrapped keys, blind indexes,
  subject ids, usage numbers, bodies) has statistics target 0, set by the migration `0009_erasure`, so
  none of their values is ever sampled; the planner estimates them with its defaults. A table added later
  needs the same for such columns.
* **PostgreSQL's server log** may quote key values of a failed statement (a unique violation names the
  blind index or usage number that collided; never a number): it is the database host's, kept by its
  log rotation, like the backups below.
* **PostgreSQL WAL, WAL archives and base backups** hold every change as it was written, erased rows
  included: `pg_wal` until its segments are recycled (after a checkpoint, within `max_wal_size`), the WAL
  archive and base backups for as long as the backup rotation keeps them (docs/deploy.md §4: nightly base
  backups and continuous archiving). What they hold is encrypted: numbers under data keys
  wrapped by the KEK of their time, sealed copies under the recipients' key pairs (format v2) or `seal_v1`
  keys of their time. Step 3 of a key rotation, `renkei keys retire KEY VERSION`
  ([docs/keys.md](keys.md#rotation-in-three-steps-without-an-outage)), destroys a key version in every
  service's keyring once nothing live uses it, after which every backup and WAL segment older than the
  oldest live version is unreadable. The backup window of an erasure is therefore the shorter of the backup
  rotation and the time until the key versions in force at the erasure are retired
  ([the backup window](keys.md#the-backup-window): the KEK rotation period sets it; keyring backups holding
  a retired version are destroyed with it). After restoring a backup, run `renkei retention run` at once:
  it erases again whatever was due.
"""


def retention_markdown() -> str:
    """``docs/retention.md``: the model as a table, then what stays linkable and what storage does."""
    lines = [
        _INTRO,
        "## The model",
        "",
        "| Kind | What | Where | Basis or reason | Retention | At the end | Enforced by |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in RETENTION_MODEL:
        outside = row.enforcer in (Enforcer.OPERATOR, Enforcer.BROKER)
        enforced = row.enforcer.value if outside else f"{row.enforcer.value} (step: {row.job})"
        lines.append(
            "| "
            + " | ".join(
                _cell(c)
                for c in (
                    f"`{row.kind.value}`",
                    row.what,
                    row.where,
                    row.basis,
                    row.retention,
                    row.at_end,
                    enforced,
                )
            )
            + " |"
        )
    return "\n".join(lines) + "\n\n" + _LINKABILITY + "\n" + _STORAGE
