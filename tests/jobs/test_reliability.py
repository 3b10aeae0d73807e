"""A killed worker's job runs again exactly once; many workers never share a job."""

import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select, update

from dropwire.apilog.models import ApiLog
from dropwire.core.time import utcnow
from dropwire.jobs import claiming, service
from dropwire.jobs.models import Job, JobState
from dropwire.jobs.worker import Worker
from tests.jobs.test_queue import enqueue, state, warehouses
from tests.processes import SETTLE_SECONDS, wait_until

ROOT = Path(__file__).resolve().parents[2]

WORKER = """
import sys
from datetime import timedelta
from tests.jobs.handlers import TEST_WIRING
from dropwire.core.db import Database
from dropwire.jobs import claiming, service
database = Database(sys.argv[1], wiring=TEST_WIRING)
# a lease no CPU-starved test outlasts: the test, not the clock, says when it runs out
claimed = claiming.claim_batch(database, "doomed", 1, timedelta(hours=1))
service.run_batch(database, "doomed", claimed)
"""


def test_sigkilled_worker_job_runs_again_exactly_once(database):
    job_id = enqueue(database, "test.make_warehouse", {"name": "once"})
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, database.url],
        cwd=ROOT,
        env={**os.environ, "DROPWIRE_TEST_SLOW_JOBS": "1"},
    )
    try:
        wait_until(
            lambda: state(database, job_id).state == JobState.running,
            SETTLE_SECONDS,
            "the worker never claimed the job",
        )
        time.sleep(0.5)  # the handler has written its effect and is sleeping inside the transaction
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    assert warehouses(database, "once") == 0  # the killed transaction left nothing behind
    assert service.run_pending(database) == 0  # still leased to the dead worker
    with database.transaction() as session:
        session.execute(update(Job).values(lease_expires_at=utcnow() - timedelta(seconds=1)))
    assert service.run_pending(database) == 1
    assert warehouses(database, "once") == 1
    job = state(database, job_id)
    assert job.state == JobState.succeeded
    assert job.attempts == 2


@dataclass(frozen=True)
class Claim:
    """One claim of a job, as a draining thread saw it."""

    worker: str
    attempt: int
    asked_at: datetime  # before the claim: its lease ran to at least `asked_at + lease`
    got_at: datetime  # after it: any claim that took the job over was made before this
    outcome: JobState | None = None  # what running it gave this worker (None: not its any more)


def queue_counts(database, total, **payload):
    with database.transaction() as session:
        session.execute(
            insert(Job),
            [
                {
                    "kind": "test.count",
                    "payload": {"n": n, **payload},
                    "priority": 100,
                    "state": "queued",
                    "attempts": 0,
                    "max_attempts": 100,
                    "run_at": utcnow(),
                    "created_at": utcnow(),
                    "updated_at": utcnow(),
                }
                for n in range(total)
            ],
        )


def drain(database, limits, lease, run_batch):
    """Threads (one per limit) claim and run until the queue is empty; every claim is kept.

    `run_batch`: the worker's path (a batch per transaction, fenced at its completion);
    otherwise each job in its own transaction (fenced by its row lock and holder)."""
    claims: dict[int, list[Claim]] = {}
    lock = threading.Lock()

    def work(name, limit):
        while True:
            asked_at = utcnow()
            claimed = claiming.claim_batch(database, name, limit, lease)
            got_at = utcnow()
            if not claimed:
                return
            if run_batch:
                outcomes = service.run_batch(database, name, claimed)
            else:
                outcomes = {job.id: service.run(database, job.id, name) for job in claimed}
            with lock:
                for job in claimed:
                    claim = Claim(name, job.attempt, asked_at, got_at, outcomes[job.id])
                    claims.setdefault(job.id, []).append(claim)

    threads = [threading.Thread(target=work, args=(f"w{i}", n)) for i, n in enumerate(limits)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return claims


def takeovers(database, claims, lease, total):
    """Check what a queue must guarantee, and return how many claims were takeovers.

    A job is never claimed while an earlier claim's lease holds: a later claim of it was made
    after the earlier lease ran out. (Its holder starved of CPU past the lease, or frozen, is
    taken over: that is the lease working, not a double claim.) An earlier holder applies
    nothing (fenced: it no longer holds the job); the last one applies it, so each job's effect
    is committed exactly once and the job counts one attempt per claim."""
    assert len(claims) == total
    for job_id, taken in claims.items():
        taken.sort(key=lambda claim: claim.attempt)
        assert [claim.attempt for claim in taken] == list(range(1, len(taken) + 1)), taken
        for earlier, later in itertools.pairwise(taken):
            assert later.got_at - earlier.asked_at > lease, f"job {job_id} claimed twice: {taken}"
            assert earlier.outcome is None, f"job {job_id}: a taken-over holder applied it"
        assert taken[-1].outcome is JobState.succeeded, taken
    with database.session(write=False) as session:
        runs = session.scalar(
            select(func.count()).select_from(ApiLog).where(ApiLog.kind == "test.count")
        )
        distinct = session.scalar(select(func.count(func.distinct(ApiLog.external_id))))
        left = session.scalar(select(func.count()).select_from(Job).where(Job.state != "succeeded"))
        attempts = {row.id: row.attempts for row in session.execute(select(Job.id, Job.attempts))}
    assert (runs, distinct, left) == (total, total, 0)
    assert attempts == {job_id: len(taken) for job_id, taken in claims.items()}
    return sum(len(taken) - 1 for taken in claims.values())


def test_many_workers_drain_jobs_each_once(database, is_postgres):
    """Four threads share the queue (PostgreSQL: `SKIP LOCKED`; SQLite: one writer at a time).
    Under heavy CPU load a thread can outlast its 10 s lease (this test renews none) and see its
    jobs taken over; the checks tell that from a double claim."""
    total = 10_000 if is_postgres else 2_000
    queue_counts(database, total)
    claims = drain(database, (50, 50, 50, 50), claiming.LEASE, run_batch=False)
    takeovers(database, claims, claiming.LEASE, total)
    assert len({claim.worker for taken in claims.values() for claim in taken}) == 4


def test_jobs_taken_over_from_holders_past_their_lease_are_applied_once(database):
    """Leases shorter than the batches that hold them: the slow threads' jobs are taken over by
    the quick ones mid-batch, and neither the batch's commit nor the job-by-job retry of the
    old holder applies any of them."""
    lease = timedelta(seconds=0.3)
    total = 300
    queue_counts(database, total, sleep=0.02)
    claims = drain(database, (5, 10, 20, 40), lease, run_batch=True)
    assert takeovers(database, claims, lease, total) > 0, "no lease ran out: nothing was tested"


def test_heartbeat_renews_only_the_jobs_a_worker_knows_it_holds(database):
    first = enqueue(database, "test.count", {"n": 1})
    second = enqueue(database, "test.count", {"n": 2})
    claimed = claiming.claim_batch(database, "host:1:w/0", 10, timedelta(seconds=1))
    assert {job.id for job in claimed} == {first, second}
    assert service.heartbeat(database, "host:1:w/", [first], timedelta(hours=1)) == 1
    assert state(database, first).lease_expires_at > utcnow() + timedelta(minutes=30)
    assert state(database, second).lease_expires_at < utcnow() + timedelta(seconds=2)
    assert service.heartbeat(database, "host:1:w/", [], timedelta(hours=1)) == 0


def test_a_claim_whose_answer_was_lost_expires_and_its_job_runs(database):
    """A claim can commit while its answer is lost with the connection: its job stays running
    under the worker's name though none of its loops holds it. The heartbeat must not keep it
    alive until the process ends: once its lease runs out, the job runs."""
    job_id = enqueue(database, "test.make_warehouse", {"name": "lost claim"})
    worker = Worker(database, poll_interval=0.05, lease_seconds=1.0)
    with database.transaction() as session:  # what the lost claim left behind
        session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(
                state=JobState.running,
                locked_by=f"{worker.name}/0",
                lease_expires_at=utcnow() + timedelta(seconds=1),
            )
        )
    worker.start()
    try:
        deadline = time.monotonic() + 15
        while state(database, job_id).state != JobState.succeeded and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        worker.stop()
    assert state(database, job_id).state == JobState.succeeded
    assert warehouses(database, "lost claim") == 1


def test_a_claim_does_not_wait_for_a_job_run_alone_past_its_lease(database, postgres_only):
    """A job run in its own transaction holds its row locked; once its lease runs out, other
    workers' claims skip it (its holder is alive) instead of waiting behind the lock."""
    running = enqueue(database, "test.count", {"n": 1})
    waiting = enqueue(database, "test.count", {"n": 2})
    assert claiming.claim(database, "slow", 1) == [running]
    with database.transaction() as session:
        session.execute(
            update(Job).where(Job.id == running).values(lease_expires_at=utcnow() - LEASE_GONE)
        )
    with database.transaction() as holder:  # "slow" is running it alone
        holder.execute(select(Job.id).where(Job.id == running).with_for_update())
        claiming._REQUEUED_AT.pop(database, None)  # this claim looks for expired leases
        started = time.monotonic()
        assert claiming.claim(database, "quick", 10) == [waiting]
        assert time.monotonic() - started < 1.5  # the API role's lock timeout is 2 s
    assert state(database, running).locked_by == "slow"


LEASE_GONE = timedelta(seconds=1)
