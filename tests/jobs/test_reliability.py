"""A killed worker's job runs again exactly once; many workers never share a job."""

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, insert, select, update

from dropwire.apilog.models import ApiLog
from dropwire.core.time import utcnow
from dropwire.jobs import claiming, service
from dropwire.jobs.models import Job, JobState
from dropwire.jobs.worker import Worker
from tests.jobs.test_queue import enqueue, state, warehouses

ROOT = Path(__file__).resolve().parents[2]

WORKER = """
import sys
from tests.jobs.handlers import TEST_WIRING
from dropwire.core.db import Database
from dropwire.jobs import service
database = Database(sys.argv[1], wiring=TEST_WIRING)
service.run_pending(database, worker_id="doomed", max_jobs=1)
"""


def test_sigkilled_worker_job_runs_again_exactly_once(database):
    job_id = enqueue(database, "test.make_warehouse", {"name": "once"})
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, database.url],
        cwd=ROOT,
        env={**os.environ, "DROPWIRE_TEST_SLOW_JOBS": "1"},
    )
    try:
        deadline = time.monotonic() + 30
        while state(database, job_id).state != JobState.running:
            assert time.monotonic() < deadline, "the worker never claimed the job"
            time.sleep(0.05)
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


def test_many_workers_drain_10000_jobs_each_once(database, postgres_only):
    total = 10_000
    with database.transaction() as session:
        session.execute(
            insert(Job),
            [
                {
                    "kind": "test.count",
                    "payload": {"n": n},
                    "priority": 100,
                    "state": "queued",
                    "attempts": 0,
                    "max_attempts": 3,
                    "run_at": utcnow(),
                    "created_at": utcnow(),
                    "updated_at": utcnow(),
                }
                for n in range(total)
            ],
        )
    claimed_by: dict[int, str] = {}
    lock = threading.Lock()
    duplicates: list[int] = []

    def drain(name: str) -> None:
        while True:
            ids = claiming.claim(database, name, limit=50)
            if not ids:
                return
            with lock:
                for job_id in ids:
                    if job_id in claimed_by:
                        duplicates.append(job_id)
                    claimed_by[job_id] = name
            for job_id in ids:
                service.run(database, job_id, name)

    threads = [threading.Thread(target=drain, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert duplicates == []
    assert len(set(claimed_by.values())) == 4
    with database.session(write=False) as session:
        runs = session.scalar(
            select(func.count()).select_from(ApiLog).where(ApiLog.kind == "test.count")
        )
        distinct = session.scalar(select(func.count(func.distinct(ApiLog.external_id))))
        left = session.scalar(select(func.count()).select_from(Job).where(Job.state != "succeeded"))
    assert runs == total
    assert distinct == total
    assert left == 0


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
