"""Engine, sessions and the declarative base.

SQLite runs in WAL mode with foreign keys on and `synchronous=FULL`: a commit is on disk before
it returns (NORMAL could lose the last commits on power loss). Writers take the lock up front
(`BEGIN IMMEDIATE`) so two writers never deadlock upgrading shared locks; readers use a deferred
`BEGIN`.
"""

import fcntl
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, BinaryIO

from pydantic_core import from_json
from sqlalchemy import Connection, DateTime, Engine, Numeric, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

from dropwire.core import unit_of_work
from dropwire.core.settings import Settings
from dropwire.core.time import utcnow
from dropwire.core.transient import WriteSlotBusy, mark_commit_sent
from dropwire.core.wiring import UNWIRED, WIRING_KEY, Wiring


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, hands back aware UTC, on every backend."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use dropwire.core.time.utcnow()")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


Money = Numeric(14, 2, asdecimal=True)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), Decimal: Money}


class IdMixin:
    id: Mapped[int] = mapped_column(primary_key=True)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


WRITE_WAIT_SECONDS = 30


_thread_defers = threading.local()


def defer_sqlite_writes_in_this_thread() -> None:
    """This thread's writes wait behind other writers' (a job worker's: what it applies was
    accepted already and may wait; the API's writes are a client waiting for an answer)."""
    _thread_defers.active = True


class SqliteWriteSlot:
    """SQLite's one write lock, queued for instead of left to SQLite's busy handler.

    The busy handler sleeps in growing steps up to 100 ms, so a writer polling that way rarely
    found the gap between another process's transactions: the API process starved for seconds
    behind its worker process. Here the threads of a process queue on a lock, then processes on
    an advisory file lock beside the database, polled every half millisecond (`flock` has no
    timeout, and a frozen holder must become `WriteSlotBusy`, a 503, not a hang). Writers that
    serve a waiting client announce themselves on a second file while they wait; a deferring
    writer (the worker) lets them go first, for at most `MOST_DEFERRED` a turn so it is never
    starved.
    """

    POLL_SECONDS = 0.0005
    MOST_DEFERRED = 0.1

    def __init__(self, database_path: str | None) -> None:
        self._threads = threading.Lock()
        self._paths = (f"{database_path}-writer", f"{database_path}-waiting")
        self._shared = database_path is not None  # an in-memory database has no other process
        self._files: list[BinaryIO] = []
        self._files_pid = 0
        self._announcing = threading.Lock()
        self._waiting = 0  # this process's announced writers

    def acquire(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        deferring = getattr(_thread_defers, "active", False)
        if deferring:
            self._defer(min(deadline, time.monotonic() + self.MOST_DEFERRED))
        else:
            self._announce(+1)
        try:
            return self._take(deadline)
        finally:
            if not deferring:
                self._announce(-1)

    def release(self) -> None:
        if self._shared:
            fcntl.flock(self._file(0), fcntl.LOCK_UN)
        self._threads.release()

    def _take(self, deadline: float) -> bool:
        if not self._threads.acquire(timeout=max(0.0, deadline - time.monotonic())):
            return False
        if not self._shared:
            return True
        try:
            while not _try_flock(self._file(0), fcntl.LOCK_EX):
                if time.monotonic() >= deadline:
                    self._threads.release()
                    return False
                time.sleep(self.POLL_SECONDS)
            return True
        except BaseException:
            self._threads.release()
            raise

    def _announce(self, change: int) -> None:
        """The first waiter of this process holds the shared lock on the waiting file, the last
        one to leave lets it go (one lock per open file, whatever the number of threads)."""
        with self._announcing:
            self._waiting += change
            if self._shared and self._waiting == (1 if change > 0 else 0):
                fcntl.flock(self._file(1), fcntl.LOCK_SH if change > 0 else fcntl.LOCK_UN)

    def _defer(self, until: float) -> None:
        while time.monotonic() < until and self._others_waiting():
            time.sleep(self.POLL_SECONDS)

    def _others_waiting(self) -> bool:
        with self._announcing:  # no announcement of ours on the file while we test it
            if self._waiting:
                return True
            if not self._shared or not _try_flock(self._file(1), fcntl.LOCK_EX):
                return self._shared  # an announced writer in another process holds it shared
            fcntl.flock(self._file(1), fcntl.LOCK_UN)
            return False

    def _file(self, which: int) -> int:
        """The lock files, opened by this process (a file inherited over fork shares its lock)."""
        if self._files_pid != os.getpid():
            self._files = [open(path, "ab") for path in self._paths]  # noqa: SIM115 - kept open
            self._files_pid = os.getpid()
        return self._files[which].fileno()


def _try_flock(descriptor: int, operation: int) -> bool:
    try:
        fcntl.flock(descriptor, operation | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    database = engine.url.database
    slot = SqliteWriteSlot(database if database and database != ":memory:" else None)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        if mode == "IMMEDIATE":
            if not slot.acquire(timeout=WRITE_WAIT_SECONDS):
                raise WriteSlotBusy("the SQLite database is busy: no write slot in 30 s")
            connection.info["holds_write_slot"] = True
        try:
            connection.exec_driver_sql(f"BEGIN {mode}")
        except BaseException:
            _release(connection)
            raise

    def _release(connection: Any) -> None:
        if connection.info.pop("holds_write_slot", False):
            slot.release()

    event.listen(engine, "commit", _release)
    event.listen(engine, "rollback", _release)


class Role(StrEnum):
    """Who uses a connection: its PostgreSQL timeouts and planning follow (`session_timeouts`,
    `planning`)."""

    api = "api"
    worker = "worker"
    group_commit = "group_commit"
    """The async accepts' committer threads: a request waits on each statement (the API's
    timeouts), and each statement serves a group of requests (a worker's planning)."""


def session_timeouts(settings: Settings, role: Role) -> dict[str, int]:
    """PostgreSQL's per-connection bounds (milliseconds) on how long a transaction may wait
    for a lock, run a statement, or sit idle holding its locks: short for API requests (a
    request meeting a lock held too long answers 503 at once), longer for workers. A process
    frozen mid-transaction loses its connection, and so its locks, after the idle bound."""
    if role is not Role.worker:
        seconds = (
            settings.api_lock_timeout,
            settings.api_statement_timeout,
            settings.api_idle_in_transaction_timeout,
        )
    else:
        seconds = (
            settings.worker_lock_timeout,
            settings.worker_statement_timeout,
            settings.worker_idle_in_transaction_timeout,
        )
    names = ("lock_timeout", "statement_timeout", "idle_in_transaction_session_timeout")
    return {name: round(value * 1000) for name, value in zip(names, seconds, strict=True)}


def planning(role: Role) -> dict[str, str]:
    """PostgreSQL: a worker and a group committer plan each execution of a prepared statement
    for its parameters and the tables' sizes now; the API keeps the server's default.

    psycopg prepares a statement on its fifth use, and PostgreSQL then keeps a generic plan while
    it costs no more than the custom ones. Planned while a table was nearly empty (a new
    database, a growing queue), that plan scans what an index would find until the next
    ANALYZE (autovacuum's, which comes late or, where it is off, never):
    - a worker draining 20,000 queued sales on a new database walked every queued job and every
      sale of the channel per batch, 114 sales/s against 561/s planned per execution;
    - the group committer's look-up of the accepted sales already stored (by the unique key)
      read all of the channel's sales: 7 ms per group at 30,000 sales, three quarters of a core
      at 1,000 accepts/s.
    Such a statement covers a batch or a group, so planning it is cheap beside running it; a
    request's thirty-odd statements each read a few rows by key, where a generic plan is as good
    once there are statistics and planning each one made a shipment 8 ms slower (of 25)."""
    return {"plan_cache_mode": "force_custom_plan"} if role is not Role.api else {}


def read_json(stored: str | bytes) -> Any:
    """A JSON column's value, parsed by pydantic-core (three times as fast as `json.loads`: a
    page of fifty sales decodes four hundred values), else by `json.loads`, which also takes
    what pydantic-core refuses (a lone surrogate's escape, e.g. in a queued item's raw body)."""
    try:
        return from_json(stored)
    except ValueError:
        return json.loads(stored)


def build_engine(url: str, settings: Settings, role: Role = Role.api) -> Engine:
    if is_sqlite(url):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=settings.database_pool_size * 4,  # cheap connections; never wait for one
            max_overflow=settings.database_pool_size * 4,
            hide_parameters=True,  # statement parameters carry secrets: never into a log
            json_deserializer=read_json,
        )
        _configure_sqlite(engine)
    else:
        parameters = {**session_timeouts(settings, role), **planning(role)}
        options = " ".join(f"-c {name}={value}" for name, value in parameters.items())
        engine = create_engine(
            url,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_pool_size * 2,
            pool_timeout=settings.database_pool_timeout,
            pool_pre_ping=True,
            hide_parameters=True,
            connect_args={"options": options},  # set once per connection: no round trip
            json_deserializer=read_json,
        )
    event.listen(engine, "commit", mark_commit_sent)  # see `transient.CommitWatch`
    return engine


@contextmanager
def driver_autocommit(connection: Connection, autocommit: bool) -> Iterator[Connection]:
    """PostgreSQL: switch a checked-out connection's autocommit for a while, at the driver.

    For a connection held long (a worker thread's for its life, a group committer's while
    requests keep coming). SQLAlchemy's `execution_options(isolation_level=...)` keeps, at each
    call, a callback that resets the level when the connection goes back to the pool, and only
    running them empties that list: two switches per round of a held connection grew the
    worker's memory without end (found by `bench/bench_soak.py --tracemalloc`). The driver's
    own switch keeps nothing; leaving restores the connection's setting, and a connection that
    cannot be restored (broken meanwhile) is invalidated, never pooled in the wrong mode.
    """
    raw: Any = connection.connection.dbapi_connection
    before = raw.autocommit
    raw.autocommit = autocommit
    try:
        yield connection
    finally:
        try:
            raw.autocommit = before
        except Exception:
            connection.invalidate()
            raise


SETTINGS_KEY = "dropwire.settings"


class Database:
    """The process's engine, its two session factories (read and write), its settings and its
    wiring.

    The entry points (app factory, CLI, worker) build one `Settings` and the `Wiring` of every
    domain's declarations and hand them here; every session carries both (`settings_of`,
    `core.wiring.wiring_of`), so services never read the environment or a module-level registry.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        settings: Settings | None = None,
        role: Role = Role.api,
        wiring: Wiring = UNWIRED,
    ) -> None:
        if settings is None:  # tests and benchmarks: the defaults, with this URL
            settings = Settings(database_url=url) if url else Settings()
        self.settings = settings
        self.wiring = wiring
        self.role = role
        self.engine = build_engine(url or settings.database_url, settings, role)
        self._roles: dict[Role, Database] = {role: self}
        self._roles_lock = threading.Lock()
        self.url = self.engine.url.render_as_string(hide_password=False)
        self.write_engine = (  # its `begin()` takes the write slot, as a write session does
            self.engine.execution_options(sqlite_begin="IMMEDIATE")
            if self.engine.dialect.name == "sqlite"
            else self.engine
        )
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(self.write_engine, expire_on_commit=False)
        for factory in (self._read, self._write):
            unit_of_work.install(factory)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self, *, write: bool = True) -> Session:
        session = (self._write if write else self._read)()
        session.info[SETTINGS_KEY] = self.settings
        session.info[WIRING_KEY] = self.wiring
        return session

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write session that commits on success and rolls back on error."""
        with self.session(write=True) as session, session.begin():
            yield session

    def for_role(self, role: Role) -> "Database":
        """The same database for connections of another role (PostgreSQL: its own engine with
        that role's timeouts, made once; SQLite: this one, whose one write slot must stay one)."""
        if self.dialect != "postgresql":
            return self
        with self._roles_lock:
            found = self._roles.get(role)
            if found is None:
                found = Database(self.url, settings=self.settings, role=role, wiring=self.wiring)
                found._roles = self._roles  # siblings share one family
                self._roles[role] = found
            return found

    def dispose(self) -> None:
        for database in list(self._roles.values()):
            database.engine.dispose()


def settings_of(session: Session) -> Settings:
    """The settings of the `Database` this session came from."""
    settings: Settings = session.info[SETTINGS_KEY]
    return settings
