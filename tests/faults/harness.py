"""A process harness: renkei's services as real processes, killed and restarted by the tests.

:class:`Deployment` runs ``renkei run hub``, ``renkei run adapter jlis``, ``renkei run adapter pension``
and ``renkei run simulator jlis --records N`` as subprocesses, each with ``RENKEI_*`` taken from the test's
settings and its output in a log file under the test's directory (``<service>.<generation>.log``). The test
process prepares the database and the vault (the demo population) before the services start, and the broker
as a deploy job does (the services neither declare nor create anything): given a broker admin, it creates
every service's own broker user first (per-service identity, one ``rabbitmqctl import_definitions``) and
deletes them at the end. It drops the survival request the way the pension system does
(:class:`hub.demo.survival.SurvivalFlow`), and counts outcome rows to know how far the flow got. Every
wait has a deadline; :meth:`Deployment.close` ends every process it started (the fixtures always call it).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pika
import pika.exceptions
from sqlalchemy import create_engine, func, select
from sqlalchemy.pool import NullPool

from contracts.errors import RenkeiError
from contracts.messages.survival import SurvivalOutcome
from contracts.usage_number import UsageNumber
from hub.bootstrap.broker_identity import establish_identity
from hub.demo.deployment import LocalDeployment, local_deployment
from hub.demo.flow import DemoFlow
from hub.demo.survival import SurvivalFlow
from hub.infra.broker.users import BrokerAdmin, delete_users
from hub.infra.db.tables.audit import access_records
from hub.infra.db.tables.messaging import inbox, outbox
from hub.settings import Settings

__all__ = [
    "Deployment",
    "FlowReport",
    "ServiceProcess",
    "assert_every_record_once",
    "renkei_command",
    "service_env",
]

SERVICES = ("hub", "jlis", "pension", "simulator")
_STOP_GRACE_S = 15.0
_KILL_WAIT_S = 10.0


def renkei_command() -> list[str]:
    """The ``renkei`` entry point of the interpreter running the tests."""
    script = Path(sys.executable).parent / "renkei"
    return [str(script)] if script.exists() else [sys.executable, "-m", "hub.cli.main"]


def service_env(settings: Settings) -> dict[str, str]:
    """The environment of a service process: the test's settings as ``RENKEI_*`` and nothing else of ours.

    The broker identity is the test's; the services prepare nothing (the test process did, as the operator).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("RENKEI_")}
    env.update(
        RENKEI_AMQP_URL=settings.amqp_url,
        RENKEI_BROKER_IDENTITY=settings.broker_identity.value,
        RENKEI_DECLARE_TOPOLOGY="false",
        RENKEI_DATA_DIR=str(settings.data_dir),
        RENKEI_EXCHANGE_PREFIX=settings.exchange_prefix,
        RENKEI_PREFETCH=str(settings.prefetch),
        RENKEI_BATCH_SIZE=str(settings.batch_size),
        RENKEI_BATCH_WAIT_MS=str(settings.batch_wait_ms),
        RENKEI_CHUNK_RECORDS=str(settings.chunk_records),
        RENKEI_LOG_LEVEL=settings.log_level,
        RENKEI_LOG_JSON="true" if settings.log_json else "false",
        RENKEI_RETRY_MAX_ATTEMPTS=str(settings.retry.max_attempts),
        RENKEI_RETRY_DELAYS_MS=json.dumps(list(settings.retry.delays_ms)),
        RENKEI_RETRY_DELIVERY_LIMIT=str(settings.retry.delivery_limit),
        PYTHONUNBUFFERED="1",
    )
    if settings.db_url:
        env["RENKEI_DB_URL"] = settings.db_url
    return env


_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux for SIGKILL when the parent (pytest) dies."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclass
class ServiceProcess:
    """One renkei service as a subprocess; each (re)start is a new generation with its own log file."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_dir: Path
    proc: subprocess.Popen[bytes] | None = None
    generation: int = 0
    kills: int = 0
    exit_codes: list[int] = field(default_factory=list)

    @property
    def log_path(self) -> Path:
        """The current generation's log file."""
        return self.log_dir / f"{self.name}.{self.generation}.log"

    def start(self) -> None:
        """Start a new generation (the previous one must have ended)."""
        if self.alive():
            raise RuntimeError(f"{self.name} is already running")
        self.generation += 1
        with self.log_path.open("wb") as out:
            # Its own session, so that a Ctrl-C meant for pytest does not reach it; and a parent-death
            # signal, so that it dies with pytest even when pytest dies before its fixtures clean up.
            self.proc = subprocess.Popen(
                self.argv,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.log_dir,
                start_new_session=True,
                preexec_fn=_die_with_parent,  # noqa: PLW1509 - no threads start before it runs
            )

    def alive(self) -> bool:
        """Whether the current generation runs."""
        return self.proc is not None and self.proc.poll() is None

    def _reap(self, timeout_s: float) -> None:
        assert self.proc is not None
        code = self.proc.wait(timeout=timeout_s)
        self.exit_codes.append(code)
        self.proc = None

    def kill(self) -> None:
        """SIGKILL the current generation and reap it."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.kills += 1
        self._reap(_KILL_WAIT_S)

    def restart(self) -> None:
        """SIGKILL, then start a new generation."""
        self.kill()
        self.start()

    def terminate(self) -> None:
        """Ask the current generation to stop cleanly (SIGTERM); :meth:`stop` waits for it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def stop(self, grace_s: float = _STOP_GRACE_S) -> None:
        """SIGTERM (a clean stop), SIGKILL after ``grace_s``."""
        if self.proc is None:
            return
        self.terminate()
        try:
            self.proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
        self._reap(_KILL_WAIT_S)

    def tail(self, lines: int = 15) -> str:
        """The last lines of the current generation's log."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass(frozen=True)
class FlowReport:
    """The end state of a flow: what the pension system received, and what the access record says."""

    sent: int
    distinct: int
    rows: int
    outcomes: dict[str, int]
    wrong_outcomes: int
    duplicated_audit: list[tuple[str, str, int]]
    audit_actions: dict[str, int]
    inbox_rows: int
    pending_outbox: int

    @property
    def lost(self) -> int:
        """Records without an outcome row."""
        return self.sent - self.distinct

    @property
    def duplicates(self) -> int:
        """Outcome rows beyond one per record."""
        return self.rows - self.distinct


class Deployment:
    """The survival/change flow across four processes, on the test's broker names and data directory.

    Args:
        settings: the test's settings (broker URL, prefix, data directory, database URL).
        records: size of the synthetic population and of the request file.
        log_dir: where the services' logs go.
        services: which services to run (:data:`SERVICES`, and optionally the ``intermediate_server``,
            ``eltax``, ``nta`` and ``implementing_bodies`` adapters and their simulators,
            ``simulator-<adapter>``).
        flow: the demo flow to run (the survival inquiry by default).
        admin: where to create every service's broker user (per-service identity), deleted again by
            :meth:`close`; ``None``: none are created (the settings' identity must then be shared).
    """

    def __init__(
        self,
        settings: Settings,
        records: int,
        log_dir: Path,
        services: tuple[str, ...] = SERVICES,
        flow: Callable[[], DemoFlow] = SurvivalFlow,
        admin: BrokerAdmin | None = None,
    ) -> None:
        settings, self.identity = establish_identity(settings, create_users=admin is not None, admin=admin)
        self._broker_admin = admin
        self.settings = settings
        self.records = records
        self.log_dir = log_dir
        log_dir.mkdir(parents=True, exist_ok=True)
        self.hub: LocalDeployment = local_deployment(settings, configure_logs=False)
        # Reads of the test process take no lock: the hub's engine begins every SQLite transaction with
        # BEGIN IMMEDIATE (the write lock), which polling would take from the hub many times a second.
        self._reader = create_engine(settings.database_url, poolclass=NullPool)
        self.flow = flow()
        env = service_env(settings)
        base = renkei_command()
        argv = {
            "hub": [*base, "run", "hub"],
            "jlis": [*base, "run", "adapter", "jlis"],
            "pension": [*base, "run", "adapter", "pension"],
            "simulator": [*base, "run", "simulator", "jlis", "--records", str(records)],
            "intermediate_server": [*base, "run", "adapter", "intermediate_server"],
            "eltax": [*base, "run", "adapter", "eltax"],
            "nta": [*base, "run", "adapter", "nta"],
            "implementing_bodies": [*base, "run", "adapter", "implementing_bodies"],
            **{
                f"simulator-{name}": [*base, "run", "simulator", name, "--records", str(records)]
                for name in ("intermediate_server", "eltax", "nta", "implementing_bodies")
            },
        }
        self.services = {name: ServiceProcess(name, argv[name], env, log_dir) for name in services}
        self.events: list[str] = []
        self.verified: dict[str, object] | None = None
        """What ``renkei audit verify`` said at the end (:func:`assert_every_record_once` asks it once)."""
        self._admin: pika.BlockingConnection | None = None
        self._t0 = time.monotonic()

    # -- life cycle --------------------------------------------------------------------------------

    def prepare(self) -> None:
        """Migrate, declare the topology and enrol the demo population in the vault (before any service)."""
        self.hub.prepare()
        self.flow.prepare(self.hub, self.records)

    def start(self, *names: str) -> None:
        """Start the named services (all by default)."""
        for name in names or tuple(self.services):
            self.services[name].start()
            self.note(f"start {name} (generation {self.services[name].generation})")

    def drop_request(self) -> None:
        """The pension system sends its requests (for the survival inquiry: a file in its directory)."""
        self.flow.start(self.hub, self.records)
        self.note(f"{self.flow.name} started: {self.flow.sent()} records")

    def kill(self, name: str) -> None:
        """SIGKILL a service (it stays down)."""
        self.services[name].kill()
        self.note(f"SIGKILL {name} at {self.completed()} outcomes")

    def restart(self, name: str) -> None:
        """SIGKILL a service and start it again at once."""
        self.kill(name)
        self.services[name].start()
        self.note(f"start {name} (generation {self.services[name].generation})")

    def stop_all(self) -> None:
        """Stop every service cleanly, all at once (SIGTERM; SIGKILL after a grace period)."""
        for service in self.services.values():
            service.terminate()
        for service in self.services.values():
            service.stop()
        self.note("every service stopped")

    def close(self) -> None:
        """End every process this deployment started and release the test process's connections."""
        for service in self.services.values():
            with contextlib.suppress(Exception):
                service.kill()
        self.hub.close()
        self._reader.dispose()
        if self._admin is not None and self._admin.is_open:
            with contextlib.suppress(pika.exceptions.AMQPError):
                self._admin.close()
        if self.identity.users_created and self._broker_admin is not None:
            # Best effort: a test may leave the broker stopped; a private node is removed anyway.
            with contextlib.suppress(RenkeiError, subprocess.TimeoutExpired):
                delete_users(self.settings, admin=self._broker_admin)

    def note(self, event: str) -> None:
        """Keep a timestamped event for the failure message and the test's report."""
        self.events.append(f"{time.monotonic() - self._t0:7.2f}s {event}")

    # -- progress ----------------------------------------------------------------------------------

    def completed(self) -> int:
        """Distinct records with an outcome row so far."""
        return self.flow.completed()

    def died(self) -> list[str]:
        """Services whose current generation ended by itself."""
        return [s.name for s in self.services.values() if s.proc is not None and not s.alive()]

    def wait_until(
        self, condition: Callable[[], bool], what: str, timeout_s: float, poll_s: float = 0.05
    ) -> None:
        """Wait (bounded) for ``condition``; fail with the state of every service if it does not come."""
        deadline = time.monotonic() + timeout_s
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout_s}s waiting for {what}\n{self.diagnosis()}")
            dead = self.died()
            if dead:
                raise AssertionError(f"{', '.join(dead)} exited while waiting for {what}\n{self.diagnosis()}")
            time.sleep(poll_s)

    def wait_completed(self, at_least: int, timeout_s: float) -> int:
        """Wait until ``at_least`` records have an outcome; returns how many have.

        To wait for the end of a flow pass ``self.flow.sent()``, not the population's size: a survival
        inquiry also asks about spouses and dependants (more records than people), and a test that waits
        for the population's size alone can check its end state while the last chunk is still on its way.
        """
        seen = 0

        def reached() -> bool:
            nonlocal seen
            seen = self.completed()
            return seen >= at_least

        self.wait_until(reached, f"{at_least} of {self.flow.sent()} outcomes", timeout_s, poll_s=0.1)
        return seen

    def hub_handled(self) -> int:
        """Messages the hub has handled (its inbox rows)."""
        with self._reader.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(inbox)).scalar_one())

    def queue_depth(self, queue: str) -> int:
        """Messages ready in ``queue`` (a passive declaration on a connection of the test's own)."""
        if self._admin is None or not self._admin.is_open:
            self._admin = pika.BlockingConnection(pika.URLParameters(self.settings.amqp_url))
        frame = self._admin.channel().queue_declare(queue, passive=True)
        ready = frame.method.message_count
        assert ready is not None, "Queue.DeclareOk carries the message count"
        return ready

    def ingress_depth(self) -> int:
        """Messages waiting on the hub's ingress queue."""
        return self.queue_depth(self.hub.names.ingress_queue)

    def request_taken(self) -> bool:
        """Whether the pension adapter acknowledged the request file (moved it to ``processed/``)."""
        processed = self.settings.wire_dir / "pension" / "processed"
        return any(processed.glob(f"*{self.flow.batch_id}*.csv"))

    def diagnosis(self) -> str:
        """Events, services and the last lines of each service's log."""
        parts = ["events:", *self.events, f"outcomes: {self.completed()} of {self.flow.sent()}"]
        for service in self.services.values():
            code = service.proc.poll() if service.proc is not None else None
            state = "running" if service.alive() else f"ended with {code}, earlier {service.exit_codes}"
            parts.append(f"--- {service.name} generation {service.generation} ({state}):")
            parts.append(service.tail())
        return "\n".join(parts)

    # -- the end state -----------------------------------------------------------------------------

    def report(self) -> FlowReport:
        """Read the outcome files and the access record (call after the services stopped)."""
        if not isinstance(self.flow, SurvivalFlow):
            counts = self.flow.finish()  # what reached the pension system, duplicates included
            return self._report(
                counts.completed, counts.completed + counts.duplicates, dict(counts.outcomes), wrong=0
            )
        population = self.hub.population(self.records)
        rows = self.hub.pension_system().read_outcomes(self.flow.batch_id)
        wrong = 0
        for row in rows:
            usage = UsageNumber(kind=row.usage_number_kind, value=row.usage_number)
            if row.record_seq > self.records:
                # After the population come the dependants the request names by mistake (SurvivalFlow.
                # mistaken, in request order): the hub refuses them with a reason, J-LIS never sees them.
                mistaken = self.flow.mistaken
                slot = row.record_seq - self.records - 1
                if not (
                    slot < len(mistaken)
                    and mistaken[slot] == usage
                    and row.outcome is SurvivalOutcome.NOT_PERMITTED
                    and row.not_permitted_reason is not None
                    and (row.death_date, row.move_kind) == (None, None)
                ):
                    wrong += 1
                continue
            # Rows are numbered from 1 in population order (SurvivalFlow.start).
            index = population.index_of_usage_number(usage)
            if index is None or index != row.record_seq - 1:
                wrong += 1
                continue
            want = population.expected_outcome(index, self.flow.cycle)
            if (row.outcome, row.death_date, row.move_kind) != (
                want.outcome,
                want.death_date,
                want.move_kind,
            ):
                wrong += 1
        outcomes = dict(Counter(str(row.outcome) for row in rows))
        return self._report(len({row.record_seq for row in rows}), len(rows), outcomes, wrong=wrong)

    def _report(self, distinct: int, rows: int, outcomes: dict[str, int], *, wrong: int) -> FlowReport:
        with self._reader.connect() as conn:
            # The same effect recorded twice: one message, one action, the same details (a message may
            # have many records of one action, one per person or query, each with its own details).
            r = access_records.c
            duplicated = [
                (str(row[0]), str(row[1]), int(row[2]))
                for row in conn.execute(
                    select(r.message_id, r.action, func.count())
                    .group_by(r.message_id, r.action, r.details)
                    .having(func.count() > 1)
                )
            ]
            actions: dict[str, int] = dict(
                conn.execute(
                    select(access_records.c.action, func.count()).group_by(access_records.c.action)
                ).all()
            )
            inbox_rows = int(conn.execute(select(func.count()).select_from(inbox)).scalar_one())
            pending = int(
                conn.execute(
                    select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))
                ).scalar_one()
            )
        return FlowReport(
            sent=self.flow.sent(),
            distinct=distinct,
            rows=rows,
            outcomes=outcomes,
            wrong_outcomes=wrong,
            duplicated_audit=duplicated,
            audit_actions={str(k): int(v) for k, v in actions.items()},
            inbox_rows=inbox_rows,
            pending_outbox=pending,
        )

    def audit_verify(self) -> dict[str, object]:
        """Run ``renkei audit verify --json`` as an operator would; returns its report (exit code too)."""
        result = subprocess.run(
            [*renkei_command(), "audit", "verify", "--json"],
            env=service_env(self.settings),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=self.log_dir,
        )
        try:
            report: dict[str, object] = json.loads(result.stdout)
        except json.JSONDecodeError:
            report = {"stdout": result.stdout[-2000:]}
        report["exit_code"] = result.returncode
        report["stderr"] = result.stderr[-2000:]
        return report

    def log_count(self, name: str, event: str) -> int:
        """How many log lines of every generation of service ``name`` name ``event``."""
        needle = f'"event": "{event}'
        count = 0
        for path in sorted(self.log_dir.glob(f"{name}.*.log")):
            with path.open(encoding="utf-8", errors="replace") as stream:
                count += sum(1 for line in stream if needle in line)
        return count


def assert_every_record_once(deployment: Deployment) -> FlowReport:
    """Stop the services, then check the end state: every record once, the access record intact.

    * every record has exactly one outcome row, with the outcome the synthetic register says, and every
      dependant the request names by mistake ``not_permitted`` with a reason (lost 0,
      duplicates 0 in the outcome files);
    * no effect is recorded twice: no two access records of one message and action with the same details
      (in the survival flow: one RECEIVED per handled message, one ENRICHED and one ROUTED per message
      sent on);
    * nothing was dead-lettered, and ``renkei audit verify`` passes.
    """
    deployment.stop_all()
    report = deployment.report()
    where = f"\n{report}\n{deployment.diagnosis()}"
    assert report.lost == 0, f"{report.lost} records lost{where}"
    assert report.duplicates == 0, f"{report.duplicates} duplicated outcome rows{where}"
    assert report.wrong_outcomes == 0, f"{report.wrong_outcomes} wrong outcomes{where}"
    assert report.duplicated_audit == [], f"duplicated access records{where}"
    if isinstance(deployment.flow, SurvivalFlow):  # one RECEIVED per handled message in this flow
        assert report.audit_actions.get("received") == report.inbox_rows, f"RECEIVED ≠ handled{where}"
    assert "dead_lettered" not in report.audit_actions, f"something was dead-lettered{where}"
    verified = deployment.verified = deployment.audit_verify()
    assert verified["exit_code"] == 0, f"renkei audit verify failed: {verified}"
    assert verified.get("ok") is True, f"renkei audit verify: {verified}"
    deployment.note(
        f"verified: {report.distinct} records once, {sum(report.audit_actions.values())} access records, "
        f"{verified.get('records_checked')} checked by audit verify"
    )
    return report
