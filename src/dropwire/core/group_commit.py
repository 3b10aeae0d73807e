"""Group commit: concurrent requests that only append rows share one transaction and one commit.

A request hands the committer what it appends (through a planner that turns requests into rows,
deciding with reads) and waits. A committer thread takes whatever has arrived — everything
queued while the previous group was stored, then what arrives within `window` seconds, up to
`max_entries` — calls each planner once for all its requests, stores every row in one
transaction (a statement per table: `core.inserts.insert_rows`), and only once that has
committed resolves every waiting request.

So each request is answered after its rows are durable, at the cost of one commit per group
instead of one per request. A failed insert or commit fails every request of the group (nothing
of it is stored: one transaction); a request its planner refuses fails alone.

With two threads (PostgreSQL's default) groups overlap: while one group's rows commit, the next
is gathered and planned. Groups still store one at a time and in the order they were taken, so
a group's rows get their ids and become visible only after every earlier group's have: job
claiming, which keeps an ordering key's jobs in id order among the committed ones, never sees a
later job of a key before an earlier one of the same committer. On SQLite the planning reads
overlap the previous group's write transaction.

Few round trips per group matter beyond the database: each call into the driver releases the
GIL, and getting it back from a busy event loop can take a switch interval. On PostgreSQL a
committer thread keeps its connection in autocommit: a group is a planning read and one INSERT,
which commits alone (no pool checkout and ping, no BEGIN, no COMMIT round trip).
"""

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from sqlalchemy import Connection, Table
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from dropwire.core.db import Database, driver_autocommit
from dropwire.core.inserts import insert_rows
from dropwire.core.transient import TransientKind, loses_connection, noted

log = logging.getLogger("dropwire.group_commit")

Row = tuple[Table, dict[str, Any]]
Planner = Callable[[Session, list[Any]], Sequence[Sequence[Row] | Exception]]
"""Given a read session and requests, per request the rows it appends (rows of one table all
have the same keys) or the exception that refuses it."""


class GroupCommitFailed(Exception):
    """The group's transaction failed: nothing of it was stored (unless `outcome_unknown`:
    the connection broke while its commit was on the way), the request may be retried.
    `kind`: the transient failure it was, if one."""

    def __init__(
        self, message: str, kind: TransientKind | None = None, *, outcome_unknown: bool = False
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.outcome_unknown = outcome_unknown

    @classmethod
    def of(cls, error: BaseException, where: str, *, committing: bool) -> "GroupCommitFailed":
        """The failure of a group that `error` ended (reported once, if transient);
        `committing`: the error came while its rows were being stored."""
        kind = noted(error, where)
        if kind is None:
            log.warning("%s failed: %s", where, error)
        unknown = committing and kind is not None and loses_connection(kind)
        return cls(str(error), kind, outcome_unknown=unknown)


@dataclass
class _Entry:
    planner: Planner
    request: Any
    after_commit: Callable[[], None] | None
    loop: asyncio.AbstractEventLoop
    future: "asyncio.Future[None]"
    rows: Sequence[Row] = field(default=())
    error: BaseException | None = None


_STOP = object()
Item = TypeVar("Item")


def gather(
    source: "queue.SimpleQueue[Item]", first: Item, *, window: float, limit: int, expected: int
) -> tuple[list[Item], bool]:
    """`first` and what is queued behind it, up to `limit`, waiting up to `window` for as many
    as `expected` (the callers busy at the last commit: its group and those queued meanwhile);
    and whether `_STOP` was taken (it ends the group and is not in it).

    Callers answered together send their next requests within a millisecond or two (each is
    read and validated first). Taking only what is queued would settle into halves that take
    turns, each paying a group's fixed cost for half the callers; waiting the whole window
    when they are all here already makes every caller wait for nothing. When callers leave,
    one group waits the window out and the next expects fewer."""
    group = [first]
    deadline = time.monotonic() + window
    while len(group) < limit:
        try:
            item = source.get_nowait()
        except queue.Empty:
            remaining = deadline - time.monotonic()
            if len(group) >= expected or remaining <= 0:
                break
            try:
                item = source.get(timeout=remaining)
            except queue.Empty:
                break
        if item is _STOP:
            return group, True
        group.append(item)
    return group, False


class GroupCommitter:
    """One per process and database; its threads start on first use and stop with `stop()`.

    `threads`: committer threads whose groups overlap (default: 2 on PostgreSQL, 1 on SQLite).
    """

    def __init__(
        self,
        database: Database,
        *,
        window: float = 0.001,
        max_entries: int = 256,
        threads: int | None = None,
    ) -> None:
        self.database = database
        self.window = window
        self.max_entries = max_entries
        if threads is None:
            threads = 2 if database.dialect == "postgresql" else 1
        self.threads = threads
        self._queue: queue.SimpleQueue[_Entry | object] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._running: list[threading.Thread] = []
        self._taking = threading.Lock()  # gathering and planning: one group at a time
        self._stored = threading.Condition()  # storing: one group at a time, in taking order
        self._taken = 0  # groups taken so far; each stores after the one taken before it
        self._finished = 0
        self._callers = 1  # how many requests were waiting at the last commit (`gather`)
        self.groups = 0  # committed groups and entries, for the bench and tests
        self.entries = 0

    async def append(
        self, planner: Planner, request: Any, *, after_commit: Callable[[], None] | None = None
    ) -> None:
        """Return once the request's rows are committed; raise the exception its planner gave
        it, or `GroupCommitFailed` when the group's transaction failed."""
        loop = asyncio.get_running_loop()
        entry = _Entry(planner, request, after_commit, loop, loop.create_future())
        self._ensure_running()
        self._queue.put(entry)
        await entry.future

    def _ensure_running(self) -> None:
        if self._running:
            return
        with self._lock:
            if not self._running:
                threads = [
                    threading.Thread(target=self._run, name="group-commit", daemon=True)
                    for _ in range(self.threads)
                ]
                for thread in threads:
                    thread.start()
                self._running = threads

    def stop(self) -> None:
        """Commit what is queued, then end the threads (a later `append` starts them again)."""
        with self._lock:
            threads, self._running = self._running, []
            for _ in threads:
                self._queue.put(_STOP)  # each thread ends at the first it takes
            for thread in threads:
                thread.join(timeout=30)

    def _run(self) -> None:
        with self._held() as held:
            while True:
                with self._taking:
                    first = self._queue.get()
                    if first is _STOP:
                        return
                    group, stopping = self._gather(first)
                    turn = self._taken
                    self._taken += 1
                    self._guarded(self._plan_group, held, group)
                with self._turn(turn):
                    self._guarded(self._store, held, group)
                self._callers = min(len(group) + self._queue.qsize(), self.max_entries)
                self._resolve(group)
                if stopping:
                    return

    def _guarded(
        self, step: Callable[["_Held", list[_Entry]], None], held: "_Held", group: list[_Entry]
    ) -> None:
        """Run a step of the group; if it raises, nothing of the group is stored and every
        request without an answer of its own fails (a fresh connection for the next group)."""
        if all(entry.error is not None for entry in group):
            return
        try:
            step(held, group)
        except BaseException as exc:  # never leave a request waiting for ever
            if isinstance(exc, Exception):
                failure = GroupCommitFailed.of(exc, "group_commit", committing=step == self._store)
            else:
                log.exception("group commit crashed")
                failure = GroupCommitFailed(str(exc))
            held.discard()
            for entry in group:
                entry.error = entry.error or failure

    @contextlib.contextmanager
    def _turn(self, turn: int) -> Iterator[None]:
        """Hold the store until every group taken before this one has been stored (or failed)."""
        with self._stored:
            self._stored.wait_for(lambda: self._finished == turn)
        try:
            yield
        finally:
            with self._stored:
                self._finished = turn + 1
                self._stored.notify_all()

    @contextlib.contextmanager
    def _held(self) -> Iterator["_Held"]:
        held = _Held(self.database)
        try:
            yield held
        finally:
            held.discard()

    def _gather(self, first: object) -> tuple[list[_Entry], bool]:
        """`first` and what is queued behind it (`gather`); whether a stop was taken. Only
        entries: `_run` never gathers behind a stop, and `gather` leaves a stop out."""
        group, stopping = gather(
            self._queue, first, window=self.window, limit=self.max_entries, expected=self._callers
        )
        return cast(list[_Entry], group), stopping

    def _plan_group(self, held: "_Held", group: list[_Entry]) -> None:
        """Each planner once, for all its requests. PostgreSQL: on the thread's connection;
        if the database refuses, once more on a fresh connection (the server may have closed
        the held one: restarted, or an idle timeout); only reads so far, so safe to repeat.
        SQLite: on a read session, so the write slot is not held while reading."""
        if self.database.dialect == "sqlite":
            with self.database.session(write=False) as reading:
                _plan(reading, group)
            return
        try:
            with held.session() as reading:
                _plan(reading, group)
        except DBAPIError as exc:
            log.info("planning on the held connection failed (%s): on a fresh one", exc)
            held.discard()
            with held.session() as reading:
                _plan(reading, group)

    def _store(self, held: "_Held", group: list[_Entry]) -> None:
        """Insert every planned row in one transaction and commit; then call each distinct
        `after_commit` once."""
        ready = [entry for entry in group if entry.error is None]
        if not ready:
            return
        by_table = _rows_by_table(ready)
        if self.database.dialect == "sqlite":
            with self.database.write_engine.begin() as connection:
                _insert(connection, by_table)
        else:
            held.insert(by_table)
        self.groups += 1
        self.entries += len(ready)
        for callback in {e.after_commit for e in ready if e.after_commit is not None}:
            try:
                callback()
            except Exception:
                log.exception("after-commit callback failed")

    @staticmethod
    def _resolve(group: list[_Entry]) -> None:
        """One hand-over per event loop for the whole group (each wakes the loop's thread)."""
        by_loop: dict[asyncio.AbstractEventLoop, list[_Entry]] = {}
        for entry in group:
            by_loop.setdefault(entry.loop, []).append(entry)
        for loop, entries in by_loop.items():
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
                loop.call_soon_threadsafe(_settle, entries)


HELD_IDLE_SECONDS = 1.0
"""A committer's connection unused this long goes back to the pool: the next group takes one
the pool pings first, so a connection the server closed meanwhile (a restart, an idle timeout)
costs no request."""


class _Held:
    """A committer thread's PostgreSQL connection, in autocommit, kept while groups keep coming
    (no checkout and ping per group) and given back after a failure or `HELD_IDLE_SECONDS`."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._connection: Connection | None = None
        self._used = 0.0

    def connection(self) -> Connection:
        now = time.monotonic()
        if now - self._used > HELD_IDLE_SECONDS:
            self.discard()
        self._used = now
        if self._connection is None:
            connection = self.database.engine.connect()
            self._connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        return self._connection

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A session reading on the connection (each statement commits alone: no BEGIN)."""
        session = self.database.session(write=False)
        session.bind = self.connection()
        with session:
            yield session

    def insert(self, by_table: dict[Table, list[dict[str, Any]]]) -> None:
        """Rows of one table: one INSERT, a transaction and its commit by itself. Rows of
        several tables: BEGIN, an INSERT per table, COMMIT."""
        connection = self.connection()
        if len(by_table) == 1:
            _insert(connection, by_table)
            connection.commit()  # ends SQLAlchemy's bookkeeping only: the INSERT committed
            return
        with driver_autocommit(connection, False), connection.begin():  # see its docstring
            _insert(connection, by_table)

    def discard(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.close()


def _plan(session: Session, group: list[_Entry]) -> None:
    """Each planner once, for all its requests: their rows, or their own refusal."""
    by_planner: dict[Planner, list[_Entry]] = {}
    for entry in group:
        if entry.error is None:
            by_planner.setdefault(entry.planner, []).append(entry)
    for planner, entries in by_planner.items():
        planned = planner(session, [entry.request for entry in entries])
        for entry, outcome in zip(entries, planned, strict=True):
            if isinstance(outcome, Exception):
                entry.error = outcome
            else:
                entry.rows = outcome


def _rows_by_table(entries: list[_Entry]) -> dict[Table, list[dict[str, Any]]]:
    """Every entry's rows, in arrival order, tables in first-seen order (so a planner may
    append rows to a parent table before its children)."""
    by_table: dict[Table, list[dict[str, Any]]] = {}
    for entry in entries:
        for table, values in entry.rows:
            by_table.setdefault(table, []).append(values)
    return by_table


def _insert(connection: Connection, by_table: dict[Table, list[dict[str, Any]]]) -> None:
    """One statement per table (`insert_rows`), never a step per row, whose every driver call
    would release the GIL and wait to get it back from a busy event loop."""
    for table, rows in by_table.items():
        insert_rows(connection, table, rows)


def _settle(entries: list[_Entry]) -> None:
    for entry in entries:
        if entry.future.done():  # the request was cancelled (its client went away)
            continue
        if entry.error is None:
            entry.future.set_result(None)
        else:
            entry.future.set_exception(entry.error)
