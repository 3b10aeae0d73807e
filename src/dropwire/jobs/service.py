"""The durable queue: enqueue in the caller's transaction, claim, run, retry, die, re-run.

Claiming skips a job while an earlier job with the same ordering key is unfinished, so two
updates of one record apply in the order they were accepted. On PostgreSQL, claims take rows
with `FOR UPDATE SKIP LOCKED`, so any number of workers share the queue. A job's effects and its
completion commit together: a worker killed mid-job leaves nothing half-done. Workers heartbeat
by renewing the short leases of the jobs they hold, so a killed worker's jobs return to the queue
within one lease (seconds), and at once when a process on the same host sees that the holder's
process is gone.
"""

import logging
import os
import random
import socket
import traceback
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dropwire.core.db import Database
from dropwire.core.errors import NotFound
from dropwire.core.queueing import first_in_line, skipping_locked
from dropwire.core.time import utcnow
from dropwire.core.unit_of_work import call_after_commit
from dropwire.jobs import registry, wakeup
from dropwire.jobs.models import UNFINISHED, Job, JobState

log = logging.getLogger("dropwire.jobs")

PRIORITY_CREATE = 10  # new records first
PRIORITY_UPDATE = 50
PRIORITY_DEFAULT = 100
PRIORITY_MAINTENANCE = 1000
LEASE = timedelta(seconds=10)
BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 6 * 3600.0


def enqueue(
    session: Session,
    kind: str,
    payload: dict[str, Any],
    *,
    priority: int = PRIORITY_DEFAULT,
    ordering_key: str | None = None,
    dedupe_key: str | None = None,
    run_at: datetime | None = None,
    max_attempts: int = 8,
) -> Job | None:
    """Add a job in the caller's transaction. With a dedupe key already pending: returns None."""
    if dedupe_key is not None:
        pending = session.scalar(
            select(Job.id).where(Job.dedupe_key == dedupe_key, Job.state.in_(UNFINISHED))
        )
        if pending is not None:
            return None
    call_after_commit(session, "jobs.wake", wakeup.notify)
    job = Job(
        kind=kind,
        payload=payload,
        priority=priority,
        ordering_key=ordering_key,
        dedupe_key=dedupe_key,
        run_at=run_at or utcnow(),
        max_attempts=max_attempts,
    )
    session.add(job)
    if dedupe_key is None:
        session.flush()
        return job
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # a concurrent enqueue with the same key won
        return None
    return job


def backoff(attempts: int) -> timedelta:
    """Exponential with full jitter: about 2 s, 4 s, 8 s ... capped at 6 h."""
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1))
    return timedelta(seconds=ceiling / 2 + random.uniform(0, ceiling / 2))


def claim(
    database: Database, worker_id: str, limit: int = 10, lease: timedelta = LEASE
) -> list[int]:
    """Mark up to `limit` runnable jobs as running for this worker; returns their ids."""
    now = utcnow()
    with database.transaction() as session:
        session.execute(  # leases of killed workers run out: back to the queue
            update(Job)
            .where(Job.state == JobState.running, Job.lease_expires_at < now)
            .values(state=JobState.queued, locked_by=None, lease_expires_at=None)
            .execution_options(synchronize_session=False)
        )
        stmt = (
            select(Job.id)
            .where(Job.state == JobState.queued, Job.run_at <= now)
            .where(first_in_line(Job, "ordering_key", UNFINISHED))
            .order_by(Job.priority, Job.run_at, Job.id)
            .limit(limit)
        )
        ids = list(session.scalars(skipping_locked(session, stmt)))
        if ids:
            session.execute(
                update(Job)
                .where(Job.id.in_(ids))
                .values(
                    state=JobState.running,
                    locked_by=worker_id,
                    lease_expires_at=now + lease,
                    attempts=Job.attempts + 1,
                )
                .execution_options(synchronize_session=False)
            )
        return ids


def run(database: Database, job_id: int, worker_id: str) -> JobState | None:
    """Run one claimed job: its handler and its completion commit in one transaction."""
    error: str | None = None
    try:
        with database.transaction() as session:
            job = session.scalar(select(Job).where(Job.id == job_id).with_for_update())
            if job is None or job.state != JobState.running or job.locked_by != worker_id:
                return None  # our lease ran out and another worker has it
            kind = registry.kind(job.kind)
            if kind is None:
                raise LookupError(f"no handler registered for job kind '{job.kind}'")
            kind.run(session, dict(job.payload))
            job.state = JobState.succeeded
            job.finished_at = utcnow()
            job.last_error = None
            job.lease_expires_at = None
            return JobState.succeeded
    except Exception as exc:
        error = "".join(traceback.format_exception_only(exc)).strip()[:4000]
        log.warning("job %s failed: %s", job_id, error)
    return _record_failure(database, job_id, error or "failed")


def heartbeat(database: Database, worker_prefix: str, lease: timedelta = LEASE) -> int:
    """Renew the leases of every job held by this worker's threads; returns how many."""
    with database.transaction() as session:
        result = session.execute(
            update(Job)
            .where(Job.state == JobState.running, Job.locked_by.startswith(worker_prefix))
            .values(lease_expires_at=utcnow() + lease)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)


def _holder_is_gone(locked_by: str, host: str) -> bool:
    """A worker name is `host:pid:...`; on this host, a pid that no longer runs is gone."""
    holder_host, _, rest = locked_by.partition(":")
    pid_text = rest.partition(":")[0]
    if holder_host != host or not pid_text.isdigit() or int(pid_text) == os.getpid():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def reclaim_orphans(database: Database) -> int:
    """Requeue jobs held by processes of this host that died (a restart reclaims them at once)."""
    host = socket.gethostname()
    with database.transaction() as session:
        holders = session.scalars(
            select(Job.locked_by).where(Job.state == JobState.running).distinct()
        ).all()
        gone = [h for h in holders if h and _holder_is_gone(h, host)]
        if not gone:
            return 0
        result = session.execute(
            update(Job)
            .where(Job.state == JobState.running, Job.locked_by.in_(gone))
            .values(state=JobState.queued, locked_by=None, lease_expires_at=None)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)


def _record_failure(database: Database, job_id: int, error: str) -> JobState | None:
    with database.transaction() as session:
        job = session.get(Job, job_id)
        if job is None:
            return None
        job.last_error = error
        job.locked_by = None
        job.lease_expires_at = None
        if job.attempts >= job.max_attempts:
            job.state = JobState.dead
            job.finished_at = utcnow()
            kind = registry.kind(job.kind)
            if kind is not None and kind.on_dead is not None:
                kind.on_dead(session, dict(job.payload), error)
        else:
            job.state = JobState.queued
            job.run_at = utcnow() + backoff(job.attempts)
        return JobState(job.state)


def run_pending(database: Database, worker_id: str = "inline", max_jobs: int | None = None) -> int:
    """Drain every job runnable now, in queue order (for tests, the CLI and small setups)."""
    done = 0
    while max_jobs is None or done < max_jobs:
        ids = claim(database, worker_id, limit=1)
        if not ids:
            return done
        run(database, ids[0], worker_id)
        done += 1
    return done


def get(session: Session, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound("Job", job_id)
    return job


def retry(session: Session, job: Job) -> Job:
    """Run a dead or failed job again, from now, with a fresh set of attempts."""
    job.state = JobState.queued
    job.run_at = utcnow()
    job.attempts = 0
    job.finished_at = None
    job.locked_by = None
    job.lease_expires_at = None
    session.flush()
    return job


def prune(session: Session, older_than: timedelta = timedelta(days=7)) -> int:
    result = session.execute(
        delete(Job).where(Job.state == JobState.succeeded, Job.finished_at < utcnow() - older_than)
    )
    return int(getattr(result, "rowcount", 0) or 0)
