"""What renkei keeps about a person, for how long, and which job ends it: the retention model, as data.

:data:`RETENTION_MODEL` has one row per kind of data: what it is and where it rests, its legal basis or
reason, how long it is kept, what happens at the end, and the job that enforces it. ``renkei retention
run`` runs every job of :attr:`Enforcer.RETENTION_RUN` and reports every kind (``--dry-run --json`` lists
them all with counts); ``docs/retention.md`` is :func:`retention_markdown`
(``tests/unit/test_retention_doc.py`` keeps it equal; run it with ``RENKEI_WRITE_DOCS=1`` after changing a
row). The periods that code acts on are the ``days`` of their row, read through :func:`days_of`: a period is
written once, here.

The numbers' own rule (seven years after the year following a 扶養親族等申告書's deadline) is
:mod:`hub.core.rules.retention`; the vault keeps each number's ``purge_after`` and the job erases what is due.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

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


_SHRED: Final = (
    "crypto-shredded: the person's data key is deleted, then the ciphertexts and blind indexes; when the "
    "person keeps no number, the person goes too (`vault.person`). A person who keeps some numbers is "
    "re-keyed: what stays is encrypted under a fresh data key and the old one is destroyed. One "
    "deletion-log entry per person and kind, never a number"
)

RETENTION_MODEL: Final[tuple[DataKind, ...]] = (
    DataKind(
        Kind.VAULT_ENTITLEMENT,
        what="個人番号 of pensioners (年金受給権者), their 加給年金額対象配偶者 and new entitlements",
        where="vault: `numbers` (AES-GCM under the person's data key), `subject_keys` (wrapped data key)",
        basis=_legal_basis(ENTITLEMENT),
        retention=(
            "while the pension business needs it: no end date until the pension system sets one "
            "(`purge_after`) when the entitlement ends"
        ),
        at_end=_SHRED,
        enforcer=Enforcer.RETENTION_RUN,
        job="vault",
    ),
    DataKind(
        Kind.VAULT_DEPENDANTS,
        what="個人番号 of spouses and dependants from 公的年金等の受給者の扶養親族等申告書",
        where="vault: `numbers`, `subject_keys`",
        basis=(
            _legal_basis(DEPENDANTS_DECLARATION)
            + "; PPC ガイドライン 事業者編 §4-3-(3)B: delete as soon as possible once the retention ends"
        ),
        retention=(
            "until 10 January seven years after the year following the filing deadline (a declaration due "
            "in 2016 is kept until 10 January 2024); due from the next day"
        ),
        at_end=_SHRED,
        enforcer=Enforcer.RETENTION_RUN,
        job="vault",
    ),
    DataKind(
        Kind.VAULT_OTHER,
        what="個人番号 kept under any other basis (none in production today)",
        where="vault: `numbers`, `subject_keys`",
        basis="the basis recorded with the number",
        retention="until its `purge_after`",
        at_end=_SHRED,
        enforcer=Enforcer.RETENTION_RUN,
        job="vault",
    ),
    DataKind(
        Kind.VAULT_PERSON,
        what=(
            "the person: 利用番号 (usage numbers, current and retired), pairwise tokens, 構成組合 "
            "membership, the grounds their numbers are held on (role and held-under, docs/legal-basis.md) "
            "and the subject id itself"
        ),
        where="vault: `subjects`, `usage_numbers`, `tokens`, `number_grounds`; `association_members`",
        basis="what links the pension system's people to their numbers, while they have one",
        retention="as long as the person keeps a number",
        at_end=(
            "deleted with the person's last number, the subject id included: no table names it any more "
            "(the deletion log names the erasure by a fresh reference), so no token of the person can be "
            "recomputed or looked up"
        ),
        enforcer=Enforcer.RETENTION_RUN,
        job="vault",
    ),
    DataKind(
        Kind.IS_CODES,
        what="団体内統合宛名番号 and the person's 符号 (encrypted)",
        where="`is_codes`",
        basis="番号法 第21条の2 (情報提供用個人識別符号), for 情報照会 and 副本 provision",
        retention="as long as the person keeps a number",
        at_end="deleted with the person (`CodeStore.erase`)",
        enforcer=Enforcer.RETENTION_RUN,
        job="vault",
    ),
    DataKind(
        Kind.IS_PENDING_QUERIES,
        what=(
            "queries sent through the information-provision network: the person's 利用番号, 事務, legal basis"
        ),
        where="`is_pending_queries`",
        basis=(
            "matching the answer to its query (番号法 第19条第8号); the 情報提供等記録 is written when it "
            "settles"
        ),
        retention=(
            "30 days after the answer settles it; 90 days when no answer comes; an erased person's at once"
        ),
        at_end="deleted",
        enforcer=Enforcer.RETENTION_RUN,
        job="pending queries",
        days=30,
    ),
    DataKind(
        Kind.PROVISION_RECORDS,
        what="情報提供等の記録 (who asked and provided, when, which items, the person's token)",
        where="`provision_records`",
        basis=(
            "番号法 第23条; period set by 番号法施行令 第29条 (seven years; to confirm against the official "
            "text)"
        ),
        retention="until `retention_until`: seven years after the (Japanese) day of the exchange",
        at_end=(
            "deleted; a `purged` access record lists each deleted record's id and sealed digest, so that "
            "`renkei audit verify` tells a lawful deletion from tampering"
        ),
        enforcer=Enforcer.RETENTION_RUN,
        job="provision records",
    ),
    DataKind(
        Kind.ACCESS_RECORDS,
        what=(
            "アクセス記録: one tamper-evident record per message and operator action; people appear as tokens"
        ),
        where="`access_records`, `access_record_subjects`, `audit_chains`, `audit_checkpoints`",
        basis="安全管理措置 (PPC ガイドライン: 取扱状況を確認する記録); the hash chain needs every record",
        retention="kept: no number, no subject id, no usage number is in them",
        at_end=(
            "kept; when a person is erased their tokens become unlinkable (see Linkability): the records "
            "still show that an unnamed person was handled, by whom, when and why"
        ),
        enforcer=Enforcer.RETENTION_RUN,
        job="vault",
    ),
    DataKind(
        Kind.DELETION_LOG,
        what="削除記録: one entry per person and kind erased (counts, basis, when, by whom; never a number)",
        where="`deletion_log`",
        basis="PPC ガイドライン 事業者編 §4-3-(3)B (record of deletion)",
        retention="kept",
        at_end=(
            "kept; entries of an erased person name them by an erasure reference (`erasure-…`), never by "
            "subject id"
        ),
        enforcer=Enforcer.RETENTION_RUN,
        job="vault",
    ),
    DataKind(
        Kind.OUTBOX,
        what="messages to publish: bodies hold numbers sealed for J-LIS, eLTAX, the intermediate server",
        where="`outbox`",
        basis="transactional outbox: a message is published once its transaction committed",
        retention="the body until the broker confirmed the message; the row (ids, times) 30 days",
        at_end=(
            "the relay deletes the body when the broker confirms (a body never confirmed stays, and is "
            "published by the relay's sweep); the job deletes any confirmed body left and confirmed rows "
            "older than 30 days"
        ),
        enforcer=Enforcer.RELAY,
        job="outbox",
        days=30,
    ),
    DataKind(
        Kind.DEAD_LETTERS_ERASED,
        what="dead letters concerning a person who is erased (sealed numbers, 利用番号, names, 4情報)",
        where="`dead_letters`",
        basis="kept for an operator to investigate, replay or discard",
        retention="until the person is erased",
        at_end=(
            "every sealed value is destroyed (a sealed value can be told apart only with its recipient's "
            "key), and the records naming the person lose every text field; the row says so when shown "
            "and can no longer be replayed"
        ),
        enforcer=Enforcer.RETENTION_RUN,
        job="vault",
    ),
    DataKind(
        Kind.DEAD_LETTERS_ARCHIVED,
        what="dead letters replayed or discarded (kept as an archive)",
        where="`dead_letters`",
        basis="the investigation of a failure after its replay or discard",
        retention="sealed values 30 days after the replay or discard",
        at_end="sealed values destroyed; the rest of the archive stays",
        enforcer=Enforcer.RETENTION_RUN,
        job="dead letters",
        days=30,
    ),
    DataKind(
        Kind.HOLDS_PENDING,
        what=(
            "unresolved holds: candidates' numbers sealed for the hub and J-LIS's 4情報 (other people's data)"
        ),
        where="`number_holds`",
        basis="an operator's decision on a link (住基法 第30条の9: use within its purpose only)",
        retention="90 days without a decision",
        at_end=(
            "expired: rejected by the job (recorded, the pension system told), candidates discarded as on "
            "any resolution"
        ),
        enforcer=Enforcer.RETENTION_RUN,
        job="holds",
        days=90,
    ),
    DataKind(
        Kind.HOLDS_RESOLVED,
        what="resolved holds: the 4情報 the pension system asked with",
        where="`number_holds`",
        basis="the record of the decision (who, when, why) stays; the data it was made on does not",
        retention="90 days after the resolution",
        at_end="the asked 4情報 emptied; the decision stays",
        enforcer=Enforcer.RETENTION_RUN,
        job="holds",
        days=90,
    ),
    DataKind(
        Kind.HOLDS_ERASED,
        what="holds of an erased person, and candidates whose number was an erased person's",
        where="`number_holds`",
        basis="as the person's numbers",
        retention="as long as the person keeps a number",
        at_end="the person's holds deleted; a candidate with their number loses its sealed value and 4情報",
        enforcer=Enforcer.RETENTION_RUN,
        job="vault",
    ),
    DataKind(
        Kind.LOGS,
        what="log files (JSON lines: message ids, types, outcomes; never a number, redacted on the way out)",
        where="`RENKEI_LOG_FILE` and its rotated files, `<data dir>/logs`",
        basis="operations and incident investigation",
        retention="rotated by size (`RENKEI_LOG_FILE_BACKUPS`); a rotated file 90 days",
        at_end="deleted",
        enforcer=Enforcer.RETENTION_RUN,
        job="logs",
        days=90,
    ),
    DataKind(
        Kind.WIRE_FILES,
        what=(
            "exchange files with the pension system: outcome files (利用番号), processed requests (利用番号, "
            "4情報), refused files (which may hold a number the pension system sent by mistake)"
        ),
        where="`<data dir>/wire/pension/{outbound,processed,rejected}`",
        basis="the exchange with the pension system, and the investigation of a refused file",
        retention="30 days after they were written",
        at_end="deleted (`inbound/` is the pension system's and is taken at once)",
        enforcer=Enforcer.RETENTION_RUN,
        job="wire files",
        days=30,
    ),
    DataKind(
        Kind.STORAGE_SQLITE,
        what="deleted rows in the embedded SQLite database file and its WAL",
        where="`renkei.db`, `renkei.db-wal`",
        basis="storage, not a record",
        retention="none: zeroed when deleted (`secure_delete`); the WAL until the next checkpoint",
        at_end=(
            "`PRAGMA wal_checkpoint(TRUNCATE)` after each run; when another process holds a read "
            "transaction the WAL cannot be truncated, and the run says so (run it again when idle)"
        ),
        enforcer=Enforcer.RETENTION_RUN,
        job="storage",
    ),
    DataKind(
        Kind.STORAGE_POSTGRESQL,
        what="dead row versions and page space of deleted rows in PostgreSQL tables and indexes",
        where="the relation files of every table that held personal data",
        basis="storage, not a record",
        retention="until rewritten: a plain VACUUM frees the space but leaves the old bytes in the page",
        at_end=(
            "after a run that erased or scrubbed anything, the tables it touched are rewritten (`VACUUM "
            "FULL`, outside a transaction, under a lock timeout); `--no-rewrite`, or a lock not obtained, "
            "falls back to a plain `VACUUM` and the run says so"
        ),
        enforcer=Enforcer.RETENTION_RUN,
        job="storage",
    ),
    DataKind(
        Kind.BACKUPS,
        what=(
            "PostgreSQL WAL (`pg_wal`, and its archive) and base backups, `pg_dump` files; copies of the "
            "services' keyrings"
        ),
        where="the database host and the backup store",
        basis="recovery (docs/deploy.md §4)",
        retention="the backup rotation: as long as the oldest backup or WAL segment kept",
        at_end=(
            "expire with the rotation. Until then a backup holds erased rows, encrypted under the keys of "
            "its time: it stays readable while those key versions are live. `renkei keys retire KEY "
            "VERSION` destroys a version (KEK, sealing key pair, link key) in every service's keyring once "
            "nothing uses it, so a backup older than the oldest live key version is unreadable: that is how "
            "an erasure reaches backups ([the backup window](keys.md#the-backup-window))"
        ),
        enforcer=Enforcer.OPERATOR,
        job="operator",
    ),
    DataKind(
        Kind.BROKER_QUEUES,
        what="messages in queues (numbers sealed for their recipient), retry copies, dead letters in transit",
        where="RabbitMQ quorum queues",
        basis="delivery",
        retention="until consumed: retry tiers hold a copy for at most their delay (≤ 10 minutes)",
        at_end=(
            "removed on consumption; the dead-letter queue is consumed into `dead_letters`. Quorum queues "
            "drop consumed messages from their log at the next snapshot"
        ),
        enforcer=Enforcer.BROKER,
        job="broker",
    ),
)
"""Every kind of data renkei keeps about a person, once."""

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
  says so (exit code 3).
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
