"""``renkei keys``: each service's keyring, and rotation in three steps without an outage.

* ``renkei keys init`` makes one keyring per service, holding only what that service needs
  (:data:`~hub.infra.keys.needs.KEY_NEEDS`). Development: under ``./var/keys/<service>/`` (services
  also make them on first run); production: nothing is generated where services read their keys, only a set
  written to ``--out DIR`` for the operator to install. ``--import-v1 FILE`` turns the old single keyring
  (format 1) into per-service keyrings, keeping the vault's keys and the old sealing keys for reading.
* ``renkei keys show SERVICE`` lists the key ids and kinds a service's keyring holds, never material, and
  flags any key the service must not hold.
* Rotation, step 1: ``renkei keys rotate`` adds a version (a KEK by default; ``--seal R``, ``--link C``,
  ``--blind-index``, ``--token-root``). Each running service re-reads its keyring file when it changes, so
  nothing restarts; the receiving side's keyring is written first.
* Step 2: ``renkei keys rewrap`` moves data keys, codes and held candidates onto the newest versions, with a
  progress bar; each chunk commits on its own, so it resumes after a crash.
* Step 3: ``renkei keys retire KEY VERSION`` destroys an old version in every keyring once nothing uses it,
  refusing with counts otherwise (data keys, codes, unsent outbox rows, open dead letters, pending holds,
  queued messages).

``docs/keys.md`` describes the steps, the migration from sealed format v1 and the backup window.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Final

import typer
from rich.console import Console
from rich.table import Table

from contracts.errors import BrokerUnavailable, ConfigurationError, SealError
from hub.bootstrap.common import open_database
from hub.bootstrap.operator import OperatorTools
from hub.bootstrap.transports import TransportFactory, pika_transports
from hub.cli.invocation import settings_of
from hub.infra.broker.topology import COUNTERPARTS, Names
from hub.infra.db.engine import DATABASE_FAILURES
from hub.infra.keys.keyring import (
    RECIPIENTS,
    HeldKey,
    KeyKind,
    KeyName,
    Keyring,
    generate_keyring,
    keyring_from_v1_json,
    retire,
    rotate,
)
from hub.infra.keys.keyring_files import (
    deployment_keyring,
    ensure_development_keyrings,
    keyring_location,
    keyring_paths,
    read_service_keyring,
    write_deployment,
)
from hub.infra.keys.needs import KEY_NEEDS, allowed_names, required_names
from hub.infra.keys.rotation import (
    KeyUsage,
    RewrapReport,
    queues_carrying,
    rewrap,
    rewrap_backlog,
    usage_in_store,
)
from hub.infra.keys.rotation import (
    Progress as ProgressCallback,
)
from hub.infra.keys.service_keys import operator_keys
from hub.infra.service_names import SERVICE_NAMES, ServiceName
from hub.progress import stage_bars
from hub.settings import Environment, Settings

__all__ = [
    "DEFAULT_GRACE_S",
    "KeyInUse",
    "RetireReport",
    "RotationReport",
    "ShowReport",
    "app",
    "init_keys",
    "parse_key",
    "retire_key",
    "rewrap_keys",
    "rotate_keys",
    "show_keys",
]

app = typer.Typer(
    help=(
        "Each service's keyring: make it (init), list it (show), and rotate keys in three steps without an "
        "outage (rotate, rewrap, retire). See docs/keys.md."
    ),
    no_args_is_help=True,
)

DEFAULT_GRACE_S: Final = 300
"""How long a version must have been superseded before it may be retired (every sender has switched to the
newer one within seconds; this leaves messages sealed just before time to be handled)."""

_EXIT_ERROR: Final = 2
_EXIT_IN_USE: Final = 3


def _fail(console: Console, message: str, code: int = _EXIT_ERROR) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}")
    return typer.Exit(code=code)


def _set_in(directory: Path) -> dict[ServiceName, Path]:
    return {s: directory / s / "keyring.json" for s in SERVICE_NAMES}


# --- init ------------------------------------------------------------------------------------------------


@dataclass
class InitReport:
    """What ``keys init`` wrote (paths and key ids, never material)."""

    written: dict[str, str] = field(default_factory=dict)
    kept: dict[str, str] = field(default_factory=dict)
    imported_v1: bool = False

    def as_json(self) -> dict[str, object]:
        """The summary printed by ``--json``."""
        return {"written": self.written, "kept": self.kept, "imported_v1": self.imported_v1}


def init_keys(settings: Settings, *, out: Path | None = None, import_v1: Path | None = None) -> InitReport:
    """Make one keyring per service: at the settings' locations (development) or in ``out``.

    Raises:
        ConfigurationError: production without ``out``; keyrings already there (with ``import_v1``, or in
            ``out``); an unreadable format-1 keyring.
    """
    if out is None and settings.environment is not Environment.DEVELOPMENT:
        raise ConfigurationError(
            "production never generates keys where services read them: run `renkei keys init --out DIR` on "
            "the key host and install each DIR/<service>/keyring.json where RENKEI_KEY_FILE or "
            "RENKEI_KEY_DIR says"
        )
    paths = _set_in(out) if out is not None else keyring_paths(settings)
    existing = {s: p for s, p in paths.items() if p.exists()}
    report = InitReport(kept={s: str(p) for s, p in existing.items()})
    if existing and (import_v1 is not None or out is not None):
        raise ConfigurationError(
            f"keyrings already exist ({', '.join(sorted(existing))}); init never overwrites a keyring"
        )
    if import_v1 is not None:
        whole = keyring_from_v1_json(import_v1.read_text(encoding="utf-8"))
        report.imported_v1 = True
    elif existing or out is None:
        # Development at the settings' locations: the same as a service's first start.
        imported = settings.legacy_keyring_path.exists() and not existing
        ensure_development_keyrings(settings)
        report.imported_v1 = imported
        report.written = {s: str(p) for s, p in paths.items() if s not in existing}
        return report
    else:
        whole = generate_keyring()
    write_deployment(whole, paths, only_changed=False)
    report.written = {s: str(p) for s, p in paths.items()}
    return report


@app.command("init")
def init_cmd(
    ctx: typer.Context,
    *,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write the set into DIR/<service>/keyring.json (production: required)."),
    ] = None,
    import_v1: Annotated[
        Path | None,
        typer.Option(
            "--import-v1", help="Make the keyrings from this format-1 keyring (one file, every key)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
) -> None:
    """Make one keyring per service, each holding only the keys that service needs."""
    console = Console()
    try:
        report = init_keys(settings_of(ctx), out=out, import_v1=import_v1)
    except (ConfigurationError, OSError) as exc:
        raise _fail(console, str(exc)) from exc
    if as_json:
        typer.echo(json.dumps(report.as_json(), indent=2))
        return
    table = Table(title="keyrings, one per service")
    table.add_column("service")
    table.add_column("file")
    table.add_column("")
    for service in SERVICE_NAMES:
        if service in report.written:
            table.add_row(service, report.written[service], "written")
        elif service in report.kept:
            table.add_row(service, report.kept[service], "kept (already there)")
    console.print(table)
    if report.imported_v1:
        console.print(
            "imported the format-1 keyring: its vault keys and its sealing keys (read-only, as seal_v1) "
            "now live in the services that need them; destroy the format-1 file and its copies"
        )


# --- show ------------------------------------------------------------------------------------------------


@dataclass
class ShowReport:
    """What one service's keyring holds (ids and kinds, never material)."""

    service: ServiceName
    source: str
    keys: list[HeldKey]
    not_allowed: list[str]
    missing: list[str]
    retired: list[str]

    def as_json(self) -> dict[str, object]:
        """The JSON form."""
        return {
            "service": self.service,
            "source": self.source,
            "keys": [k.as_json() for k in self.keys],
            "not_allowed": self.not_allowed,
            "missing": self.missing,
            "retired": self.retired,
        }


def show_keys(
    settings: Settings, service: ServiceName, environ: Mapping[str, str] | None = None
) -> ShowReport:
    """List ``service``'s keyring (made first in development when missing), flagging what it must not hold.

    Raises:
        ConfigurationError: the keyring is missing (production) or unreadable.
    """
    location = keyring_location(settings, service)
    missing_file = location.path is not None and not location.path.exists()
    if missing_file and settings.environment is Environment.DEVELOPMENT:
        ensure_development_keyrings(settings)
    ring = read_service_keyring(location, environ, check=False)
    names = set(ring.names())
    return ShowReport(
        service=service,
        source=str(location),
        keys=ring.held(),
        not_allowed=sorted(str(n) for n in names - allowed_names(service)),
        missing=sorted(str(n) for n in required_names(service) - names),
        retired=sorted(ring.retired),
    )


def _service(value: str) -> ServiceName:
    if value not in SERVICE_NAMES:
        raise typer.BadParameter(f"unknown service {value!r}; choose one of {', '.join(SERVICE_NAMES)}")
    return value


@app.command("show")
def show_cmd(
    ctx: typer.Context,
    service: Annotated[str, typer.Argument(help=f"The service: {', '.join(SERVICE_NAMES)}.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List the key ids and kinds SERVICE's keyring holds (never key material)."""
    console = Console()
    try:
        report = show_keys(settings_of(ctx), _service(service))
    except ConfigurationError as exc:
        raise _fail(console, str(exc)) from exc
    if as_json:
        typer.echo(json.dumps(report.as_json(), indent=2, ensure_ascii=False))
    else:
        table = Table(title=f"{report.service}: {report.source}")
        for column in ("key", "version", "id", "created", ""):
            table.add_column(column)
        for key in report.keys:
            flag = "[red]must not hold[/red]" if key.name in report.not_allowed else ""
            table.add_row(
                key.name,
                str(key.version),
                key.key_id,
                key.created_at.strftime("%Y-%m-%d %H:%M"),
                flag or ("current" if key.current else ""),
            )
        console.print(table)
        console.print(f"[dim]{KEY_NEEDS[report.service].why}[/dim]")
        for name in report.missing:
            console.print(f"[red]missing:[/red] {name} (the service needs it)")
    if report.not_allowed or report.missing:
        raise typer.Exit(code=_EXIT_ERROR)


# --- rotate (step 1) -------------------------------------------------------------------------------------


@dataclass
class RotationReport:
    """What a rotation added (key ids only; key ids are not secret)."""

    saved_to: str
    rotated: list[str] = field(default_factory=list)
    current: dict[str, str] = field(default_factory=dict)
    written: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        """The summary printed by ``--json``."""
        return {
            "saved_to": self.saved_to,
            "rotated": self.rotated,
            "current_key_ids": self.current,
            "services_written": self.written,
        }


def rotate_keys(
    settings: Settings,
    *,
    kek: bool = True,
    blind_index: bool = False,
    token_root: bool = False,
    sealing: tuple[str, ...] = (),
    links: tuple[str, ...] = (),
    out: Path | None = None,
) -> RotationReport:
    """Step 1: add key versions to every service keyring that holds the keys (or write the set to ``out``).

    Raises:
        ConfigurationError: the keyrings cannot be read or come from variables (give ``out`` and read them
            from files), or a recipient or counterpart is unknown.
    """
    unknown = [r for r in sealing if r not in RECIPIENTS] + [c for c in links if c not in COUNTERPARTS]
    if unknown:
        raise ConfigurationError(f"no key to rotate for {', '.join(unknown)}")
    if not (kek or blind_index or token_root or sealing or links):
        raise ConfigurationError("nothing to rotate: name a key (--kek, --seal R, --link C, ...)")
    if settings.key_env:
        raise ConfigurationError(
            "the keyrings come from environment variables (RENKEI_KEY_ENV), which this command cannot "
            "change: run it with RENKEI_KEY_DIR naming a copy of the keyrings and --out DIR, then put each "
            "service's new file into its variable, the recipients' first"
        )
    whole = deployment_keyring(settings)
    rotated = rotate(
        whole, kek=kek, blind_index=blind_index, token_root=token_root, sealing=sealing, links=links
    )
    names = [
        *(["kek"] if kek else []),
        *(["blind_index"] if blind_index else []),
        *(["token_root"] if token_root else []),
        *(f"seal.{r}" for r in sealing),
        *(f"link.{c}" for c in links),
    ]
    paths = _set_in(out) if out is not None else keyring_paths(settings)
    written = write_deployment(rotated, paths, only_changed=out is None)
    current = {str(n): rotated.series(n).current.key_id for n in rotated.names()}
    return RotationReport(
        saved_to=str(out) if out is not None else "the services' keyrings",
        rotated=names,
        current=current,
        written=list(written),
    )


@app.command("rotate")
def rotate_cmd(
    ctx: typer.Context,
    *,
    kek: Annotated[bool, typer.Option("--kek/--no-kek", help="Add a key-encryption key (default).")] = True,
    blind_index: Annotated[bool, typer.Option("--blind-index", help="Also add a blind-index key.")] = False,
    token_root: Annotated[bool, typer.Option("--token-root", help="Also add a token root key.")] = False,
    seal: Annotated[
        list[str] | None,
        typer.Option("--seal", help="Also add a sealing key pair of this recipient (repeatable)."),
    ] = None,
    link: Annotated[
        list[str] | None,
        typer.Option("--link", help="Also add a link key of this counterpart (repeatable)."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the new set into DIR/<service>/ instead (to install).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary.")] = False,
) -> None:
    """Step 1 of 3: add key versions; running services pick them up without a restart."""
    console = Console()
    try:
        report = rotate_keys(
            settings_of(ctx),
            kek=kek,
            blind_index=blind_index,
            token_root=token_root,
            sealing=tuple(seal or ()),
            links=tuple(link or ()),
            out=out,
        )
    except ConfigurationError as exc:
        raise _fail(console, str(exc)) from exc
    if as_json:
        typer.echo(json.dumps(report.as_json(), indent=2))
        return
    table = Table(title=f"new versions saved to {report.saved_to}")
    table.add_column("key")
    table.add_column("current key id")
    for name in report.rotated:
        key = {"seal": "seal_private"}.get(name.split(".")[0], name.split(".")[0])
        full = f"{key}.{name.split('.', 1)[1]}" if "." in name else key
        table.add_row(name, report.current.get(full, ""))
    console.print(table)
    console.print(f"keyrings written: {', '.join(report.written) or 'none'}")
    console.print("next: `renkei keys rewrap` (step 2), then `renkei keys retire KEY VERSION` (step 3)")


# --- rewrap (step 2) -------------------------------------------------------------------------------------


def rewrap_keys(
    settings: Settings, progress: ProgressCallback | None = None, *, dry_run: bool = False
) -> RewrapReport:
    """Step 2: move data keys, codes and held candidates onto the newest versions (resumable).

    With ``dry_run``, only counts what is left to do (as the report's figures).

    Raises:
        ConfigurationError: the operator's keyring cannot be loaded, or something is under a KEK it lacks.
        SealError: a held candidate does not open with the hub's keys.
    """
    keys = operator_keys(settings)
    hub_key = keys.sealing.for_recipient("hub")
    hub_key_id = hub_key.series().current.key_id if hub_key is not None else None
    tools = OperatorTools(settings, engine=open_database(settings), keys=keys)
    try:
        if dry_run:
            left = rewrap_backlog(tools.engine, keys.vault, hub_key_id)
            return RewrapReport(
                data_keys=left["data_keys"],
                codes=left["codes"],
                holds=left["holds"],
                kek_id=keys.vault.kek.series().current.key_id,
                hub_key_id=hub_key_id,
            )
        return rewrap(
            tools.engine,
            keys.vault,
            sealer=tools.hub_sealer(),
            unsealer=tools.hub_unsealer(),
            hub_key_id=hub_key_id,
            progress=progress,
        )
    finally:
        tools.close()


@contextmanager
def _bars(console: Console, enabled: bool) -> Iterator[ProgressCallback | None]:
    if not enabled:
        yield None
        return
    labels = {"data_keys": "data keys re-wrapped", "codes": "codes re-encrypted", "holds": "holds re-sealed"}
    with stage_bars(console, labels) as tick:
        yield tick


@app.command("rewrap")
def rewrap_cmd(
    ctx: typer.Context,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only count what is left to do.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary (no progress bar).")] = False,
) -> None:
    """Step 2 of 3: re-wrap data keys, codes and held numbers under the newest versions (resumable)."""
    console = Console()
    err = Console(stderr=True)
    try:
        with _bars(err, not as_json) as tick:
            report = rewrap_keys(settings_of(ctx), tick, dry_run=dry_run)
    except (ConfigurationError, SealError) as exc:
        raise _fail(console, str(exc)) from exc
    except DATABASE_FAILURES as exc:
        raise _fail(
            console,
            f"the database failed ({type(exc).__name__}); is the schema current? Run again: what is done "
            "stays done",
        ) from exc
    if as_json:
        typer.echo(json.dumps({**report.as_json(), "dry_run": dry_run}))
        return
    verb = "left to re-wrap" if dry_run else "re-wrapped"
    console.print(
        f"{verb}: {report.data_keys} data key(s), {report.codes} code(s), {report.holds} hold(s); "
        f"no number left memory"
    )


# --- retire (step 3) -------------------------------------------------------------------------------------


_KEY_ALIASES: Final = {
    "seal": KeyKind.SEAL_PRIVATE,
    "seal_private": KeyKind.SEAL_PRIVATE,
    "seal-v1": KeyKind.SEAL_V1,
}


def parse_key(text: str) -> KeyName:
    """``kek``, ``seal.R`` (a sealing key pair), ``seal_v1.R`` (format v1 keys) or ``link.C``.

    Raises:
        ConfigurationError: another key, or a kind that cannot be retired.
    """
    kind, _, owner = text.partition(".")
    name = KeyName(_KEY_ALIASES[kind], owner) if kind in _KEY_ALIASES else KeyName.parse(text)
    if name.kind not in (KeyKind.KEK, KeyKind.SEAL_PRIVATE, KeyKind.SEAL_V1, KeyKind.LINK):
        raise ConfigurationError(
            f"{name} versions are not retired: rows indexed or tokens made under them would be lost "
            "(retire kek, seal.R, seal_v1.R or link.C)"
        )
    return name


class KeyInUse(Exception):
    """A version cannot be retired yet: something still needs it (see :attr:`report`)."""

    def __init__(self, report: RetireReport) -> None:
        super().__init__(f"{report.key} version(s) {report.versions} still in use")
        self.report = report


@dataclass
class RetireReport:
    """What a retirement found and did."""

    key: str
    versions: list[int]
    usage: list[KeyUsage] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def in_use(self) -> bool:
        """Whether anything still needs a version (or the grace period has not passed)."""
        return bool(self.waiting) or any(u.total for u in self.usage)

    def as_json(self) -> dict[str, object]:
        """The JSON form."""
        return {
            "key": self.key,
            "versions": self.versions,
            "in_use": self.in_use,
            "usage": [u.as_json() for u in self.usage],
            "waiting": self.waiting,
            "retired_key_ids": self.retired,
            "dry_run": self.dry_run,
        }


def _versions(whole: Keyring, name: KeyName, version: str) -> list[int]:
    series = whole.series(name)
    if version == "all":
        if name.kind is not KeyKind.SEAL_V1:
            raise ConfigurationError("only seal_v1 keys retire all at once (the end of the migration window)")
        return [v.version for v in series.versions]
    try:
        number = int(version)
    except ValueError:
        raise ConfigurationError(f"VERSION is a number (or 'all' for seal_v1), not {version!r}") from None
    return [number]


def _superseded_at(whole: Keyring, name: KeyName, version: int) -> datetime | None:
    """When a newer key took over from ``version`` (``None``: none has)."""
    if name.kind is KeyKind.SEAL_V1:
        pairs = whole.get(KeyName(KeyKind.SEAL_PRIVATE, name.owner))
        return pairs.versions[0].created_at if pairs and pairs.versions else None
    newer = [v for v in whole.series(name).versions if v.version > version]
    return newer[0].created_at if newer else None


def retire_key(
    settings: Settings,
    key: str,
    version: str,
    *,
    grace: timedelta = timedelta(seconds=DEFAULT_GRACE_S),
    dry_run: bool = False,
    transports: TransportFactory | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> RetireReport:
    """Step 3: destroy versions of ``key`` in every keyring, once nothing uses them.

    Raises:
        KeyInUse: something still needs a version, or a newer one took over less than ``grace`` ago.
        ConfigurationError: no such key or version, the current version, or keyrings that cannot be changed.
        BrokerUnavailable: the queues could not be counted.
    """
    name = parse_key(key)
    paths = keyring_paths(settings)
    whole = deployment_keyring(settings)
    versions = _versions(whole, name, version)
    report = RetireReport(str(name), versions, dry_run=dry_run)
    series = whole.series(name)
    engine = open_database(settings)
    try:
        for number in versions:
            held = series.by_version(number)
            if held is None:
                raise ConfigurationError(f"the {name} key has no version {number}")
            if held is series.versions[-1] and name.kind is not KeyKind.SEAL_V1:
                raise ConfigurationError(
                    f"version {number} is the current {name} key: add a newer one first "
                    "(`renkei keys rotate`)"
                )
            since = _superseded_at(whole, name, number)
            if since is not None and now() - since < grace:
                left = int((grace - (now() - since)).total_seconds()) + 1
                report.waiting.append(
                    f"version {number} was superseded {int((now() - since).total_seconds())} s ago; wait "
                    f"{left} s more (--grace), so that everything sealed just before has been handled"
                )
            with engine.connect() as conn:
                usage = usage_in_store(conn, name, held.key_id)
            _count_queues(settings, name, usage, transports)
            report.usage.append(usage)
    finally:
        engine.dispose()
    if report.in_use:
        raise KeyInUse(report)
    if dry_run:
        return report
    ring = whole
    for number in versions:
        ring, key_id = retire(ring, name, number)
        report.retired.append(key_id)
    write_deployment(ring, paths)
    return report


def _count_queues(
    settings: Settings, name: KeyName, usage: KeyUsage, transports: TransportFactory | None
) -> None:
    queues = queues_carrying(Names(settings.exchange_prefix), name, settings.retry.delays_ms)
    if not queues:
        return
    made = transports or pika_transports(settings)
    transport = made("operator", "keys")
    try:
        for queue in queues:
            try:
                ready, _ = transport.queue_depth(queue)
            except ConfigurationError:
                continue  # not declared: nothing waits there
            if ready:
                usage.counts[f"messages waiting in {queue}"] = ready
    finally:
        transport.close()


def _print_usage(console: Console, report: RetireReport) -> None:
    table = Table(title=f"what still needs {report.key}")
    for column in ("key id", "where", "count"):
        table.add_column(column)
    for usage in report.usage:
        for place, count in usage.counts.items():
            if count:
                table.add_row(usage.key_id, place, f"{count:,}")
    console.print(table)
    for line in report.waiting:
        console.print(f"[yellow]{line}[/yellow]")


@app.command("retire")
def retire_cmd(
    ctx: typer.Context,
    key: Annotated[
        str, typer.Argument(help="kek, seal.R (sealing key pair), seal_v1.R (format v1) or link.C.")
    ],
    version: Annotated[str, typer.Argument(help="The version to destroy (or 'all' for seal_v1.R).")],
    *,
    grace: Annotated[
        int, typer.Option("--grace", min=0, help="Seconds a newer version must have been in force.")
    ] = DEFAULT_GRACE_S,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only count what still needs it.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Step 3 of 3: destroy an old key version in every keyring once nothing uses it (refused with counts)."""
    console = Console()
    try:
        report = retire_key(settings_of(ctx), key, version, grace=timedelta(seconds=grace), dry_run=dry_run)
    except KeyInUse as exc:
        if as_json:
            typer.echo(json.dumps(exc.report.as_json(), indent=2))
        else:
            _print_usage(console, exc.report)
            console.print(
                "[red]refused:[/red] the version is still needed; replay or discard the dead letters, let "
                "the queues drain, run `renkei keys rewrap`, then try again"
            )
        raise typer.Exit(code=_EXIT_IN_USE) from None
    except (ConfigurationError, BrokerUnavailable) as exc:
        raise _fail(console, str(exc)) from exc
    except DATABASE_FAILURES as exc:
        raise _fail(console, f"the database failed ({type(exc).__name__}); nothing was destroyed") from exc
    if as_json:
        typer.echo(json.dumps(report.as_json(), indent=2))
    elif dry_run:
        console.print(
            f"{report.key} version(s) {report.versions}: nothing needs them; retire them without --dry-run"
        )
    else:
        console.print(
            f"destroyed {report.key} {', '.join(report.retired)} in every keyring; backups older than this "
            "hold data no key can open any more (docs/keys.md)"
        )
