"""One typed settings object, read once at start-up and passed down.

Every setting comes from the environment with the ``RENKEI_`` prefix (``RENKEI_AMQP_URL``,
``RENKEI_DB_URL``, ...), or from an explicit override in code and tests. Nothing else reads ``os.environ``.
No secret has a default: keys come from files or environment variables *named* here; in development every
service's keyring is generated under the data directory on first run (see
:mod:`hub.infra.keys.keyring_files`).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "BULK_MESSAGE_TYPES",
    "ApprovalSettings",
    "BodyLimitSettings",
    "BrokerIdentity",
    "BrokerSettings",
    "ConsoleSettings",
    "Environment",
    "RetrySettings",
    "Settings",
]

_MIB = 1024 * 1024
_BODY_LIMIT_RANGE = (64 * 1024, 512 * _MIB)  # RabbitMQ's own max_message_size cannot exceed 512 MiB

BULK_MESSAGE_TYPES = (
    "pension.survival_inquiry.requested",
    "pension.survival_check.outcomes",
    "pension.number_acquisition.requested",
    "pension.number_acquisition.outcome",
    "pension.dependants_declaration.submitted",
    "pension.dependants_declaration.acknowledged",
    "pension.payment_report.requested",
    "pension.tokucho.instructions",
    "pension.eltax.outcomes",
    "pension.withholding_slip.requested",
    "jlis.survival_change.inquiry",
    "jlis.survival_change.result",
    "jlis.number_acquisition.query",
    "jlis.number_acquisition.result",
    "jlis.file",
    "eltax.file",
    "nta.withholding_slip.submission",
    "nta.file",
    "pension.claim_forwarding.requested",
    "implementing_bodies.claim.forwarding",
    "implementing_bodies.file",
)
"""The bulk kinds of the pension flows: a chunk of up to 50,000 records of a pension file, the J-LIS,
eLTAX and National Tax Agency messages and files made of one, and their answers."""


class Environment(StrEnum):
    """Where renkei runs: development may generate keys, production must be given them."""

    DEVELOPMENT = "development"
    PRODUCTION = "production"


class RetrySettings(BaseSettings):
    """Back-off for transient failures, through the delayed-retry queues."""

    model_config = SettingsConfigDict(env_prefix="RENKEI_RETRY_", frozen=True)

    max_attempts: int = Field(5, ge=1, le=50, description="attempts before a transient failure dead-letters")
    delays_ms: tuple[int, ...] = Field(
        (1_000, 5_000, 30_000, 120_000, 600_000),
        description="delay of each retry tier; attempt n waits delays_ms[min(n, len) - 1]",
    )
    delivery_limit: int = Field(
        20, ge=1, le=100, description="x-delivery-limit of every quorum work queue (crash loops dead-letter)"
    )


class BrokerIdentity(StrEnum):
    """How renkei's services log in to the broker."""

    SHARED = "shared"
    """Every service uses the credentials of the AMQP URL (``guest`` on a development broker). The broker then
    proves nobody: the hub checks only what a message's envelope claims. An explicit opt-out for development
    and tests that do not care who sends; refused in production."""
    PER_SERVICE = "per_service"
    """Each service logs in as its own user, ``{prefix}-{service}``, allowed only its own queues; the hub
    believes the user the broker proves (Validated User-ID). The default everywhere; the only choice in
    production. In development the users are created on start (``hub.bootstrap.broker_identity``)."""


class BrokerSettings(BaseSettings):
    """Broker log-in per service (:mod:`hub.infra.broker.credentials`)."""

    model_config = SettingsConfigDict(env_prefix="RENKEI_BROKER_", frozen=True)

    identity: BrokerIdentity | None = Field(
        None,
        description=(
            "per_service (each service its own broker user) or shared (every service the AMQP URL's user). "
            "Unset: per_service; in development, if the broker users cannot be created (no rabbitmqctl "
            "access and no management URL), shared, with a warning. Production refuses shared"
        ),
    )
    password_file: str | None = Field(
        None,
        description=(
            "production: file holding this service's broker password; '{service}' in the path is replaced by "
            "the service name (hub, adapter-jlis, ...). Without it the AMQP URL's own credentials are used, "
            "and must name the service's user"
        ),
    )
    management_url: str = Field(
        "",
        description=(
            "RabbitMQ management API (http://host:15672) for `renkei topology users`; empty: use rabbitmqctl"
        ),
    )


class BodyLimitSettings(BaseSettings):
    """How large a message body may be. A larger one is dead-lettered unread, reason ``too_large``.

    Every consumer applies them before decoding (:mod:`hub.core.runtime.body_limits`); keep the broker's
    ``max_message_size`` (``docker/rabbitmq/rabbitmq.conf``) at least as large as the largest. A chunk of
    ``chunk_records`` records takes about 150-300 bytes a record: raise the bulk limits with it.
    """

    model_config = SettingsConfigDict(env_prefix="RENKEI_BODY_LIMIT_", frozen=True)

    default_bytes: int = Field(
        4 * _MIB,
        ge=_BODY_LIMIT_RANGE[0],
        le=_BODY_LIMIT_RANGE[1],
        description="largest body of a message type without a limit of its own (4 MiB)",
    )
    per_type: dict[str, int] = Field(
        default_factory=lambda: dict.fromkeys(BULK_MESSAGE_TYPES, 32 * _MIB),
        description=(
            "largest body by message type, as JSON {type: bytes}; replaces the defaults (32 MiB for the "
            "bulk kinds of the pension flows) when set"
        ),
    )

    kept_bytes: int = Field(
        64 * 1024,
        ge=1024,
        le=_BODY_LIMIT_RANGE[1],
        description=(
            "how much of a refused body's beginning its dead letter keeps (64 KiB; never more than its "
            "limit); what a consumer holds of each refused body it has taken from the broker"
        ),
    )

    @field_validator("per_type")
    @classmethod
    def _in_range(cls, value: dict[str, int]) -> dict[str, int]:
        low, high = _BODY_LIMIT_RANGE
        for message_type, limit in value.items():
            if not low <= limit <= high:
                raise ValueError(f"the body limit of {message_type} must be between {low} and {high} bytes")
        return value

    @property
    def largest(self) -> int:
        """The largest limit of any message type."""
        return max([self.default_bytes, *self.per_type.values()])


class ConsoleSettings(BaseSettings):
    """The operator console (``renkei console``): where it listens, who may sign in, how long history is kept.

    There are no default users and no default secrets: without ``users_file`` the console refuses to start.
    The session secret comes from ``session_secret_file``; in development it is generated on first run under
    ``data_dir/keys`` (owner-only), in production it must be given.
    """

    model_config = SettingsConfigDict(env_prefix="RENKEI_CONSOLE_", frozen=True)

    host: str = Field("127.0.0.1", description="address the console listens on (loopback by default)")
    port: int = Field(8480, ge=1, le=65_535, description="port the console listens on")
    users_file: Path | None = Field(
        None, description="TOML file of console users (name, role, org, password or token hash); required"
    )
    session_secret_file: Path | None = Field(
        None, description="file holding the session-signing secret; generated under data_dir in development"
    )
    session_hours: float = Field(8.0, gt=0, le=24, description="how long a sign-in lasts")
    history_days: int = Field(30, ge=1, le=400, description="days of per-minute flow samples kept")
    sample_interval_s: float = Field(10.0, ge=1, le=300, description="how often flow metrics are sampled")


class ApprovalSettings(BaseSettings):
    """Four eyes (二者承認): how long a request waits, and how many numbers a person may reveal a day."""

    model_config = SettingsConfigDict(env_prefix="RENKEI_APPROVAL_", frozen=True)

    ttl_minutes: int = Field(
        30, ge=1, le=1_440, description="minutes a request waits for approval, and an approval for its use"
    )
    reveals_per_day: int = Field(
        10, ge=1, le=1_000, description="numbers one person may reveal in a day (Japan's calendar day)"
    )


class Settings(BaseSettings):
    """Everything renkei needs to start, with sensible defaults for the embedded set-up."""

    model_config = SettingsConfigDict(env_prefix="RENKEI_", frozen=True, extra="ignore")

    environment: Environment = Environment.DEVELOPMENT
    amqp_url: str = Field(
        "amqp://guest:guest@127.0.0.1:5672/%2F",
        description="AMQP URL of the broker; amqps:// with ssl_options for TLS",
    )
    amqp_urls: str = Field(
        "",
        description=(
            "several AMQP URLs, comma-separated, one per cluster node; when set it replaces amqp_url. "
            "A connection goes to the first that answers and moves on to the next when it is lost"
        ),
    )
    data_dir: Path = Field(Path("./var"), description="where the embedded database, keys and files live")
    db_url: str = Field("", description="SQLAlchemy URL; empty means an SQLite file under data_dir")
    key_dir: Path | None = Field(
        None,
        description=(
            "directory of the services' keyrings, <key_dir>/<service>/keyring.json each (default "
            "data_dir/keys); generated there in development"
        ),
    )
    key_file: Path | None = Field(
        None,
        description=(
            "this service's keyring file (JSON) instead; '{service}' in the path is replaced by the service "
            "name (hub, adapter-jlis, ...)"
        ),
    )
    key_env: str | None = Field(
        None,
        description=(
            "name of an environment variable that holds this service's keyring JSON, instead of a file; "
            "'{SERVICE}' in the name is replaced by the service name in capitals, '-' as '_' (ADAPTER_JLIS)"
        ),
    )
    audit_signing_key_file: Path | None = Field(
        None, description="Ed25519 private key (PEM) that signs audit checkpoints; generated in development"
    )
    exchange_prefix: str = Field("renkei", description="prefix of every exchange and queue name")
    prefetch: int = Field(500, ge=1, le=10_000, description="unacknowledged deliveries per consumer")
    batch_size: int = Field(200, ge=1, le=5_000, description="deliveries handled in one database transaction")
    batch_wait_ms: int = Field(20, ge=0, le=5_000, description="how long a consumer waits to fill a batch")
    chunk_records: int = Field(1_000, ge=1, le=50_000, description="records per message on bulk flows")
    declare_topology: bool = Field(
        True,
        description=(
            "prepare the broker at start: declare exchanges and queues (in development with per-service "
            "identity also create or update the broker users, and declare as the operator); false where a "
            "deploy job does it (production)"
        ),
    )
    migrate_on_start: bool = Field(
        True, description="run database migrations when the hub starts; false where a deploy job does it"
    )
    log_level: str = "INFO"
    log_json: bool = Field(True, description="structured JSON log lines (false: human-readable)")
    log_file: Path | None = Field(
        None,
        description=(
            "also write logs to this file, rotated by size; unset: stderr only (containers), except that "
            "interactive commands in development (demo, console) write data_dir/logs/renkei.log instead"
        ),
    )
    log_file_max_bytes: int = Field(
        10 * 1024 * 1024, ge=1024, le=2**31, description="size at which the log file is rotated"
    )
    log_file_backups: int = Field(5, ge=0, le=100, description="rotated log files kept (renkei.log.1, ...)")
    health_host: str = Field(
        "127.0.0.1", description="address of the process's /healthz, /readyz and /metrics (loopback default)"
    )
    health_port: int | None = Field(
        None,
        ge=0,
        le=65_535,
        description="port of /healthz, /readyz and /metrics of a `renkei run` process; unset: off; 0: any",
    )
    retry: RetrySettings = Field(default_factory=RetrySettings)
    console: ConsoleSettings = Field(default_factory=ConsoleSettings)
    broker: BrokerSettings = Field(default_factory=BrokerSettings)
    body_limit: BodyLimitSettings = Field(default_factory=BodyLimitSettings)
    approval: ApprovalSettings = Field(default_factory=ApprovalSettings)

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("log_level must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("amqp_urls")
    @classmethod
    def _amqp_urls(cls, value: str) -> str:
        # A comma inside one URL (in ssl_options, say) must be percent-encoded as %2C; a piece that is not
        # a URL of its own is most likely such a comma, so it is refused rather than guessed at.
        for url in _split_urls(value):
            if not url.startswith(("amqp://", "amqps://")):
                raise ValueError(
                    "amqp_urls holds comma-separated amqp:// or amqps:// URLs (write a comma inside a URL "
                    "as %2C)"
                )
        return value

    @model_validator(mode="after")
    def _production_needs_keys(self) -> Settings:
        if self.environment is Environment.PRODUCTION and not (self.key_dir or self.key_file or self.key_env):
            raise ValueError(
                "production needs RENKEI_KEY_DIR, RENKEI_KEY_FILE or RENKEI_KEY_ENV (where each service's "
                "keyring is); keys are never generated there"
            )
        return self

    @model_validator(mode="after")
    def _production_proves_senders(self) -> Settings:
        if self.environment is Environment.PRODUCTION and self.broker.identity is BrokerIdentity.SHARED:
            raise ValueError(
                "production needs RENKEI_BROKER_IDENTITY=per_service: every service logs in as its own user"
            )
        return self

    @property
    def broker_identity(self) -> BrokerIdentity:
        """The broker log-in in force: as set, else per-service (development mirrors production)."""
        return self.broker.identity if self.broker.identity is not None else BrokerIdentity.PER_SERVICE

    @property
    def amqp_addresses(self) -> tuple[str, ...]:
        """The broker URLs in force, in order of preference: ``amqp_urls`` if set, else ``amqp_url``."""
        return _split_urls(self.amqp_urls) or (self.amqp_url,)

    @property
    def database_url(self) -> str:
        """The SQLAlchemy URL in force: ``db_url`` or the embedded SQLite file."""
        if self.db_url:
            return self.db_url
        return f"sqlite:///{(self.data_dir / 'renkei.db').resolve()}"

    def keyring_path_of(self, service: str) -> Path:
        """Where ``service``'s keyring file is: ``key_file`` (``{service}`` replaced), else in ``key_dir``."""
        if self.key_file is not None:
            return Path(str(self.key_file).replace("{service}", service))
        return (self.key_dir or self.data_dir / "keys") / service / "keyring.json"

    def keyring_variable_of(self, service: str) -> str | None:
        """The environment variable holding ``service``'s keyring, if the keyrings come from variables."""
        if not self.key_env:
            return None
        return self.key_env.replace("{SERVICE}", service.upper().replace("-", "_"))

    @property
    def legacy_keyring_path(self) -> Path:
        """Where development kept the one keyring of format 1 (imported once, then removed)."""
        return self.data_dir / "keys" / "keyring.json"

    @property
    def audit_key_path(self) -> Path:
        """Where the audit checkpoint signing key lives."""
        return self.audit_signing_key_file or self.data_dir / "keys" / "audit-signing.pem"

    @property
    def wire_dir(self) -> Path:
        """Root of the adapters' file exchanges (inbound/outbound directories per counterpart)."""
        return self.data_dir / "wire"


def _split_urls(value: str) -> tuple[str, ...]:
    return tuple(url.strip() for url in value.split(",") if url.strip())
