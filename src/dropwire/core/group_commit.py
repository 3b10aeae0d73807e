"""Group commit: concurrent requests that only append rows share one transaction and one commit.

A request hands the committer what it appends (through a planner that turns requests into rows,
deciding with reads) and waits. One thread takes whatever has arrived — everything queued while
the previous commit ran, then what arrives within `window` seconds, up to `max_entries` — calls
each planner once for all its requests (on SQLite on a read session, so the write slot is not
held while reading), inserts every row in one write transaction (a statement per table:
`core.inserts.insert_rows`), commits once, and only then resolves every waiting request.

So each request is answered after its rows are durable, at the cost of one commit per group
instead of one per request. A failed insert or commit fails every request of the group (nothing
of it is stored: one transaction); a request its planner refuses fails alone.

Few round trips per group matter beyond the database: each call into the driver releases the
GIL, and getting it back from a busy event loop can take a switch interval.
"""

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.orm import Session

from dropwire.core.db import Database
from dropwire.core.inserts import insert_rows

log = logging.getLogger("dropwire.group_commit")

Row = tuple[Table, dict[str, Any]]
Planner = Callable[[Session, list[Any]], Sequence[Sequence[Row] | Exception]]
"""Given a read session and requests, per request the rows it appends (rows of one table all
have the same keys) or the exception that refuses it."""


class GroupCommitFailed(Exception):
    """The group's transaction failed: nothing of it was stored, the request may be retried."""


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


class GroupCommitter:
    """One per process and database; its thread starts on first use and stops with `stop()`."""

    def __init__(
        self, database: Database, *, window: float = 0.001, max_entries: int = 256
    ) -> None:
        self.database = database
        self.window = window
        self.max_entries = max_entries
        self._queue: queue.SimpleQueue[_Entry | object] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
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
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="group-commit", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        """Commit what is queued, then end the thread (a later `append` starts it again)."""
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is not None:
                self._queue.put(_STOP)
                thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            group, stopping = self._gather(first)
            try:
                self._commit(group)
            except BaseException as exc:  # never leave a request waiting for ever
                log.exception("group commit crashed")
                for entry in group:
                    entry.error = entry.error or GroupCommitFailed(str(exc))
                self._resolve(group)
            if stopping:
                return

    def _gather(self, first: object) -> tuple[list[_Entry], bool]:
        """`first` and what is queued behind it, waiting up to `window` for more."""
        group = [first]
        deadline = time.monotonic() + self.window
        while len(group) < self.max_entries:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    item = self._queue.get(timeout=remaining)
                except queue.Empty:
                    break
            if item is _STOP:
                return [e for e in group if isinstance(e, _Entry)], True
            group.append(item)
        return [e for e in group if isinstance(e, _Entry)], False

    def _commit(self, group: list[_Entry]) -> None:
        try:
            if self.database.dialect == "sqlite":
                # BEGIN IMMEDIATE takes the process's write slot: read before, on a read session;
                # the rows go in on a bare connection (no ORM session: a third of the group's
                # fixed CPU, and that CPU holds the GIL the event loop waits for)
                with self.database.session(write=False) as reading:
                    self._plan(reading, group)
                ready = [entry for entry in group if entry.error is None]
                if ready:
                    with self.database.write_engine.begin() as connection:
                        self._insert(connection, ready)
            else:
                # PostgreSQL: the reads take no lock, so they share the transaction (one pool
                # checkout, one BEGIN and a round trip fewer per group)
                with self.database.transaction() as session:
                    self._plan(session, group)
                    ready = [entry for entry in group if entry.error is None]
                    self._insert(session.connection(), ready)
        except Exception as exc:  # nothing of the group is stored: every request fails
            log.warning("group commit of %d requests failed: %s", len(group), exc)
            for entry in group:
                entry.error = entry.error or GroupCommitFailed(str(exc))
        else:
            if ready:
                self.groups += 1
                self.entries += len(ready)
            for callback in {e.after_commit for e in ready if e.after_commit is not None}:
                try:
                    callback()
                except Exception:
                    log.exception("after-commit callback failed")
        self._resolve(group)

    @staticmethod
    def _plan(session: Session, group: list[_Entry]) -> None:
        """Each planner once, for all its requests: their rows, or their own refusal."""
        by_planner: dict[Planner, list[_Entry]] = {}
        for entry in group:
            by_planner.setdefault(entry.planner, []).append(entry)
        for planner, entries in by_planner.items():
            planned = planner(session, [entry.request for entry in entries])
            for entry, outcome in zip(entries, planned, strict=True):
                if isinstance(outcome, Exception):
                    entry.error = outcome
                else:
                    entry.rows = outcome

    @staticmethod
    def _insert(connection: Connection, entries: list[_Entry]) -> None:
        """Every entry's rows, in arrival order, tables in first-seen order (so a planner may
        append rows to a parent table before its children): one statement per table
        (`insert_rows`), never a step per row, whose every driver call would release the GIL
        and wait to get it back from a busy event loop."""
        by_table: dict[Table, list[dict[str, Any]]] = {}
        for entry in entries:
            for table, values in entry.rows:
                by_table.setdefault(table, []).append(values)
        for table, rows in by_table.items():
            insert_rows(connection, table, rows)

    @staticmethod
    def _resolve(group: list[_Entry]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[_Entry]] = {}
        for entry in group:
            by_loop.setdefault(entry.loop, []).append(entry)
        for loop, entries in by_loop.items():
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
                loop.call_soon_threadsafe(_settle, entries)


def _settle(entries: list[_Entry]) -> None:
    for entry in entries:
        if entry.future.done():  # the request was cancelled (its client went away)
            continue
        if entry.error is None:
            entry.future.set_result(None)
        else:
            entry.future.set_exception(entry.error)
