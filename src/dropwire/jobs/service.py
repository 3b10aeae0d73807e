"""The durable queue: enqueue in the caller's transaction, claim, run, retry, die, re-run.

Claiming skips a job while an earlier job with the same ordering key is unfinished, so two
updates of one record apply in the order they were accepted; the one exception is a chain: a
claim may take the jobs queued right behind a job it takes, of the same kind and key, when that
kind applies batches, and they then run after it in the same batch. On PostgreSQL, claims take
rows with `FOR UPDATE SKIP LOCKED`, so any number of workers share the queue.

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
import time
import traceback
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Connection,
    Integer,
    Row,
    Table,
    any_,
    bindparam,
    delete,
    func,
    literal,
    select,
    true,
    update,
)
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


@dataclass(frozen=True)
class Claimed:
    """A job this worker holds, with what running it needs."""

    id: int
    kind: str
    payload: dict[str, Any]
    ordering_key: str | None


class LeaseLost(Exception):
    """Some of a batch's jobs are no longer this worker's: nothing of the batch may commit."""


# The queue's hot statements work on the table (Core): the ORM adds nothing to them but time.
JOBS = cast(Table, Job.__table__)
# built once: the aliased subquery costs more to build than a whole claim costs to run
FIRST_IN_LINE = first_in_line(Job, "ordering_key", UNFINISHED)


def _claim_statement(skip_locked: bool) -> Any:
    """Pick the first `limit` runnable jobs and mark them running, in one statement.

    Built once per dialect with bound parameters: SQLAlchemy then reuses its cache key and
    compiled form, where building the statement per claim cost more than running it."""
    c = JOBS.c
    runnable = (
        select(c.id)
        .where(c.state == JobState.queued, c.run_at <= bindparam("now"))
        .where(FIRST_IN_LINE)
        .order_by(c.priority, c.run_at, c.id)
        .limit(bindparam("limit"))
    )
    if skip_locked:  # PostgreSQL: other workers skip the rows this one takes
        runnable = runnable.with_for_update(skip_locked=True)
    picked = runnable.cte("picked").prefix_with("MATERIALIZED")
    return _taking(c.id.in_(select(picked.c.id)))


def _taking(which: ColumnElement[bool]) -> Any:
    """Mark the jobs running for this worker (an attempt), returning what running them needs."""
    c = JOBS.c
    return (
        update(JOBS)
        .where(which)
        .values(
            state=JobState.running,
            locked_by=bindparam("worker"),
            lease_expires_at=bindparam("lease_until"),
            attempts=c.attempts + 1,
            updated_at=bindparam("now"),
        )
        .returning(c.id, c.kind, c.payload, c.ordering_key, c.priority, c.run_at)
    )


def _ids(dialect: str) -> ColumnElement[bool]:
    """`id` in the list bound as `ids`: on PostgreSQL one array (the same SQL for any length,
    so the server keeps it prepared), on SQLite an expanded IN."""
    if dialect == "postgresql":
        return JOBS.c.id == any_(bindparam("ids", type_=ARRAY(Integer)))
    return JOBS.c.id.in_(bindparam("ids", expanding=True))


_OURS = (JOBS.c.state == JobState.running) & (JOBS.c.locked_by == bindparam("worker"))


def _completing(dialect: str) -> Any:
    return (
        update(JOBS)
        .where(_ids(dialect) & _OURS)
        .values(
            state=JobState.succeeded,
            finished_at=bindparam("now"),
            updated_at=bindparam("now"),
            last_error=None,
            lease_expires_at=None,
        )
        .returning(JOBS.c.id)
    )


def _completing_and_claiming() -> Any:
    """PostgreSQL: a batch's completion and the next claim in one statement.

    Both parts read one snapshot: a job queued behind a job completed here still sees it
    running, so it waits for a later claim (its order holds)."""
    done = _completing("postgresql").cte("done")
    taken = CLAIM["postgresql"].cte("taken")
    one = select(literal(1).label("one")).subquery("one")  # a row even when nothing is taken
    return select(
        select(func.count()).select_from(done).scalar_subquery().label("done"),
        *(taken.c[name] for name in ("id", "kind", "payload", "ordering_key", "priority")),
        taken.c.run_at,
    ).select_from(one.outerjoin(taken, true()))


DIALECTS = ("postgresql", "sqlite")
CLAIM = {"postgresql": _claim_statement(True), "sqlite": _claim_statement(False)}
TAKE_QUEUED = {d: _taking(_ids(d) & (JOBS.c.state == JobState.queued)) for d in DIALECTS}
REQUEUE_EXPIRED = (  # leases of killed workers run out: back to the queue
    update(JOBS)
    .where(JOBS.c.state == JobState.running, JOBS.c.lease_expires_at < bindparam("now"))
    .values(state=JobState.queued, locked_by=None, lease_expires_at=None)
)
COMPLETE = {d: _completing(d) for d in DIALECTS}
COMPLETE_AND_CLAIM = _completing_and_claiming()
GIVE_BACK = {  # claimed jobs back to the queue unrun: the attempt their claim counted is undone
    d: update(JOBS)
    .where(_ids(d) & _OURS)
    .values(
        state=JobState.queued,
        locked_by=None,
        lease_expires_at=None,
        attempts=JOBS.c.attempts - 1,
    )
    for d in DIALECTS
}


def claim(
    database: Database, worker_id: str, limit: int = 10, lease: timedelta = LEASE
) -> list[int]:
    """Mark up to `limit` runnable jobs as running for this worker; returns their ids."""
    return [job.id for job in claim_batch(database, worker_id, limit, lease)]


def claim_batch(
    database: Database,
    worker_id: str,
    limit: int = 10,
    lease: timedelta = LEASE,
    *,
    held: Connection | None = None,
) -> list[Claimed]:
    """Mark up to `limit` runnable jobs as running for this worker, in the order to run them.

    `held`: a PostgreSQL connection the worker keeps between rounds (see `held_connection`).
    """
    with _claiming(database, held) as connection:
        return _claim_on(connection, database, worker_id, limit, lease)


def _claim_on(
    connection: Connection, database: Database, worker_id: str, limit: int, lease: timedelta
) -> list[Claimed]:
    """The claim's statements, on a connection in autocommit or in the caller's transaction."""
    now = utcnow()
    if _requeue_due(database):
        connection.execute(REQUEUE_EXPIRED, {"now": now})
    params = {"now": now, "limit": limit, "worker": worker_id, "lease_until": now + lease}
    heads = list(connection.execute(CLAIM[database.dialect], params).all())
    return _with_chains(connection, database, worker_id, limit, heads, params)


def _with_chains(
    connection: Connection,
    database: Database,
    worker_id: str,
    limit: int,
    heads: list[Row[Any]],
    params: dict[str, Any],
) -> list[Claimed]:
    """The claimed heads in queue order, each followed by the chain taken behind it."""
    heads.sort(key=lambda row: (row.priority, row.run_at, row.id))
    chains = _chains(connection, heads, limit - len(heads), params["now"])
    chained = [i for ids in chains.values() for i in ids]
    taken = {}
    if chained:
        statement = TAKE_QUEUED[database.dialect]
        taken = {row.id: row for row in connection.execute(statement, {**params, "ids": chained})}
    rows: list[Row[Any]] = []
    for head in heads:
        rows.append(head)
        for job_id in chains.get(head.id, ()):
            if job_id not in taken:
                break  # not expected (nothing else takes them): keep the order, stop here
            rows.append(taken.pop(job_id))
    if taken:
        _give_back(connection, list(taken), worker_id)
    if len(rows) < limit:  # the queue is short: look for expired leases on the next claim
        _REQUEUED_AT.pop(database, None)
    return [Claimed(row.id, row.kind, row.payload, row.ordering_key) for row in rows]


def _complete_and_claim(
    session: Session,
    database: Database,
    worker_id: str,
    job_ids: list[int],
    limit: int,
    lease: timedelta,
) -> list[Claimed]:
    """Mark the jobs succeeded (checking they are still ours) and claim the next ones, in one
    statement on PostgreSQL."""
    if limit <= 0 or database.dialect != "postgresql":
        _complete(session, worker_id, job_ids)
        return _claim_next(session, database, worker_id, limit, lease)
    connection = session.connection()
    _claim_in_index_order(connection)
    now = utcnow()
    if _requeue_due(database):
        connection.execute(REQUEUE_EXPIRED, {"now": now})
    params = {"now": now, "limit": limit, "worker": worker_id, "lease_until": now + lease}
    rows = connection.execute(COMPLETE_AND_CLAIM, {**params, "ids": job_ids}).all()
    if rows[0].done != len(job_ids):
        raise LeaseLost(f"{len(job_ids) - rows[0].done} jobs of a batch were taken over")
    heads = [row for row in rows if row.id is not None]
    return _with_chains(connection, database, worker_id, limit, heads, params)


@contextmanager
def _claiming(database: Database, held: Connection | None) -> Iterator[Connection]:
    """PostgreSQL: each claiming statement commits alone (each is safe alone), sparing the
    BEGIN and COMMIT round trips; SQLite: one write transaction, which holds the write lock."""
    if database.dialect != "postgresql":
        with database.transaction() as session:
            yield session.connection()
    elif held is None:
        with database.engine.connect() as connection:
            yield connection.execution_options(isolation_level="AUTOCOMMIT")
    else:
        usual = held.default_isolation_level
        held.execution_options(isolation_level="AUTOCOMMIT")
        try:
            yield held
        finally:
            held.commit()  # ends SQLAlchemy's bookkeeping only: each statement committed alone
            held.execution_options(isolation_level=usual)


@contextmanager
def held_connection(database: Database) -> Iterator[Connection | None]:
    """A worker thread's PostgreSQL connection for its rounds of claim and run.

    Taking a connection from the pool pings it first: two round trips per round saved. SQLite
    (None): its connections are in-process and its write lock is taken per transaction anyway.
    """
    if database.dialect != "postgresql":
        yield None
        return
    with database.engine.connect() as connection:
        yield connection


@contextmanager
def _write_session(database: Database, held: Connection | None) -> Iterator[Session]:
    """`database.transaction()`, on the held connection when there is one."""
    session = database.session(write=True)
    if held is not None:
        session.bind = held
    with session, session.begin():
        yield session


REQUEUE_EVERY = 1.0  # seconds between looks for expired leases while claims come back full
_REQUEUED_AT: "weakref.WeakKeyDictionary[Database, float]" = weakref.WeakKeyDictionary()


def _requeue_due(database: Database) -> bool:
    """Look for expired leases once a second while busy, and on any claim after a short one."""
    now = time.monotonic()
    if now - _REQUEUED_AT.get(database, -REQUEUE_EVERY) < REQUEUE_EVERY:
        return False
    _REQUEUED_AT[database] = now
    return True


def _chains(
    connection: Connection, heads: Sequence[Row[Any]], room: int, now: datetime
) -> dict[int, list[int]]:
    """For heads of batch-applied kinds: the jobs queued right behind each under its key.

    Other claims cannot take these while their head is unfinished, so no lock is needed; the
    chain stops at the first job that is not runnable now or is of another kind.
    """
    chained = {
        head.ordering_key: head
        for head in heads
        if head.ordering_key is not None
        and (kind := registry.kind(head.kind)) is not None
        and kind.run_batch is not None
    }
    if not chained or room <= 0:
        return {}
    c = JOBS.c
    rows = connection.execute(
        select(c.id, c.kind, c.ordering_key, c.state, c.run_at)
        .where(c.ordering_key.in_(chained), c.state.in_(UNFINISHED))
        .order_by(c.ordering_key, c.id)
        .limit(room + len(chained))
    ).all()
    followers: dict[int, list[int]] = {}
    stopped: set[str] = set()
    for row in rows:
        head = chained[row.ordering_key]
        if row.id <= head.id or row.ordering_key in stopped:
            continue
        if row.state != JobState.queued or row.run_at > now or row.kind != head.kind:
            stopped.add(row.ordering_key)
            continue
        followers.setdefault(head.id, []).append(row.id)
        room -= 1
        if room == 0:
            break
    return followers


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
                claimed = _complete_and_claim(session, database, worker_id, ids, limit, lease)
                states: dict[int, JobState | None] = dict.fromkeys(ids, JobState.succeeded)
                return states, claimed
        except _HandlerFailed as exc:  # rolled back whole: again, a savepoint each
            known = exc
        with _write_session(database, held) as session:
            states = _run_together(session, worker_id, jobs, known)
            return states, _claim_next(session, database, worker_id, limit, lease)
    except LeaseLost as exc:
        log.warning("%s: running the batch's jobs one by one", exc)
    except Exception:
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
    for group in _groups(jobs):
        kind = registry.kind(group[0].kind)
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
                    raise LookupError(f"no handler registered for job kind '{job.kind}'")
                kind.run(session, dict(job.payload))
                session.flush()
            except Exception as exc:
                raise _HandlerFailed(job.id, exc) from exc


def _claim_next(
    session: Session, database: Database, worker_id: str, limit: int, lease: timedelta
) -> list[Claimed]:
    if limit <= 0:
        return []
    if database.dialect == "postgresql":
        _claim_in_index_order(session.connection())
    return _claim_on(session.connection(), database, worker_id, limit, lease)


def _claim_in_index_order(connection: Connection) -> None:
    """PostgreSQL, for the rest of this transaction (the claim ends it): no bitmap scans.

    After a burst of enqueues the table's statistics still say few jobs are queued, and the
    planner then reads every queued row in a bitmap scan and sorts them all to take the first
    few (12 of 15 ms for a claim of 50 with 18,000 queued); the claim index gives them in order.
    The handlers have run by now, so none of their queries loses bitmap scans."""
    connection.exec_driver_sql("SET LOCAL enable_bitmapscan = off")


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
    states: dict[int, JobState | None] = {job.id: None for job in jobs}
    failed: dict[int, str] = {}
    blocked: set[str] = set()  # keys whose earlier job failed here: later ones must wait

    def one(job: Claimed) -> None:
        if job.ordering_key in blocked:
            states[job.id] = JobState.queued
            return
        kind = registry.kind(job.kind)
        try:
            if kind is None:
                raise LookupError(f"no handler registered for job kind '{job.kind}'")
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

    for group in _groups(jobs):
        kind = registry.kind(group[0].kind)
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
    _complete(session, worker_id, succeeded)
    released = [i for i, state in states.items() if state is JobState.queued]
    if released and _give_back(session.connection(), released, worker_id) != len(released):
        raise LeaseLost("jobs held back behind a failed one were taken over")
    for job_id, error in failed.items():
        states[job_id] = _fail(session, job_id, error, worker_id)
        if states[job_id] is None:
            raise LeaseLost(f"failed job {job_id} was taken over")
    return states


def _complete(session: Session, worker_id: str, job_ids: list[int]) -> None:
    """Mark the jobs succeeded, checking they are still ours (else nothing may commit)."""
    if not job_ids:
        return
    params = {"ids": job_ids, "worker": worker_id, "now": utcnow()}
    connection = session.connection()
    done = connection.execute(COMPLETE[connection.dialect.name], params).all()
    if len(done) != len(job_ids):
        raise LeaseLost(f"{len(job_ids) - len(done)} jobs of a batch were taken over")


def _groups(jobs: Sequence[Claimed]) -> list[list[Claimed]]:
    """Consecutive jobs of one batch-applied kind form a group; any other job is alone."""
    groups: list[list[Claimed]] = []
    for job in jobs:
        kind = registry.kind(job.kind)
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
                given_back = _give_back(session.connection(), [job.id], worker_id)
            states[job.id] = JobState.queued if given_back else None
            continue
        states[job.id] = run(database, job.id, worker_id)
        if states[job.id] is not JobState.succeeded and job.ordering_key is not None:
            blocked.add(job.ordering_key)
    return states


def _give_back(connection: Connection, job_ids: list[int], worker_id: str) -> int:
    """Claimed jobs back to the queue unrun: the attempt their claim counted is taken back."""
    dialect = connection.dialect.name
    result = connection.execute(GIVE_BACK[dialect], {"ids": job_ids, "worker": worker_id})
    return int(getattr(result, "rowcount", 0) or 0)


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
        error = _describe(exc)
        log.warning("job %s failed: %s", job_id, error)
    return _record_failure(database, job_id, error or "failed", worker_id)


def heartbeat(database: Database, worker_prefix: str, lease: timedelta = LEASE) -> int:
    """Renew the leases of every job held by this worker's threads; returns how many."""
    with database.transaction() as session:
        # rows a running batch has locked are safe from expiry anyway: don't wait for them
        held = select(Job.id).where(
            Job.state == JobState.running, Job.locked_by.startswith(worker_prefix)
        )
        result = session.execute(
            update(Job)
            .where(Job.id.in_(skipping_locked(session, held).scalar_subquery()))
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
        kind = registry.kind(job.kind)
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
