"""The worker loop: claim a batch, run it in one transaction, sleep when idle.

Threads in `dropwire serve`, processes anywhere.
"""

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from dropwire.core.db import Database, Role, defer_sqlite_writes_in_this_thread
from dropwire.core.time import utcnow
from dropwire.core.transient import noted
from dropwire.jobs import claiming, service, wakeup
from dropwire.jobs.registry import JobKind

log = logging.getLogger("dropwire.worker")

MAINTENANCE = "maintenance.prune"

Poller = Callable[[Database], int]


@dataclass(frozen=True)
class Pollers:
    """Other queues a worker serves (the outbound relay, pull-feed runs), as wired by the entry
    points: each is called every round and returns the work it did."""

    pollers: tuple[Poller, ...]


MAINTENANCE_EVERY = timedelta(hours=1)

# On SQLite every transaction is a turn at the one write lock the API's writes wait for, and an
# fsync: a worker thread that found a short batch (it keeps up with what arrives) waits this long
# so its next turn applies a fuller one, instead of taking a turn per few sales.
SQLITE_LINGER_SECONDS = 0.05


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def schedule_maintenance(database: Database) -> None:
    with database.transaction() as session:
        service.enqueue(
            session,
            kind=MAINTENANCE,
            payload={},
            priority=service.PRIORITY_MAINTENANCE,
            dedupe_key=MAINTENANCE,
        )


class Worker:
    """`threads` loops sharing the queue; `stop()` lets running jobs finish, then returns."""

    def __init__(
        self,
        database: Database,
        threads: int = 1,
        poll_interval: float = 0.5,
        batch: int = 10,
        lease_seconds: float = claiming.LEASE.total_seconds(),
    ) -> None:
        self.database = database.for_role(Role.worker)  # the workers' longer timeouts
        self.threads = threads
        self.poll_interval = poll_interval
        self.batch = batch
        self.lease = timedelta(seconds=lease_seconds)
        self.name = worker_name()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        self._holding: dict[str, frozenset[int]] = {}  # per loop: the jobs it claimed, unfinished
        self.pollers = database.wiring.part(Pollers).pollers
        self._shares_write_lock = self.database.dialect == "sqlite"

    def start(self) -> None:
        self._stop.clear()
        wakeup.register(self)
        reclaimed = service.reclaim_orphans(self.database)
        if reclaimed:
            log.warning("requeued %d jobs of dead workers on this host", reclaimed)
        schedule_maintenance(self.database)
        loops: list[tuple[str, Callable[..., None], tuple[object, ...]]] = [
            (f"dropwire-worker-{i}", self._loop, (f"{self.name}/{i}",)) for i in range(self.threads)
        ]
        loops.append(("dropwire-heartbeat", self._heartbeat, ()))
        for name, target, args in loops:
            thread = threading.Thread(target=target, args=args, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def wake(self) -> None:
        """Something was enqueued: look now instead of at the next poll."""
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Let each loop finish the batch in hand (no new claim, no new poll), for at most
        `timeout` in all: a loop still running then is left to die with the process, its
        transaction rolled back and its jobs run again once their leases run out."""
        wakeup.unregister(self)
        self._stop.set()
        self._wake.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                log.warning("%s did not finish its batch in %.0f s", thread.name, timeout)
        self._threads.clear()

    def join(self) -> None:
        for thread in self._threads:
            thread.join()

    def _heartbeat(self) -> None:
        """Renew our leases several times per lease, so only a dead worker's jobs expire."""
        while not self._stop.wait(self.lease.total_seconds() / 4):
            holding = frozenset().union(*list(self._holding.values()))
            try:
                service.heartbeat(self.database, f"{self.name}/", holding, self.lease)
            except Exception as exc:
                if noted(exc, "worker") is None:
                    log.exception("heartbeat failed")

    def _loop(self, me: str) -> None:
        defer_sqlite_writes_in_this_thread()  # on SQLite, the API's writers go first
        while not self._stop.is_set():
            try:
                with claiming.held_connection(self.database) as held:
                    self._rounds(me, held)
            except Exception as exc:  # the database went away: a fresh connection after a pause
                if noted(exc, "worker") is None:
                    log.exception("worker %s failed", me)
                self._stop.wait(self.poll_interval)
            finally:  # jobs it claimed and did not run: their leases run out (`heartbeat`)
                self._holding.pop(me, None)

    def _rounds(self, me: str, held: Connection | None) -> None:
        """Claim, then run each batch together with the claim of the next (one commit each);
        when stopping, the jobs already claimed still run."""
        claimed: list[claiming.Claimed] = []
        while claimed or not self._stop.is_set():
            if not claimed:
                claimed = claiming.claim_batch(self.database, me, self.batch, self.lease, held=held)
            self._holding[me] = frozenset(job.id for job in claimed)
            ran = len(claimed)
            _states, claimed = service.run_and_claim(
                self.database,
                me,
                claimed,
                limit=0 if self._stop.is_set() else self.batch,
                lease=self.lease,
                held=held,
            )
            done = ran
            if self._shares_write_lock and 0 < ran < self.batch:
                self._stop.wait(SQLITE_LINGER_SECONDS)  # the next batch fills meanwhile
            for poller in () if self._stop.is_set() else self.pollers:
                try:
                    done += poller(self.database)
                except Exception as exc:
                    if noted(exc, "worker") is None:
                        log.exception("poller %s failed", getattr(poller, "__name__", poller))
            if not done:
                self._wake.wait(self.poll_interval)
                self._wake.clear()


SQLITE_ANALYSIS_ROWS = 1000
"""Rows an SQLite ANALYZE samples per index (`analysis_limit`): 7 ms for a database of a million
feed items, and enough for the planner to tell a partial index of two entries from one of the
feed's fifty thousand."""


def _maintenance(session: Session, _payload: dict[str, Any]) -> None:
    """Prune old succeeded jobs, expired idempotency keys and old API logs; on SQLite refresh
    the planner's statistics; then come back.

    SQLite keeps no statistics unless asked (PostgreSQL's autovacuum gathers its own), and
    without them its planner chose a feed's SKU-ordered index over the partial index of its
    items with a problem, reading all 50,000 items of the feed for a page showing two (48 ms).
    """
    from sqlalchemy import delete, text

    from dropwire.apilog.models import ApiLog
    from dropwire.http.idempotency import KEY_LIFETIME, IdempotencyKey

    service.prune(session)
    session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.created_at < utcnow() - KEY_LIFETIME)
    )
    session.execute(delete(ApiLog).where(ApiLog.created_at < utcnow() - timedelta(days=30)))
    session.flush()
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text(f"PRAGMA analysis_limit = {SQLITE_ANALYSIS_ROWS}"))
        session.execute(text("ANALYZE"))
    service.enqueue(
        session,
        kind=MAINTENANCE,
        payload={},
        priority=service.PRIORITY_MAINTENANCE,
        run_at=utcnow() + MAINTENANCE_EVERY,
    )


MAINTENANCE_JOB = JobKind(MAINTENANCE, _maintenance)
