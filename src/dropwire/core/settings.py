"""Typed settings read from `DROPWIRE_*` environment variables (and a `.env` file if present)."""

import ipaddress
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DROPWIRE_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./dropwire.db",
        description="SQLAlchemy URL: sqlite:///path.db or postgresql+psycopg://user@host/db",
    )
    database_pool_size: int = Field(
        default=10, ge=1, description="PostgreSQL pool size per process"
    )
    database_pool_timeout: float = Field(
        default=5.0, gt=0, description="Seconds to wait for a free pooled connection (then 503)"
    )
    api_lock_timeout: float = Field(
        default=2.0,
        ge=0,
        description="PostgreSQL, API connections: seconds a statement waits for a row lock "
        "before the request answers 503 (0 = no bound)",
    )
    api_statement_timeout: float = Field(
        default=15.0, ge=0, description="PostgreSQL, API connections: longest statement (s)"
    )
    api_idle_in_transaction_timeout: float = Field(
        default=15.0,
        ge=0,
        description="PostgreSQL, API connections: an open transaction idle this long is ended "
        "by the server (its locks freed)",
    )
    worker_lock_timeout: float = Field(
        default=10.0, ge=0, description="PostgreSQL, worker connections: lock wait bound (s)"
    )
    worker_statement_timeout: float = Field(
        default=300.0, ge=0, description="PostgreSQL, worker connections: longest statement (s)"
    )
    worker_idle_in_transaction_timeout: float = Field(
        default=20.0,
        ge=0,
        description="PostgreSQL, worker connections: a worker frozen this long mid-transaction "
        "loses its connection, so its locks no longer hold others up",
    )
    host: str = Field(default="127.0.0.1", description="Address `dropwire serve` binds to")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `dropwire serve` binds to")
    max_body_bytes: int = Field(default=1_048_576, ge=1024, description="Largest accepted body")
    rate_limit_read: str = Field(default="50/second", description="Per token, GET on /api")
    rate_limit_write: str = Field(default="25/second", description="Per token, writes on /api")
    rate_limit_inbound_factor: int = Field(
        default=10, ge=1, description="The async /webhooks limit is this many times the sync one"
    )
    rate_limit_storage: str = Field(
        default="memory://", description="limits storage URI, e.g. redis://127.0.0.1:6379"
    )
    rate_limit_enabled: bool = Field(default=True, description="Turn throttling off entirely")
    opentelemetry: bool = Field(
        default=False,
        description="FastAPI's own OpenTelemetry (needs an SDK installed and configured); off, "
        "it costs no per-request check",
    )
    worker_in_process: bool = Field(
        default=False,
        description="`dropwire serve` runs the job worker inside each API process instead of in "
        "worker processes (one process less; the apply work then shares the API's interpreter)",
    )
    worker_processes: int = Field(
        default=1,
        ge=0,
        le=64,
        description="Worker processes `dropwire serve` supervises (0: none, e.g. when `dropwire "
        "worker` runs elsewhere)",
    )
    api_processes: int = Field(
        default=1, ge=1, le=64, description="API processes `dropwire serve` runs"
    )
    access_log: bool = Field(
        default=False,
        description="`dropwire serve` logs a line per HTTP request (uvicorn's); off by default: "
        "it cost 17-42 % of the async accept rate as shipped (bench.bench_inbound)",
    )
    worker_threads: int = Field(default=2, ge=1, le=64, description="Threads per job worker")
    worker_niceness: int = Field(
        default=10,
        ge=0,
        le=19,
        description="How much lower the CPU priority of the worker processes `dropwire serve` "
        "starts is than its API processes' (accepted work may wait, a client may not; an idle "
        "API leaves the worker every core)",
    )
    job_batch_size: int = Field(
        default=200,
        ge=1,
        le=1000,
        description="Jobs a worker thread claims and runs in one transaction (queued sales of a "
        "channel apply set-based, so a backlog drains in fewer, bigger batches: 200 one-line "
        "sales apply about twice as fast as 50). On SQLite too, where a batch holds the one "
        "write lock the API's requests wait for: a batch's fixed cost then comes once per 200 "
        "sales and the API waits for fewer turns (DEVELOPING.md, 'SQLite: one writer')",
    )
    shutdown_grace_seconds: float = Field(
        default=10.0,
        ge=0,
        le=600,
        description="On SIGTERM, how long `dropwire serve` lets requests in flight finish "
        "(then it cancels them) and, after it, how long workers get to finish their jobs in "
        "hand (then they are killed and their jobs run again elsewhere)",
    )
    job_lease_seconds: float = Field(
        default=10.0,
        ge=1,
        le=3600,
        description="A worker that stops heartbeating this long loses its jobs to the others",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    admin_token: SecretStr | None = Field(
        default=None, description="Bootstrap admin token, accepted as valid when set"
    )
    auth_cache_seconds: float = Field(
        default=5.0, ge=0, description="How long a checked token is trusted without a lookup"
    )
    api_log_body_bytes: int = Field(
        default=4096, ge=0, description="Request bodies kept in the API log are cut to this size"
    )
    case_insensitive_skus: bool = Field(
        default=False, description="Match catalog SKUs ignoring case (ABC-1 = abc-1)"
    )
    daily_sku_limit: int = Field(
        default=0, ge=0, description="Feed variants updatable per UTC day (0 = unlimited)"
    )
    sign_in_limit_account: str = Field(
        default="5/minute",
        description="Failed sign-ins (web, /auth/login) allowed per account (limits syntax)",
    )
    sign_in_limit_ip: str = Field(
        default="20/minute", description="Failed sign-ins (web, /auth/login) per client address"
    )
    password_reset_limit_address: str = Field(
        default="3/hour",
        description='"Forgot password" links sent per address asked about (limits syntax); '
        "more requests are answered alike and send nothing",
    )
    password_reset_limit_ip: str = Field(
        default="20/hour", description='"Forgot password" requests per client address'
    )
    web_session_hours: float = Field(
        default=12, gt=0, description="How long a web sign-in lasts before signing in again"
    )
    time_zone: str = Field(
        default="UTC",
        description="IANA time zone the dashboard and the vendor portal show times in",
    )
    feed_max_bytes: int = Field(
        default=1_073_741_824, ge=1024, description="Largest pull-feed download (bytes)"
    )
    feed_connect_timeout: float = Field(
        default=15.0, gt=0, description="Seconds to connect to a pull-feed server"
    )
    feed_read_timeout: float = Field(
        default=60.0, gt=0, description="Seconds a pull-feed server may stay silent mid-download"
    )
    feed_batch_size: int = Field(
        default=2000, ge=1, le=20_000, description="Pull-feed rows applied per transaction"
    )
    feed_spool_dir: str | None = Field(
        default=None, description="Where downloads are spooled (default: the system temp dir)"
    )
    strict_input: bool = Field(
        default=False,
        description="Refuse unknown body fields with 422 instead of ignoring and naming them",
    )
    allow_private_targets: bool = Field(
        default=False,
        description="Allow outbound calls to any address (private, loopback, link-local ...)",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Encrypts stored third-party secrets (Elastic Path client and webhook"
        " secrets); comma-separated to rotate: the first encrypts, all decrypt",
    )
    allowed_target_networks: str = Field(
        default="",
        description="Comma-separated CIDRs outbound calls may reach although not public",
    )

    smtp_url: SecretStr | None = Field(
        default=None,
        description="Where email goes: smtp://user:pass@host:587?starttls=true or "
        "smtps://user:pass@host:465; unset, messages are kept as `recorded` and shown, not sent",
    )
    smtp_timeout: float = Field(default=30.0, gt=0, description="Seconds an SMTP exchange may take")
    mail_from: str = Field(
        default="Dropwire <dropwire@localhost>", description="The From address of every email"
    )
    public_url: str | None = Field(
        default=None,
        description="Where links in emails point (default http://{DROPWIRE_HOST}:{DROPWIRE_PORT})",
    )
    merchant_name: str = Field(
        default="Dropwire merchant", description="The merchant named on purchase-order documents"
    )
    merchant_address: str = Field(
        default="",
        description="The merchant's address on purchase-order documents (lines split by '\\n')",
    )
    default_currency: str = Field(
        default="USD",
        pattern=r"^[A-Z]{3}$",
        description="A sale's currency when neither its body nor its channel names one",
    )
    stripe_api_key: SecretStr | None = Field(
        default=None, description="Stripe secret key for vendor payouts by the stripe method"
    )
    stripe_api_base: str = Field(
        default="https://api.stripe.com",
        description="Where Stripe calls go (a local stand-in in tests)",
    )

    @field_validator("time_zone")
    @classmethod
    def _known_time_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (an IANA name: Europe/Berlin)") from None
        return value

    @field_validator("allowed_target_networks")
    @classmethod
    def _cidrs(cls, value: str) -> str:
        for item in value.split(","):
            if item.strip():
                ipaddress.ip_network(item.strip(), strict=False)  # ValueError names the bad one
        return value

    @property
    def links_base(self) -> str:
        """The start of every link in an email (no trailing slash)."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")
