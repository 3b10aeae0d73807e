"""Transient failures: the one place that tells a passing database fault from a bug.

A connection refused or lost, a server shutting down, a serialization failure, a deadlock, a
lock or statement timeout, an exhausted pool, SQLite busy or out of disk: each passes with time
(or a retry), and nothing of the failed transaction is stored. Wherever one is met — a token
lookup, a query, a commit, a rollback, a group committer, a worker — `transient_kind` names it,
so the API answers 503 with Retry-After instead of 500 and a worker backs off instead of logging
tracebacks. `report` counts each in `dropwire_transient_failures_total` (by kind and where it
was met) and logs one line per kind per few seconds, however many requests meet the same outage.

A request whose connection was lost while its COMMIT was on the way cannot know whether it was
stored: a `CommitWatch` tells the caller whether the COMMIT had been sent, so its answer can say
so (an idempotency key makes the retry safe either way).
"""

import logging
import sqlite3
import threading
import time
from enum import StrEnum
from typing import Any

from prometheus_client import Counter
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

log = logging.getLogger("dropwire.transient")

RETRY_AFTER_SECONDS = 1
"""What `Retry-After` asks of a client that met a transient failure."""


class TransientKind(StrEnum):
    connection = "connection"  # refused, reset, closed by the server (idle timeout, terminate)
    shutdown = "shutdown"  # the server is shutting down or starting up
    serialization = "serialization"
    deadlock = "deadlock"
    lock_timeout = "lock_timeout"
    statement_timeout = "statement_timeout"
    pool_exhausted = "pool_exhausted"  # no connection free in the pool in time
    busy = "busy"  # SQLite: the database is locked by another writer
    disk_full = "disk_full"
    resources = "resources"  # the server is out of connections or memory


class WriteSlotBusy(TimeoutError):
    """SQLite: no write slot came free in time (another writer holds it)."""


_BY_SQLSTATE = {
    "40001": TransientKind.serialization,
    "40P01": TransientKind.deadlock,
    "55P03": TransientKind.lock_timeout,
    "57014": TransientKind.statement_timeout,  # query_canceled: statement_timeout (or a cancel)
    "57P01": TransientKind.shutdown,  # admin_shutdown (also pg_terminate_backend)
    "57P02": TransientKind.shutdown,  # crash_shutdown
    "57P03": TransientKind.shutdown,  # cannot_connect_now (starting up)
    "57P05": TransientKind.connection,  # idle_session_timeout
    "25P03": TransientKind.connection,  # idle_in_transaction_session_timeout
    "53100": TransientKind.disk_full,
    "53000": TransientKind.resources,
    "53200": TransientKind.resources,
    "53300": TransientKind.resources,  # too many connections
}

_SQLITE_MESSAGES = (
    ("database is locked", TransientKind.busy),
    ("database table is locked", TransientKind.busy),
    ("database is busy", TransientKind.busy),
    ("database or disk is full", TransientKind.disk_full),
    ("disk i/o error", TransientKind.disk_full),
)


def _psycopg_kind(error: BaseException) -> TransientKind | None:
    """A psycopg error: by SQLSTATE, else (no SQLSTATE) a connection that failed or closed."""
    module = type(error).__module__
    if not module.startswith("psycopg"):
        return None
    sqlstate = getattr(error, "sqlstate", None)
    if sqlstate:
        if sqlstate.startswith("08"):
            return TransientKind.connection
        return _BY_SQLSTATE.get(sqlstate)
    names = {cls.__name__ for cls in type(error).__mro__}
    if names & {"OperationalError", "InterfaceError"}:
        return TransientKind.connection  # refused, reset, "the connection is closed"
    return None


def _one_kind(error: BaseException) -> TransientKind | None:
    if isinstance(error, WriteSlotBusy):
        return TransientKind.busy
    if isinstance(error, PoolTimeout):
        return TransientKind.pool_exhausted
    if isinstance(error, sqlite3.OperationalError):
        text = str(error).lower()
        return next((kind for words, kind in _SQLITE_MESSAGES if words in text), None)
    if isinstance(error, DBAPIError):
        if error.orig is not None and (found := _one_kind(error.orig)) is not None:
            return found
        return TransientKind.connection if error.connection_invalidated else None
    return _psycopg_kind(error)


def transient_kind(error: BaseException) -> TransientKind | None:
    """The kind of transient failure `error` is (or was caused by), or None for anything else."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        found = _one_kind(current)
        if found is not None:
            return found
        current = current.__cause__ or current.__context__
    return None


def is_transient(error: BaseException) -> bool:
    return transient_kind(error) is not None


def loses_connection(kind: TransientKind) -> bool:
    """Whether the failure took the connection (and with it, maybe, an answer on its way)."""
    return kind in (TransientKind.connection, TransientKind.shutdown)


FAILURES = Counter(
    "dropwire_transient_failures_total",
    "Transient failures met (the database or the rate-limit storage gone, busy or timed out)",
    ["kind", "where"],
)

LOG_EVERY_SECONDS = 5.0


class _Throttled:
    """One log line per (kind, where) per `LOG_EVERY_SECONDS`, with how many were not logged."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: dict[tuple[str, str], tuple[float, int]] = {}

    def due(self, key: tuple[str, str]) -> int | None:
        """The number left unlogged since the last line, if a line is due now; else None."""
        now = time.monotonic()
        with self._lock:
            last, skipped = self._last.get(key, (-LOG_EVERY_SECONDS, 0))
            if now - last < LOG_EVERY_SECONDS:
                self._last[key] = (last, skipped + 1)
                return None
            self._last[key] = (now, 0)
            return skipped


_LOGGED = _Throttled()


def report(kind: TransientKind | str, where: str, error: BaseException | str) -> None:
    """Count a transient failure and log it in one line (no traceback), a few times a minute
    at most per kind and place."""
    name = str(kind)
    FAILURES.labels(name, where).inc()
    skipped = _LOGGED.due((name, where))
    if skipped is None:
        return
    first_line = str(error).strip().splitlines()[0][:300] if str(error).strip() else repr(error)
    more = f" ({skipped} more since the last report)" if skipped else ""
    log.warning("transient %s failure in %s: %s%s", name, where, first_line, more)


def noted(error: BaseException, where: str) -> TransientKind | None:
    """`transient_kind` of the error, reported when it is one."""
    kind = transient_kind(error)
    if kind is not None:
        report(kind, where, error)
    return kind


_COMMITTING = threading.local()


def mark_commit_sent(_connection: Any) -> None:
    """Engine `commit` listener: this thread is now sending a COMMIT."""
    _COMMITTING.sent = True


class CommitWatch:
    """Whether this thread sent a COMMIT since the watch was made: a commit that fails after
    its COMMIT left has an outcome unknown to us (the server may have stored it before the
    connection broke)."""

    def __init__(self) -> None:
        _COMMITTING.sent = False

    @property
    def sent(self) -> bool:
        return bool(getattr(_COMMITTING, "sent", False))


def _quietly(step: Any, where: str) -> None:
    try:
        step()
    except Exception as exc:  # the connection is gone: the pool drops it
        if noted(exc, where) is None:
            raise


def discard_quietly(session: Any, where: str) -> None:
    """Roll back and close a session whose connection may be gone: a rollback on a killed
    connection raises too, and must not turn a transient failure into a 500."""
    _quietly(session.rollback, where)
    _quietly(session.close, where)


def close_quietly(session: Any, where: str) -> None:
    """Close a session (its transaction rolls back as its connection returns to the pool),
    whose connection may be gone."""
    _quietly(session.close, where)
