"""The worker loop: claim, run, sleep when idle. Threads in `dropwire serve`, processes anywhere."""

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import timedelta

from dropwire.core.db import Database
from dropwire.core.time import utcnow
from dropwire.jobs import service
from dropwire.jobs.registry import handler

log = logging.getLogger("dropwire.worker")

MAINTENANCE = "maintenance.prune"

Poller = Callable[[Database], int]
POLLERS: list[Poller] = []


def register_poller(poller: Poller) -> Poller:
    """Other queues a worker serves (the outbound relay): called each round, return work done."""
    POLLERS.append(poller)
    return poller


MAINTENANCE_EVERY = timedelta(hours=1)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def schedule_maintenance(database: Database) -> None:
    with database.transaction() as session:
        service.enqueue(
            session, MAINTENANCE, {}, priority=service.PRIORITY_MAINTENANCE, dedupe_key=MAINTENANCE
        )


_RUNNING: "set[Worker]" = set()


def notify() -> None:
    """New work was committed in this process: wake its workers now instead of at the next poll."""
    for worker in list(_RUNNING):
        worker.wake()


class Worker:
    """`threads` loops sharing the queue; `stop()` lets running jobs finish, then returns."""

    def __init__(
        self, database: Database, threads: int = 1, poll_interval: float = 0.5, batch: int = 10
    ) -> None:
        self.database = database
        self.threads = threads
        self.poll_interval = poll_interval
        self.batch = batch
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        self._stop.clear()
        _RUNNING.add(self)
        schedule_maintenance(self.database)
        for index in range(self.threads):
            thread = threading.Thread(
                target=self._loop, name=f"dropwire-worker-{index}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def wake(self) -> None:
        """Something was enqueued: look now instead of at the next poll."""
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        _RUNNING.discard(self)
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout=timeout)
        self._threads.clear()

    def join(self) -> None:
        for thread in self._threads:
            thread.join()

    def _loop(self) -> None:
        me = worker_name()
        while not self._stop.is_set():
            try:
                ids = service.claim(self.database, me, self.batch)
            except Exception:
                log.exception("claiming jobs failed")
                ids = []
            for job_id in ids:
                service.run(self.database, job_id, me)
            done = len(ids)
            for poller in POLLERS:
                try:
                    done += poller(self.database)
                except Exception:
                    log.exception("poller %s failed", getattr(poller, "__name__", poller))
            if not done:
                self._wake.wait(self.poll_interval)
                self._wake.clear()


@handler(MAINTENANCE)
def _maintenance(session: object, _payload: dict[str, object]) -> None:
    """Prune old succeeded jobs, expired idempotency keys and old API logs; then come back."""
    from sqlalchemy import delete
    from sqlalchemy.orm import Session

    from dropwire.apilog.models import ApiLog
    from dropwire.http.idempotency import KEY_LIFETIME, IdempotencyKey

    assert isinstance(session, Session)
    service.prune(session)
    session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.created_at < utcnow() - KEY_LIFETIME)
    )
    session.execute(delete(ApiLog).where(ApiLog.created_at < utcnow() - timedelta(days=30)))
    session.flush()
    service.enqueue(
        session,
        MAINTENANCE,
        {},
        priority=service.PRIORITY_MAINTENANCE,
        run_at=utcnow() + MAINTENANCE_EVERY,
    )
