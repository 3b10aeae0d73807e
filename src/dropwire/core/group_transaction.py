"""Group transactions: concurrent units of work share one transaction and one commit.

Where group commit (`core/group_commit.py`) batches requests that only append rows, this
batches units of work that read and change shared rows — the hot rows many clients fight over
(a popular SKU's stock level). Alone, each unit would lock the hot row, wait for the units
before it to commit, and pay its own statements and commit; here one thread applies every unit
that has arrived, each kind's units with one set-based call, and commits once.

What stays true for each caller:
- A unit is whole: its caller's complete unit of work, never part of a transaction the caller
  holds (callers pass a `Database`, not a `Session`), so nothing of it commits apart from the
  rest of it.
- Its answer comes only after the group's commit. A failed commit fails every unit of the
  group with `GroupCommitFailed` (nothing of the group is stored; retrying is safe).
- Its outcome is what applying it alone would have given at its place in the group's order:
  a kind's `apply_all` promises that (per request, its result or the exception that refused it,
  with nothing of a refused request left behind). If `apply_all` raises instead, the kind's
  units of the group are applied one at a time, each in a savepoint, so one bad unit fails
  alone.
"""

import asyncio
import logging
import queue
import threading
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from prometheus_client import Histogram
from sqlalchemy.orm import Session

from dropwire.core.db import Database
from dropwire.core.group_commit import GroupCommitFailed, gather  # answers and gathering alike
from dropwire.core.transient import CommitWatch

__all__ = ["GroupCommitFailed", "GroupTransactions", "UnitKind", "group_transactions"]

log = logging.getLogger("dropwire.group_transaction")
GROUP_SIZE = Histogram(
    "dropwire_group_transaction_units",
    "Units of work committed together in one group transaction",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
)

Request = TypeVar("Request")
Result = TypeVar("Result")


@dataclass(frozen=True, eq=False)
class UnitKind(Generic[Request, Result]):
    """A kind of unit of work and its set-based form.

    `apply_all(session, requests)` applies the requests in order and returns, per request, its
    result or the exception that refused it — exactly what applying each alone, in that order,
    would have given, leaving nothing of a refused one behind. Results must be plain values
    (ids, numbers): the session they came from is closed before the caller sees them.
    """

    name: str
    apply_all: Callable[[Session, list[Request]], Sequence[Result | Exception]]


@dataclass
class _Entry:
    kind: UnitKind[Any, Any]
    request: Any
    future: "Future[Any]" = field(default_factory=Future)


class GroupTransactions:
    """One per process and database; its threads start on first use and end when idle."""

    def __init__(
        self,
        database: Database,
        *,
        window: float = 0.005,
        max_entries: int = 256,
        idle_seconds: float = 1.0,
        threads: int = 1,
    ) -> None:
        self._database = weakref.ref(database)  # the process's registry must not keep it alive
        self.window = window
        self.max_entries = max_entries
        self.idle_seconds = idle_seconds
        self._queue: queue.SimpleQueue[_Entry] = queue.SimpleQueue()
        self.threads = threads
        self._lock = threading.Lock()
        self._running = 0
        self._callers = 1  # how many callers were busy at the last commit (see `_gather`)
        self.groups = 0  # committed groups and units, for the bench and tests
        self.units = 0

    def run(self, kind: UnitKind[Request, Result], request: Request) -> Result:
        """Apply the unit in the next group; return its result once the group has committed.

        Raises the exception that refused it, or `GroupCommitFailed`."""
        result: Result = self.submit(kind, request).result()
        return result

    async def run_async(self, kind: UnitKind[Request, Result], request: Request) -> Result:
        """`run` for a caller on an event loop: it waits without holding a thread."""
        result: Result = await asyncio.wrap_future(self.submit(kind, request))
        return result

    def submit(self, kind: UnitKind[Request, Result], request: Request) -> "Future[Result]":
        """Queue the unit for the next group; its future resolves after the group's commit."""
        entry = _Entry(kind, request)
        self._queue.put(entry)
        self._ensure_running()
        return entry.future

    def _ensure_running(self) -> None:
        """Start the serving threads that are not running (they end when idle).

        With `threads` > 1, groups pipeline: while one commits, the next does what it can
        before the hot rows' locks, then waits for them; a kind's `apply_all` must then decide
        against the rows as committed (a guarded UPDATE is re-checked after the wait). One
        thread is the default: on 2 shared cores two halved the groups and cost more CPU."""
        with self._lock:
            while self._running < self.threads:
                self._running += 1
                threading.Thread(target=self._serve, name="group-transaction", daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=self.idle_seconds)
            except queue.Empty:
                with self._lock:  # a unit queued before this check keeps the thread going
                    if self._queue.empty():
                        self._running -= 1
                        return
                continue
            group = _started(self._gather(first))
            if not group:
                continue
            try:
                outcomes = self.apply([(entry.kind, entry.request) for entry in group])
            except BaseException as exc:  # never leave a caller waiting for ever
                log.exception("group transaction crashed")
                outcomes = [GroupCommitFailed(str(exc))] * len(group)
            self._callers = min(len(group) + self._queue.qsize(), self.max_entries)
            for entry, outcome in zip(group, outcomes, strict=True):
                if isinstance(outcome, Exception):
                    entry.future.set_exception(outcome)
                else:
                    entry.future.set_result(outcome)

    def _gather(self, first: _Entry) -> list[_Entry]:
        """`first` and what is queued behind it, waiting up to `window` for as many units as
        there were callers busy at the last commit (`group_commit.gather`)."""
        group, _ = gather(
            self._queue, first, window=self.window, limit=self.max_entries, expected=self._callers
        )
        return group

    def apply(self, units: Sequence[tuple[UnitKind[Any, Any], Any]]) -> list[Any]:
        """Apply units in one transaction and commit; per unit, its result or its exception
        (`GroupCommitFailed` for all when the transaction failed: nothing of it is stored).

        First each kind's `apply_all` runs without savepoints (the common case: it raises for
        no unit); if one raises, that transaction is rolled back whole and the units run
        again with a savepoint per call, and one per unit for the kind that raised."""
        try:
            try:
                watch = CommitWatch()
                outcomes = self._transaction(units, guarded=False)
            except _Raised:
                watch = CommitWatch()
                outcomes = self._transaction(units, guarded=True)
        except Exception as exc:  # nothing of the group is stored: every unit fails
            failure = GroupCommitFailed.of(exc, "group_transaction", committing=watch.sent)
            return [failure] * len(units)
        self.groups += 1
        self.units += len(units)
        GROUP_SIZE.observe(len(units))
        return outcomes

    def _transaction(
        self, units: Sequence[tuple[UnitKind[Any, Any], Any]], *, guarded: bool
    ) -> list[Any]:
        database = self._database()
        if database is None:
            raise RuntimeError("the database was discarded")
        by_kind: dict[UnitKind[Any, Any], list[int]] = {}
        for position, (kind, _request) in enumerate(units):
            by_kind.setdefault(kind, []).append(position)
        outcomes: list[Any] = [None] * len(units)
        with database.transaction() as session:
            for kind, positions in by_kind.items():
                requests = [units[position][1] for position in positions]
                if guarded:
                    answers = _apply_kind(session, kind, requests)
                else:
                    try:
                        answers = _checked(kind, requests, kind.apply_all(session, requests))
                        session.flush()
                    except Exception as exc:
                        raise _Raised(kind.name) from exc
                for position, answer in zip(positions, answers, strict=True):
                    outcomes[position] = answer
        return outcomes


def _started(group: list[_Entry]) -> list[_Entry]:
    """The entries whose callers still wait, now marked running (a future cancelled while
    queued, by a caller that stopped waiting, is dropped: its unit is not applied)."""
    return [entry for entry in group if entry.future.set_running_or_notify_cancel()]


class _Raised(Exception):
    """An `apply_all` raised in a run without savepoints: the group's transaction is void."""


def _checked(kind: UnitKind[Any, Any], requests: list[Any], outcomes: Sequence[Any]) -> list[Any]:
    if len(outcomes) != len(requests):
        raise RuntimeError(f"{kind.name}: {len(outcomes)} outcomes for {len(requests)} units")
    return list(outcomes)


def _apply_kind(session: Session, kind: UnitKind[Any, Any], requests: list[Any]) -> list[Any]:
    """The kind's units in one `apply_all` call (in a savepoint), or one by one if it raises."""
    try:
        with session.begin_nested():  # a wrong count raises inside: its effects roll back
            return _checked(kind, requests, kind.apply_all(session, requests))
    except Exception as exc:
        if len(requests) == 1:
            return [exc]
        log.warning("%d %s units failed together (%s): one by one", len(requests), kind.name, exc)
    return [answer for request in requests for answer in _apply_kind(session, kind, [request])]


_COMBINERS: "weakref.WeakKeyDictionary[Database, GroupTransactions]" = weakref.WeakKeyDictionary()
_COMBINERS_LOCK = threading.Lock()


def group_transactions(database: Database) -> GroupTransactions:
    """The process's combiner for this database (made on first use)."""
    with _COMBINERS_LOCK:
        combiner = _COMBINERS.get(database)
        if combiner is None:
            combiner = _COMBINERS[database] = GroupTransactions(database)
        return combiner
