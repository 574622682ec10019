#!/usr/bin/env python3
"""Issue 20, item 1: move hub/infra and hub/core modules into packages by concept (one-off, reproducible).

``python scripts/reshape_packages.py GROUP...`` git-moves the modules of each named group and rewrites every
reference to them in the repository's tracked text files: dotted names (imports, mock targets, logger names,
Sphinx roles), ``from pkg import module`` lines and file paths (``hub/infra/audit_sql.py``). No module is
left at its old path. Run from the repository root; each group is one commit.

It was run once, on main at 0dbbe83, with the groups in the order they are declared; after each, ``ruff check
--fix``, ``ruff format`` and prose lines over 110 characters re-wrapped, plus the few edits by hand the
commits show. It keeps no meaning after that (the old paths no longer exist): it records how it was done.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

GROUPS: dict[str, list[tuple[str, str]]] = {
    "broker": [
        ("hub.infra._pika_addresses", "hub.infra.broker._addresses"),
        ("hub.infra._pika_admin", "hub.infra.broker._admin"),
        ("hub.infra._pika_consumer", "hub.infra.broker._consumer"),
        ("hub.infra._pika_io", "hub.infra.broker._io"),
        ("hub.infra._pika_publisher", "hub.infra.broker._publisher"),
        ("hub.infra.transport_pika", "hub.infra.broker.transport"),
        ("hub.infra.broker_credentials", "hub.infra.broker.credentials"),
        ("hub.infra.broker_definitions", "hub.infra.broker.definitions"),
        ("hub.infra.broker_users", "hub.infra.broker.users"),
        ("hub.infra.topology", "hub.infra.broker.topology"),
        ("hub.infra.topology_teardown", "hub.infra.broker.teardown"),
        ("hub.infra.transport_memory", "hub.infra.memory.transport"),
    ],
    "audit": [
        ("hub.infra.audit_anchor", "hub.infra.audit.anchor"),
        ("hub.infra.audit_browse", "hub.infra.audit.browse"),
        ("hub.infra.audit_checkpoint", "hub.infra.audit.checkpoint"),
        ("hub.infra.audit_codec", "hub.infra.audit.codec"),
        ("hub.infra.audit_provision", "hub.infra.audit.provision"),
        ("hub.infra.provision_rows", "hub.infra.audit.provision_rows"),
        ("hub.infra.audit_query", "hub.infra.audit.query"),
        ("hub.infra.audit_rows", "hub.infra.audit.rows"),
        ("hub.infra.audit_sql", "hub.infra.audit.sql"),
        ("hub.infra.audit_verify", "hub.infra.audit.verify"),
        ("hub.infra.audit_verify_chain", "hub.infra.audit.verify_chain"),
        ("hub.infra.audit_verify_seals", "hub.infra.audit.verify_seals"),
        ("hub.infra.audit_bench", "hub.bench.audit"),
        ("hub.infra.vault_bench", "hub.bench.vault"),
    ],
    "vault": [
        ("hub.infra.vault_lifecycle", "hub.infra.vault.lifecycle"),
        ("hub.infra.vault_memo", "hub.infra.vault.memo"),
        ("hub.infra.vault_plan", "hub.infra.vault.plan"),
        ("hub.infra.vault_sql", "hub.infra.vault.sql"),
        ("hub.infra.vault_store", "hub.infra.vault.store"),
    ],
    "stores": [
        ("hub.infra.actors_sql", "hub.infra.stores.actors"),
        ("hub.infra.approvals_sql", "hub.infra.stores.approvals"),
        ("hub.infra.codes_sql", "hub.infra.stores.codes"),
        ("hub.infra.dead_letters_sql", "hub.infra.stores.dead_letters"),
        ("hub.infra.holds_sql", "hub.infra.stores.holds"),
        ("hub.infra.association_scope", "hub.infra.stores.associations"),
    ],
    "tables": [
        ("hub.infra.db.actor_tables", "hub.infra.db.tables.actors"),
        ("hub.infra.db.approval_tables", "hub.infra.db.tables.approvals"),
        ("hub.infra.db.association_tables", "hub.infra.db.tables.associations"),
        ("hub.infra.db.audit_tables", "hub.infra.db.tables.audit"),
        ("hub.infra.db.code_tables", "hub.infra.db.tables.codes"),
        ("hub.infra.db.dead_letter_tables", "hub.infra.db.tables.dead_letters"),
        ("hub.infra.db.holds_tables", "hub.infra.db.tables.holds"),
        ("hub.infra.db.messaging_tables", "hub.infra.db.tables.messaging"),
        ("hub.infra.db.metrics_tables", "hub.infra.db.tables.metrics"),
        ("hub.infra.db.vault_tables", "hub.infra.db.tables.vault"),
        ("hub.infra.db.metadata", "hub.infra.db.tables.metadata"),
        ("hub.infra.db.schema", "hub.infra.db.tables.schema"),
    ],
    "observability": [
        ("hub.infra.health_server", "hub.infra.observability.health_server"),
        ("hub.infra.logs", "hub.infra.observability.logs"),
        ("hub.infra.metrics_history", "hub.infra.observability.metrics_history"),
        ("hub.infra.metrics_sampler", "hub.infra.observability.metrics_sampler"),
        ("hub.infra.process_metrics", "hub.infra.observability.process_metrics"),
        ("hub.infra.state_metrics", "hub.infra.observability.state_metrics"),
    ],
    "retention": [
        ("hub.infra.retention_jobs", "hub.infra.retention.jobs"),
        ("hub.infra.retention_run", "hub.infra.retention.run"),
    ],
    "keys": [
        ("hub.infra.crypto.bundles", "hub.infra.keys.bundles"),
        ("hub.infra.crypto.key_needs", "hub.infra.keys.needs"),
        ("hub.infra.crypto.key_series", "hub.infra.keys.series"),
        ("hub.infra.crypto.key_source", "hub.infra.keys.source"),
        ("hub.infra.crypto.keyring", "hub.infra.keys.keyring"),
        ("hub.infra.crypto.keyring_files", "hub.infra.keys.keyring_files"),
        ("hub.infra.crypto.link_keys", "hub.infra.keys.link_keys"),
        ("hub.infra.crypto.service_keys", "hub.infra.keys.service_keys"),
        ("hub.infra.key_lifecycle", "hub.infra.keys.rotation"),
        ("hub.infra.link_cipher", "hub.infra.crypto.link_cipher"),
    ],
    "core": [
        ("hub.core.acquisition", "hub.core.flows.acquisition"),
        ("hub.core.dependants", "hub.core.flows.dependants"),
        ("hub.core.eltax", "hub.core.flows.eltax"),
        ("hub.core.intermediate_server", "hub.core.flows.intermediate_server"),
        ("hub.core._is_common", "hub.core.flows.intermediate_common"),
        ("hub.core._is_duplicates", "hub.core.flows.intermediate_duplicates"),
        ("hub.core._is_queries", "hub.core.flows.intermediate_queries"),
        ("hub.core.survival", "hub.core.flows.survival"),
        ("hub.core.survival_actions", "hub.core.flows.survival_actions"),
        ("hub.core.context", "hub.core.flows.context"),
        ("hub.core.access", "hub.core.flows.access"),
        ("hub.core.purpose", "hub.core.flows.purpose"),
        ("hub.core.worker", "hub.core.runtime.worker"),
        ("hub.core.hosting", "hub.core.runtime.hosting"),
        ("hub.core.routing", "hub.core.runtime.routing"),
        ("hub.core.failure", "hub.core.runtime.retry"),
        ("hub.core.headers", "hub.core.runtime.headers"),
        ("hub.core.body_limits", "hub.core.runtime.body_limits"),
        ("hub.core.senders", "hub.core.runtime.senders"),
        ("hub.core.dead_letter_entry", "hub.core.runtime.dead_letter_entry"),
        ("hub.core.dead_letters", "hub.core.runtime.dead_letter_consumer"),
        ("hub.core.legal_basis", "hub.core.rules.legal_basis"),
        ("hub.core.policy", "hub.core.rules.policy"),
        ("hub.core.retention", "hub.core.rules.retention"),
        ("hub.core.retention_model", "hub.core.rules.retention_model"),
        ("hub.core.sealed_bodies", "hub.core.rules.sealed_bodies"),
        ("hub.core.erasure", "hub.core.rules.erasure"),
        ("hub.core.operations", "hub.core.operator.dead_letter_replay"),
        ("hub.core.approvals", "hub.core.operator.approvals"),
        ("hub.core.holds", "hub.core.operator.holds"),
        ("hub.core.rate_limit", "hub.core.operator.rate_limit"),
    ],
}

# Each new package's docstring (hub/core's and hub/infra/crypto's were edited by hand afterwards).
PACKAGE_DOCS = {
    "hub.infra.broker": (
        "RabbitMQ: the pika transport, the topology, the broker's users, definitions and log-ins."
    ),
    "hub.infra.audit": (
        "The access record and the 情報提供等の記録 on SQLAlchemy: writing, sealing, searching, verifying."
    ),
    "hub.infra.vault": (
        "The vault on SQLAlchemy: numbers, usage numbers and tokens, planned in memory, and its keys' life."
    ),
    "hub.infra.stores": (
        "The ports' SQL stores beside the vault and the access record, on the unit of work's connection."
    ),
    "hub.infra.db.tables": (
        "Every table of the hub, one module per concept, on the one ``MetaData`` Alembic migrates."
    ),
    "hub.infra.observability": (
        "Logs, metrics and health: what a process says about itself, and what the database holds."
    ),
    "hub.infra.retention": (
        "``renkei retention run``: the jobs of the retention model, and the run that does them in order."
    ),
    "hub.infra.keys": (
        "Keys: keyrings and their files, which service holds which key, key series and rotation."
    ),
    "hub.core.flows": (
        "The hub's part in each flow: one module of handlers per exchange, and what every handler uses."
    ),
    "hub.core.runtime": (
        "Running the handlers: the worker, the hosts, routing, the retry policy and the dead-letter consumer."
    ),
    "hub.core.rules": (
        "Rules as data and pure functions: legal bases, the number policy, retention, erasure of bodies."
    ),
    "hub.core.operator": (
        "What operators do: dead-letter replay and discard, four-eyes approvals, held links."
    ),
}

TEXT_SUFFIXES = {
    ".py",
    ".toml",
    ".md",
    ".ini",
    ".cfg",
    ".yaml",
    ".yml",
    ".txt",
    ".sh",
    ".mako",
    ".json",
    ".example",
    ".html",
    ".js",
    ".conf",
}


def run(*args: str) -> str:
    """Run a git command; its standard output."""
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout  # noqa: S603


def path_of(dotted: str) -> Path:
    """The file of a dotted module name."""
    return Path(*dotted.split(".")).with_suffix(".py")


def text_files() -> list[Path]:
    """Every tracked text file that may name a module (sources, documents, configuration, scripts)."""
    files = []
    for name in run("git", "ls-files").splitlines():
        p = Path(name)
        if (
            (
                p.suffix in TEXT_SUFFIXES
                or p.name in {"Makefile", "Dockerfile", "run"}
                or p.name.startswith(".")
            )
            and p.is_file()
            and p != Path("scripts/reshape_packages.py")
        ):
            files.append(p)
    return files


def rewrite(text: str, moves: dict[str, str]) -> str:
    """``text`` with every reference to a moved module rewritten to its new name."""

    # from PKG import a, b as c  /  from PKG import (\n a,\n b,\n)
    def from_import(m: re.Match[str]) -> str:
        indent, pkg, body = m.group(1), m.group(2), m.group(3)
        inner = body.strip().strip("()")
        items = [i.strip() for i in inner.replace("\n", " ").split(",") if i.strip()]
        if not any(f"{pkg}.{i.split(' as ')[0].strip()}" in moves for i in items):
            return m.group(0)
        by_parent: dict[str, list[str]] = {}
        for item in items:
            name, _, alias = item.partition(" as ")
            name, alias = name.strip(), alias.strip()
            new = moves.get(f"{pkg}.{name}", f"{pkg}.{name}")
            parent, _, leaf = new.rpartition(".")
            if not alias and leaf != name:
                alias = name
            by_parent.setdefault(parent, []).append(f"{leaf} as {alias}" if alias and alias != leaf else leaf)
        lines = []
        for parent, names in by_parent.items():
            one = f"{indent}from {parent} import {', '.join(names)}"
            if len(one) > 110:
                one = (
                    f"{indent}from {parent} import (\n"
                    + "".join(f"{indent}    {n},\n" for n in names)
                    + f"{indent})"
                )
            lines.append(one)
        return "\n".join(lines)

    text = re.sub(
        r"^([ \t]*)from (hub(?:\.[a-z_]+)*) import (\([^)]*\)|[^\n]+)", from_import, text, flags=re.M
    )
    # dotted names, longest first (word boundaries keep audit_verify from matching audit_verify_chain)
    for old in sorted(moves, key=len, reverse=True):
        new = moves[old]
        text = re.sub(rf"(?<![\w.]){re.escape(old)}(?!\w)", new, text)
        old_path, new_path = "/".join(old.split(".")), "/".join(new.split("."))
        text = re.sub(rf"(?<![\w/]){re.escape(old_path)}(?=\.py\b)", new_path, text)
    return text


def main(groups: list[str]) -> None:
    """Move the modules of ``groups`` and rewrite the references to them."""
    moves = {old: new for g in groups for old, new in GROUPS[g]}
    for old, new in moves.items():
        dst = path_of(new)
        init = dst.parent / "__init__.py"
        dst.parent.mkdir(parents=True, exist_ok=True)
        if not init.exists():
            pkg = ".".join(dst.parent.parts)
            init.write_text(f'"""{PACKAGE_DOCS[pkg]}"""\n')
            run("git", "add", str(init))
        run("git", "mv", str(path_of(old)), str(dst))
    for f in text_files():
        text = f.read_text(encoding="utf-8")
        new_text = rewrite(text, moves)
        if new_text != text:
            f.write_text(new_text, encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
