"""Engine, sessions and the declarative base.

SQLite runs in WAL mode with foreign keys on and `synchronous=FULL`: a commit is on disk before
it returns (NORMAL could lose the last commits on power loss). Writers take the lock up front
(`BEGIN IMMEDIATE`) so two writers never deadlock upgrading shared locks; readers use a deferred
`BEGIN`.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, Engine, Numeric, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

from dropwire.core import unit_of_work
from dropwire.core.settings import Settings
from dropwire.core.time import utcnow
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

    # SQLite has one writer at a time. Writers of this process queue on a lock instead of
    # SQLite's busy handler, which sleeps in growing steps and makes tail latency seconds long.
    writers = threading.Lock()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        if mode == "IMMEDIATE":
            if not writers.acquire(timeout=WRITE_WAIT_SECONDS):
                raise TimeoutError("the SQLite database is busy: no write slot in 30 s")
            connection.info["holds_write_slot"] = True
        try:
            connection.exec_driver_sql(f"BEGIN {mode}")
        except BaseException:
            _release(connection)
            raise

    def _release(connection: Any) -> None:
        if connection.info.pop("holds_write_slot", False):
            writers.release()

    event.listen(engine, "commit", _release)
    event.listen(engine, "rollback", _release)


def build_engine(url: str, settings: Settings) -> Engine:
    if is_sqlite(url):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=settings.database_pool_size * 4,  # cheap connections; never wait for one
            max_overflow=settings.database_pool_size * 4,
            hide_parameters=True,  # statement parameters carry secrets: never into a log
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(
        url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_pool_size * 2,
        pool_pre_ping=True,
        hide_parameters=True,
    )


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
        wiring: Wiring = UNWIRED,
    ) -> None:
        if settings is None:  # tests and benchmarks: the defaults, with this URL
            settings = Settings(database_url=url) if url else Settings()
        self.settings = settings
        self.wiring = wiring
        self.engine = build_engine(url or settings.database_url, settings)
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

    def dispose(self) -> None:
        self.engine.dispose()


def settings_of(session: Session) -> Settings:
    """The settings of the `Database` this session came from."""
    settings: Settings = session.info[SETTINGS_KEY]
    return settings
