"""Claiming jobs: which are runnable, taking them for a worker, and giving them back.

A claim skips a job while an earlier job with the same ordering key is unfinished, so two
updates of one record apply in the order they were accepted; the one exception is a chain: a
claim may take the jobs queued right behind a job it takes, of the same kind and key, when that
kind applies batches, and they then run after it in the same batch. On PostgreSQL, claims take
rows with `FOR UPDATE SKIP LOCKED`, so any number of workers share the queue, and each claiming
statement commits alone; a batch's completion and the next claim are one statement.

The hot statements are built once per dialect, on the table (Core): the ORM adds nothing to
them but time, and building them per claim cost more than running them.
"""

import time
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    Table,
    any_,
    bindparam,
    func,
    literal,
    literal_column,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from dropwire.core.db import Database, driver_autocommit
from dropwire.core.expressions import among_bound
from dropwire.core.queueing import first_in_line
from dropwire.core.time import utcnow
from dropwire.jobs.models import UNFINISHED, Job, JobState
from dropwire.jobs.registry import JobKinds, job_kinds

LEASE = timedelta(seconds=10)


@dataclass(frozen=True)
class Claimed:
    """A job this worker holds, with what running it needs."""

    id: int
    kind: str
    payload: dict[str, Any]
    ordering_key: str | None
    attempt: int = 0
    """The job's attempts counted with this claim: claims of one job have increasing numbers,
    and a later one is made only once the earlier one's lease ran out (a takeover)."""


class LeaseLost(Exception):
    """Some of a batch's jobs are no longer this worker's: nothing of the batch may commit."""


# The queue's hot statements work on the table (Core): the ORM adds nothing to them but time.
JOBS = cast(Table, Job.__table__)


def _claim_statement(skip_locked: bool, *, front_only: bool) -> Any:
    """Pick the first `limit` runnable jobs and mark them running, in one statement.

    `front_only`: look only among the first `front` queued jobs. Telling whether a job is
    runnable costs a probe of its key, so a claim that finds fewer than `limit` runnable jobs
    probes every queued job; a key with a long queue (a channel's sales, a feed's items) made
    each claim walk all of it (27 ms with 2,700 of a channel's sales queued). The runnable jobs
    among the front are the first runnable jobs of the whole queue, in the same order (any
    other comes after all of the front), so a claim of the front takes a prefix of what a
    claim of the whole queue would; only when the front has none does a claim need the rest.

    Built once per dialect with bound parameters: SQLAlchemy then reuses its cache key and
    compiled form, where building the statement per claim cost more than running it."""
    c = JOBS.c
    queued = (c.state == JobState.queued) & (c.run_at <= bindparam("now"))
    order = (c.priority, c.run_at, c.id)
    if front_only:
        front = (
            select(c.id, c.ordering_key)
            .where(queued)
            .order_by(*order)
            .limit(bindparam("front"))
            .cte("front")
            .prefix_with("MATERIALIZED")
        )
        firsts = (  # a key's later jobs in the front wait for its first: only that one is probed
            select(func.min(front.c.id))
            .where(front.c.ordering_key.is_not(None))
            .group_by(front.c.ordering_key)
        )
        heads = (  # its own CTE: whatever the join's plan, each front row is probed once
            select(front)
            .where(front.c.ordering_key.is_(None) | front.c.id.in_(firsts), _first_in_line(front.c))
            .cte("heads")
            .prefix_with("MATERIALIZED")
        )
        head_ids = select(heads.c.id)
        among_heads = (  # PostgreSQL: an array, so the rows are found by id, not by a scan
            c.id == any_(func.array(head_ids.scalar_subquery()))
            if skip_locked
            else c.id.in_(head_ids)
        )
        # `queued` again: PostgreSQL re-checks it on the row it locks (another claim's meanwhile)
        runnable = select(c.id).where(among_heads, queued).order_by(*order)
    else:
        candidates = _heads_of_keys().cte("candidates").prefix_with("MATERIALIZED")
        among_candidates = (  # as `among_heads`
            c.id == any_(func.array(select(candidates.c.id).scalar_subquery()))
            if skip_locked
            else c.id.in_(select(candidates.c.id))
        )
        runnable = (
            select(c.id).where(among_candidates, queued, _first_in_line(None)).order_by(*order)
        )
    runnable = runnable.limit(bindparam("limit"))
    if skip_locked:  # PostgreSQL: other workers skip the rows this one takes
        runnable = runnable.with_for_update(skip_locked=True)
    picked = runnable.cte("picked").prefix_with("MATERIALIZED")
    return _taking(c.id.in_(select(picked.c.id)))


def _heads_of_keys() -> Any:
    """The ids of the jobs that can be first in line: each key's first unfinished job, and
    every unfinished job without a key (a superset of the runnable ones, which the claim then
    tells apart).

    Found key by key, through the partial index of unfinished jobs by key (a recursive skip
    from each key to the next), so a claim of the whole queue costs one probe per key, not one
    per queued job: while one worker thread ran a channel's batch, every claim of another
    thread probed each of that channel's queued sales, 73 ms with 30,000 of them queued, twice
    a second (a fifth of a core that the running batch then lacked, so the queue grew)."""
    c = JOBS.c
    # written into the SQL, as `first_in_line` writes them, so the partial index serves
    states: list[ColumnElement[str]] = [literal_column(f"'{s}'") for s in UNFINISHED]
    later, first = JOBS.alias("later_job"), JOBS.alias("first_job")
    keys = (
        select(func.min(c.ordering_key).label("key"))
        .where(c.state.in_(states))
        .cte("keys", recursive=True)
    )
    next_key = (
        select(func.min(later.c.ordering_key))
        .where(later.c.state.in_(states), later.c.ordering_key > keys.c.key)
        .scalar_subquery()
    )
    keys = keys.union_all(select(next_key).where(keys.c.key.is_not(None)))
    first_of_key = (
        select(first.c.id)
        .where(first.c.ordering_key == keys.c.key, first.c.state.in_(states))
        .order_by(first.c.id)
        .limit(1)
        .scalar_subquery()
    )
    keyless = select(c.id).where(c.ordering_key.is_(None), c.state.in_(states))
    return union_all(select(first_of_key.label("id")).where(keys.c.key.is_not(None)), keyless)


def _first_in_line(of: Any) -> ColumnElement[bool]:
    return first_in_line(Job, "ordering_key", UNFINISHED, in_progress=JobState.running, of=of)


FRONT_PER_JOB = 4
"""A claim of `limit` jobs looks first among the first `limit * FRONT_PER_JOB` queued jobs."""


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
        .returning(c.id, c.kind, c.payload, c.ordering_key, c.priority, c.run_at, c.attempts)
    )


def _ids(dialect: str) -> ColumnElement[bool]:
    """`id` among the list bound as `ids` (one array on PostgreSQL: the same SQL for any length,
    so the server keeps it prepared)."""
    return among_bound(JOBS.c.id, "ids", dialect)


_OURS = (JOBS.c.state == JobState.running) & (JOBS.c.locked_by == bindparam("worker"))


_LEASE_HOLDS = JOBS.c.lease_expires_at >= bindparam("now")
"""The fence at completion: a worker whose lease ran out (frozen, partitioned) may have lost
its jobs to another one, so its late commit is refused (`LeaseLost` rolls its batch back)."""


def _completing(dialect: str) -> Any:
    return (
        update(JOBS)
        .where(_ids(dialect) & _OURS & _LEASE_HOLDS)
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
    taken = CLAIM_FRONT["postgresql"].cte("taken")
    one = select(literal(1).label("one")).subquery("one")  # a row even when nothing is taken
    return select(
        select(func.count()).select_from(done).scalar_subquery().label("done"),
        *(taken.c[name] for name in ("id", "kind", "payload", "ordering_key", "priority")),
        taken.c.run_at,
        taken.c.attempts,
    ).select_from(one.outerjoin(taken, true()))


DIALECTS = ("postgresql", "sqlite")


CLAIM = {d: _claim_statement(d == "postgresql", front_only=False) for d in DIALECTS}


CLAIM_FRONT = {d: _claim_statement(d == "postgresql", front_only=True) for d in DIALECTS}


TAKE_QUEUED = {d: _taking(_ids(d) & (JOBS.c.state == JobState.queued)) for d in DIALECTS}


def _requeuing_expired(skip_locked: bool) -> Any:
    """Jobs whose lease ran out (a killed, frozen or starved worker) back to the queue.

    PostgreSQL: a row locked now is skipped. Its holder is in a transaction on it (running it
    alone, or completing it), so it is alive, and its completion checks the holder anyway;
    waiting for that lock held every worker's claim up behind one slow job (the heartbeat
    skips locked rows too, so such a job's lease does run out)."""
    c = JOBS.c
    expired = select(c.id).where(c.state == JobState.running, c.lease_expires_at < bindparam("now"))
    if skip_locked:
        expired = expired.with_for_update(skip_locked=True)
    return (
        update(JOBS)
        .where(c.id.in_(expired.scalar_subquery()))
        .values(state=JobState.queued, locked_by=None, lease_expires_at=None)
    )


REQUEUE_EXPIRED = {d: _requeuing_expired(d == "postgresql") for d in DIALECTS}


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
        connection.execute(REQUEUE_EXPIRED[database.dialect], {"now": now})
    params = _claim_params(now, limit, worker_id, lease)
    heads = list(connection.execute(CLAIM_FRONT[database.dialect], params).all())
    if not heads:  # nothing runnable at the front of the queue: look through all of it
        heads = list(connection.execute(CLAIM[database.dialect], params).all())
    return _with_chains(connection, database, worker_id, limit, heads, params)


def _claim_params(now: datetime, limit: int, worker_id: str, lease: timedelta) -> dict[str, Any]:
    return {
        "now": now,
        "limit": limit,
        "front": limit * FRONT_PER_JOB,
        "worker": worker_id,
        "lease_until": now + lease,
    }


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
    kinds = job_kinds(database)
    chains = _chains(connection, kinds, heads, limit - len(heads), params["now"])
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
        give_back(connection, list(taken), worker_id)
    if len(rows) < limit:  # the queue is short: look for expired leases on the next claim
        _REQUEUED_AT.pop(database, None)
    return [Claimed(row.id, row.kind, row.payload, row.ordering_key, row.attempts) for row in rows]


def complete_and_claim(
    session: Session,
    *,
    database: Database,
    worker_id: str,
    job_ids: list[int],
    limit: int,
    lease: timedelta,
) -> list[Claimed]:
    """Mark the jobs succeeded (checking they are still ours) and claim the next ones, in one
    statement on PostgreSQL."""
    if limit <= 0 or database.dialect != "postgresql":
        mark_succeeded(session, worker_id=worker_id, job_ids=job_ids)
        return claim_next(session, database=database, worker_id=worker_id, limit=limit, lease=lease)
    connection = session.connection()
    _claim_in_index_order(connection)
    now = utcnow()
    if _requeue_due(database):
        connection.execute(REQUEUE_EXPIRED[database.dialect], {"now": now})
    params = _claim_params(now, limit, worker_id, lease)
    # the front only: taking nothing, the worker claims again at once (`claim_batch`), and the
    # key of a job completed here still reads as running in this statement's snapshot
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
        with driver_autocommit(held, True):  # held for the thread's life: see its docstring
            yield held
            held.commit()  # ends SQLAlchemy's bookkeeping only: each statement committed alone


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
    connection: Connection, kinds: JobKinds, heads: Sequence[Row[Any]], room: int, now: datetime
) -> dict[int, list[int]]:
    """For heads of batch-applied kinds: the jobs queued right behind each under its key.

    Other claims cannot take these while their head is unfinished, so no lock is needed; the
    chain stops at the first job that is not runnable now or is of another kind.
    """
    chained = {
        head.ordering_key: head
        for head in heads
        if head.ordering_key is not None
        and (kind := kinds.get(head.kind)) is not None
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


def claim_next(
    session: Session, *, database: Database, worker_id: str, limit: int, lease: timedelta
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


def mark_succeeded(session: Session, *, worker_id: str, job_ids: list[int]) -> None:
    """Mark the jobs succeeded, checking they are still ours (else nothing may commit)."""
    if not job_ids:
        return
    params = {"ids": job_ids, "worker": worker_id, "now": utcnow()}
    connection = session.connection()
    done = connection.execute(COMPLETE[connection.dialect.name], params).all()
    if len(done) != len(job_ids):
        raise LeaseLost(f"{len(job_ids) - len(done)} jobs of a batch were taken over")


def give_back(connection: Connection, job_ids: list[int], worker_id: str) -> int:
    """Claimed jobs back to the queue unrun: the attempt their claim counted is taken back."""
    dialect = connection.dialect.name
    result = connection.execute(GIVE_BACK[dialect], {"ids": job_ids, "worker": worker_id})
    return int(getattr(result, "rowcount", 0) or 0)
