"""The durable queue: enqueue in the caller's transaction, claim, run, retry, die, re-run.

Claiming is `jobs.claiming`: a job waits while an earlier job of its ordering key is
unfinished, so two updates of one record apply in the order they were accepted.

A worker runs its claimed batch in one transaction, each job in a savepoint: a failing job rolls
back alone and its failure (retry with backoff, or dead) commits with the others' effects and
completion. A worker killed mid-batch leaves nothing half-done; if the batch's transaction fails
as a whole, its jobs run again one per transaction. Workers heartbeat by renewing the short
leases of the jobs they hold, so a killed worker's jobs return to the queue within one lease
(seconds), and at once when a process on the same host sees that the holder's process is gone.
"""

import logging
import os
import random
import socket
import traceback
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    delete,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dropwire.core.db import Database
from dropwire.core.errors import NotFound
from dropwire.core.queueing import skipping_locked
from dropwire.core.time import utcnow
from dropwire.core.transient import loses_connection, transient_kind
from dropwire.core.unit_of_work import call_after_commit
from dropwire.core.wiring import wired
from dropwire.jobs import wakeup
from dropwire.jobs.claiming import (
    LEASE,
    Claimed,
    LeaseLost,
    claim_batch,
    claim_next,
    complete_and_claim,
    give_back,
    mark_succeeded,
)
from dropwire.jobs.models import UNFINISHED, Job, JobState
from dropwire.jobs.registry import JobKinds, job_kinds

log = logging.getLogger("dropwire.jobs")

PRIORITY_CREATE = 10  # new records first
PRIORITY_UPDATE = 50
PRIORITY_DEFAULT = 100
PRIORITY_MAINTENANCE = 1000
BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 6 * 3600.0


def enqueue(
    session: Session,
    *,
    kind: str,
    payload: dict[str, Any],
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
    call_after_commit(session, key="jobs.wake", callback=wakeup.notify)
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


@contextmanager
def _write_session(database: Database, held: Connection | None) -> Iterator[Session]:
    """`database.transaction()`, on the held connection when there is one."""
    session = database.session(write=True)
    if held is not None:
        session.bind = held
    with session, session.begin():
        yield session


def run_batch(
    database: Database,
    worker_id: str,
    jobs: Sequence[Claimed],
    *,
    held: Connection | None = None,
) -> dict[int, JobState | None]:
    """Run claimed jobs in one transaction, a savepoint each; returns each job's new state.

    None: the job is no longer ours (our lease ran out and another worker has it). If the
    transaction fails as a whole, nothing of it commits and the jobs run one per transaction.
    """
    return run_and_claim(database, worker_id, jobs, held=held)[0]


def run_and_claim(
    database: Database,
    worker_id: str,
    jobs: Sequence[Claimed],
    *,
    limit: int = 0,
    lease: timedelta = LEASE,
    held: Connection | None = None,
) -> tuple[dict[int, JobState | None], list[Claimed]]:
    """`run_batch`, and in the same transaction the claim of up to `limit` next jobs.

    The batch's completion and the next claim then share one commit (a worker at full speed
    pays one commit per batch, not two). The claim sees this batch's completions, so a job
    queued behind one of them under its key may be claimed at once. If the batch fails as a
    whole, its claim is rolled back with it and no next jobs are returned.
    """
    if not jobs:
        return {}, []
    known: _HandlerFailed | None = None
    try:
        try:
            with _write_session(database, held) as session:
                _run_plainly(session, jobs)
                ids = [job.id for job in jobs]
                claimed = complete_and_claim(
                    session,
                    database=database,
                    worker_id=worker_id,
                    job_ids=ids,
                    limit=limit,
                    lease=lease,
                )
                states: dict[int, JobState | None] = dict.fromkeys(ids, JobState.succeeded)
                return states, claimed
        except _HandlerFailed as exc:  # rolled back whole: again, a savepoint each
            known = exc
        with _write_session(database, held) as session:
            states = _run_together(session, worker_id, jobs, known)
            return states, claim_next(
                session, database=database, worker_id=worker_id, limit=limit, lease=lease
            )
    except LeaseLost as exc:
        log.warning("%s: running the batch's jobs one by one", exc)
    except Exception as exc:
        kind = transient_kind(exc)
        if kind is not None and loses_connection(kind):
            raise  # the database is away: the worker pauses; the jobs' leases run out
        log.exception("a batch of %d jobs failed as a whole: running them one by one", len(jobs))
    return _run_one_by_one(database, worker_id, jobs), []


class _HandlerFailed(Exception):
    """A handler raised in a batch run without savepoints: the batch is rolled back whole."""

    def __init__(self, job_id: int, error: Exception, *, group: bool = False) -> None:
        super().__init__(f"job {job_id} failed")
        self.job_id = job_id  # the failed job, or the first of a failed batch call
        self.error = error
        self.group = group


def _run_plainly(session: Session, jobs: Sequence[Claimed]) -> None:
    """Every handler of the batch with no savepoints, the common case where none fails.

    Sound because a failure rolls the whole transaction back (`_HandlerFailed`) and the batch
    runs again with a savepoint per job: the others' effects are rolled back and redone, as
    after any failed transaction, never committed twice or half; the failed job is not run a
    second time (its failure is recorded as it was). Savepoints cost a round trip or two per
    job that writes, and the ORM's bookkeeping for every job.
    """
    kinds = wired(session, kind=JobKinds)
    for group in _groups(kinds, jobs):
        kind = kinds.get(group[0].kind)
        if kind is not None and len(group) > 1 and kind.run_batch is not None:
            try:
                kind.run_batch(session, [dict(job.payload) for job in group])
                session.flush()  # a write the ORM holds back fails here, not at the commit
            except Exception as exc:
                raise _HandlerFailed(group[0].id, exc, group=True) from exc
            continue
        for job in group:
            try:
                if kind is None:
                    raise LookupError(f"no handler wired for job kind '{job.kind}'")
                kind.run(session, dict(job.payload))
                session.flush()
            except Exception as exc:
                raise _HandlerFailed(job.id, exc) from exc


def _describe(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(exc)).strip()[:4000]


def _run_together(
    session: Session, worker_id: str, jobs: Sequence[Claimed], known: _HandlerFailed | None
) -> dict[int, JobState | None]:
    """The handlers first, then the completions, each checking the job is still ours.

    `known`: the failure of the run without savepoints; that job or batch call is not run again.

    Checking at the end costs no extra round trip: until the completions take the rows' locks,
    another worker could only have taken a job whose lease ran out, and then nothing commits.
    """
    kinds = wired(session, kind=JobKinds)
    states: dict[int, JobState | None] = {job.id: None for job in jobs}
    failed: dict[int, str] = {}
    blocked: set[str] = set()  # keys whose earlier job failed here: later ones must wait

    def one(job: Claimed) -> None:
        if job.ordering_key in blocked:
            states[job.id] = JobState.queued
            return
        kind = kinds.get(job.kind)
        try:
            if kind is None:
                raise LookupError(f"no handler wired for job kind '{job.kind}'")
            if known is not None and not known.group and known.job_id == job.id:
                raise known.error
            with session.begin_nested():
                kind.run(session, dict(job.payload))
        except Exception as exc:
            failed[job.id] = _describe(exc)
            log.warning("job %s failed: %s", job.id, failed[job.id])
            if job.ordering_key is not None:
                blocked.add(job.ordering_key)
            return
        states[job.id] = JobState.succeeded

    for group in _groups(kinds, jobs):
        kind = kinds.get(group[0].kind)
        failed_before = known is not None and known.group and known.job_id == group[0].id
        if len(group) > 1 and kind is not None and kind.run_batch is not None and not failed_before:
            try:
                with session.begin_nested():
                    kind.run_batch(session, [dict(job.payload) for job in group])
            except Exception as exc:
                log.warning(
                    "%d %s jobs failed together (%s): running them one by one",
                    len(group),
                    kind.name,
                    _describe(exc),
                )
            else:
                states.update(dict.fromkeys((job.id for job in group), JobState.succeeded))
                continue
        for job in group:
            one(job)

    succeeded = [i for i, state in states.items() if state is JobState.succeeded]
    mark_succeeded(session, worker_id=worker_id, job_ids=succeeded)
    released = [i for i, state in states.items() if state is JobState.queued]
    if released and give_back(session.connection(), released, worker_id) != len(released):
        raise LeaseLost("jobs held back behind a failed one were taken over")
    for job_id, error in failed.items():
        states[job_id] = _fail(session, job_id, error, worker_id)
        if states[job_id] is None:
            raise LeaseLost(f"failed job {job_id} was taken over")
    return states


def _groups(kinds: JobKinds, jobs: Sequence[Claimed]) -> list[list[Claimed]]:
    """Consecutive jobs of one batch-applied kind form a group; any other job is alone."""
    groups: list[list[Claimed]] = []
    for job in jobs:
        kind = kinds.get(job.kind)
        batched = kind is not None and kind.run_batch is not None
        if batched and groups and groups[-1][0].kind == job.kind:
            groups[-1].append(job)
        else:
            groups.append([job])
    return groups


def _run_one_by_one(
    database: Database, worker_id: str, jobs: Sequence[Claimed]
) -> dict[int, JobState | None]:
    """After a failed batch: each job in its own transaction, a failed one holding back its key."""
    states: dict[int, JobState | None] = {}
    blocked: set[str] = set()
    for job in jobs:
        if job.ordering_key in blocked:
            with database.transaction() as session:
                given_back = give_back(session.connection(), [job.id], worker_id)
            states[job.id] = JobState.queued if given_back else None
            continue
        states[job.id] = run(database, job.id, worker_id)
        if states[job.id] is not JobState.succeeded and job.ordering_key is not None:
            blocked.add(job.ordering_key)
    return states


def run(database: Database, job_id: int, worker_id: str) -> JobState | None:
    """Run one claimed job: its handler and its completion commit in one transaction."""
    error: str | None = None
    try:
        with database.transaction() as session:
            job = session.scalar(select(Job).where(Job.id == job_id).with_for_update())
            if job is None or job.state != JobState.running or job.locked_by != worker_id:
                return None  # our lease ran out and another worker has it
            kind = job_kinds(database).get(job.kind)
            if kind is None:
                raise LookupError(f"no handler wired for job kind '{job.kind}'")
            kind.run(session, dict(job.payload))
            job.state = JobState.succeeded
            job.finished_at = utcnow()
            job.last_error = None
            job.lease_expires_at = None
            return JobState.succeeded
    except Exception as exc:
        error = _describe(exc)
        log.warning("job %s failed: %s", job_id, error)
    return _record_failure(database, job_id, error or "failed", worker_id)


def heartbeat(
    database: Database,
    worker_prefix: str,
    job_ids: Collection[int],
    lease: timedelta = LEASE,
) -> int:
    """Renew the leases of the jobs this worker's threads hold, by the ids they know they hold;
    returns how many. A job a claim took that its thread never learned of (the claim's commit
    went through but its answer was lost with the connection) is not renewed: its lease runs
    out and it goes back to the queue, instead of staying running until the process ends."""
    if not job_ids:
        return 0
    with database.transaction() as session:
        # rows a running batch has locked are safe from expiry anyway: don't wait for them
        held = select(Job.id).where(
            Job.state == JobState.running,
            Job.locked_by.startswith(worker_prefix),
            Job.id.in_(sorted(job_ids)),
        )
        result = session.execute(
            update(Job)
            .where(Job.id.in_(skipping_locked(session, stmt=held).scalar_subquery()))
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


def _record_failure(database: Database, job_id: int, error: str, worker_id: str) -> JobState | None:
    with database.transaction() as session:
        return _fail(session, job_id, error, worker_id)


def _fail(session: Session, job_id: int, error: str, worker_id: str) -> JobState | None:
    """Back to the queue after a backoff, or dead (with the kind's hook) when out of attempts.

    None: the job is no longer this worker's (its lease ran out and another worker has it).
    """
    job = session.scalar(select(Job).where(Job.id == job_id).with_for_update())
    if job is None or job.state != JobState.running or job.locked_by != worker_id:
        return None
    job.last_error = error
    job.locked_by = None
    job.lease_expires_at = None
    if job.attempts >= job.max_attempts:
        job.state = JobState.dead
        job.finished_at = utcnow()
        kind = wired(session, kind=JobKinds).get(job.kind)
        if kind is not None and kind.on_dead is not None:
            kind.on_dead(session, dict(job.payload), error)
    else:
        job.state = JobState.queued
        job.run_at = utcnow() + backoff(job.attempts)
    session.flush()
    return JobState(job.state)


def run_pending(
    database: Database, worker_id: str = "inline", max_jobs: int | None = None, batch: int = 10
) -> int:
    """Drain every job runnable now, in queue order, in batches (tests, the CLI, small setups)."""
    done = 0
    while max_jobs is None or done < max_jobs:
        limit = batch if max_jobs is None else min(batch, max_jobs - done)
        claimed = claim_batch(database, worker_id, limit)
        if not claimed:
            return done
        run_batch(database, worker_id, claimed)
        done += len(claimed)
    return done


def get(session: Session, *, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound("Job", job_id)
    return job


def retry(session: Session, *, job: Job) -> Job:
    """Run a dead or failed job again, from now, with a fresh set of attempts."""
    job.state = JobState.queued
    job.run_at = utcnow()
    job.attempts = 0
    job.finished_at = None
    job.locked_by = None
    job.lease_expires_at = None
    session.flush()
    return job


def prune(session: Session, *, older_than: timedelta = timedelta(days=7)) -> int:
    result = session.execute(
        delete(Job).where(Job.state == JobState.succeeded, Job.finished_at < utcnow() - older_than)
    )
    return int(getattr(result, "rowcount", 0) or 0)
