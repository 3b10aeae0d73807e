"""The job queue's drain rate, side by side with PgQueuer on the same PostgreSQL server.

    .venv/bin/pip install -e ".[bench]"        # PgQueuer: a bench-only extra
    .venv/bin/python -m bench.bench_jobs [--jobs 10000] [--threads 2] [--rounds 3] [--batches 200]

1. No-op jobs drained per second at batch 10 and 50, one worker process each: Dropwire on
   PostgreSQL, PgQueuer on the same PostgreSQL server (its own database), Dropwire on SQLite.
2. Async parse-webhooks items applied per second (requests of 50 items), on both databases.

The machine has 2 shared cores: figures are approximate; compare sides of one run.
"""

import argparse
import asyncio
import statistics
import tempfile
import time
from typing import Any

from sqlalchemy import exists, insert, select
from sqlalchemy.orm import Session

from bench.common import ensure_pg_database, fresh_database, seed_feed
from dropwire import domains
from dropwire.contributions import Contributions, assemble
from dropwire.core.db import Database
from dropwire.core.time import utcnow
from dropwire.jobs.models import UNFINISHED, Job
from dropwire.jobs.registry import JobKind
from dropwire.jobs.worker import Worker

NOOP = "bench.noop"
CPU_SECONDS: list[float] = []  # this process's CPU time of each timed drain, in order
BATCHES = (10, 50)


def _noop(_session: Session, _payload: dict[str, Any]) -> None:
    """Does nothing: the drain rate is the queue's own cost."""


# Every domain's declarations and the no-op kind this benchmark queues.
WIRING = assemble((*domains.DECLARATIONS, Contributions(job_kinds=(JobKind(NOOP, _noop),))))


def _unfinished(database: Database, kind: str) -> bool:
    """Whether a job of `kind` is still queued or running (an index probe on the state, so
    watching costs little however many finished jobs the table keeps)."""
    with database.session(write=False) as session:
        return bool(
            session.scalar(select(exists().where(Job.state.in_(UNFINISHED), Job.kind == kind)))
        )


def _drain(database: Database, kind: str, threads: int, batch: int) -> float:
    """Seconds a worker with `threads` threads takes to finish every queued job of `kind`."""
    worker = Worker(database, threads=threads, poll_interval=0.01, batch=batch)
    started, cpu = time.perf_counter(), time.process_time()
    worker.start()
    try:
        while _unfinished(database, kind):
            time.sleep(0.01)
        CPU_SECONDS.append(time.process_time() - cpu)
        return time.perf_counter() - started
    finally:
        worker.stop()


def dropwire_noop(url: str, jobs: int, threads: int, batch: int) -> float:
    database = Database(url, wiring=WIRING)
    now = utcnow()
    with database.transaction() as session:
        session.execute(
            insert(Job),
            [
                {
                    "kind": NOOP,
                    "payload": {"n": n},
                    "priority": 100,
                    "state": "queued",
                    "attempts": 0,
                    "max_attempts": 3,
                    "run_at": now,
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(jobs)
            ],
        )
    seconds = _drain(database, NOOP, threads, batch)
    database.dispose()
    return jobs / seconds


async def _pgqueuer(dsn: str, jobs: int, batch: int) -> float:
    """PgQueuer's fastest setup: asyncpg on uvloop (its `asyncpg` extra)."""
    import asyncpg
    from pgqueuer.adapters.drivers.asyncpg import AsyncpgDriver
    from pgqueuer.core.qm import QueueManager
    from pgqueuer.models import Job as PgqJob
    from pgqueuer.queries import Queries
    from pgqueuer.types import QueueExecutionMode

    setup = await asyncpg.connect(dsn)
    try:
        queries = Queries(AsyncpgDriver(setup))
        if await queries.schema_is_installed():
            await queries.uninstall()
        await queries.install()
        for start in range(0, jobs, 10_000):
            size = min(10_000, jobs - start)
            await queries.enqueue([NOOP] * size, [None] * size, [0] * size)
    finally:
        await setup.close()

    connection = await asyncpg.connect(dsn)
    watcher = await asyncpg.connect(dsn)
    try:
        manager = QueueManager(Queries(AsyncpgDriver(connection)))
        table = manager.queries.qbe.settings.queue_table

        @manager.entrypoint(NOOP)
        async def _noop(_job: PgqJob) -> None:
            return None

        # Timed like Dropwire's side: until every job's completion is stored (PgQueuer deletes
        # a job from its queue table when it logs the completion), not until run() returns:
        # in drain mode that waits seconds more for timeouts.
        started, cpu = time.perf_counter(), time.process_time()
        running = asyncio.create_task(manager.run(batch_size=batch, mode=QueueExecutionMode.drain))
        while await watcher.fetchval(f"SELECT count(*) FROM {table}"):
            await asyncio.sleep(0.01)
        seconds = time.perf_counter() - started
        CPU_SECONDS.append(time.process_time() - cpu)
        manager.shutdown.set()
        await running
        return jobs / seconds
    finally:
        await watcher.close()
        await connection.close()


def pgqueuer_noop(jobs: int, batch: int, name: str) -> float | None:
    try:
        import pgqueuer  # noqa: F401
        import uvloop
    except ImportError:
        return None
    ensure_pg_database(name)
    dsn = f"postgresql://postgres@127.0.0.1:5432/{name}"
    return uvloop.run(_pgqueuer(dsn, jobs, batch))


def parse_webhooks(url: str, batches: int, threads: int, batch: int) -> float:
    """Items/s applied when `batches` async requests of 50 items each are queued for one feed."""
    from dropwire.inbound import service
    from dropwire.inbound.registry import InboundKinds

    feed_id, _hash = seed_feed(url)
    database = domains.database(url)
    kind = database.wiring.part(InboundKinds)["inbound.parse_webhook"]
    with database.transaction() as session:
        for b in range(batches):
            items = [
                {
                    "externalId": f"{batch}-{b}-{k}",
                    "vendorSku": f"V{batch}-{b}-{k}",
                    "inventoryQuantity": k,
                }
                for k in range(50)
            ]
            service.accept(session, kind=kind, owner_id=feed_id, items=items, endpoint="bench")
    seconds = _drain(database, kind.name, threads, batch)
    database.dispose()
    return batches * 50 / seconds


def _median(rates: list[float], cpu: list[float], jobs: int) -> str:
    """The median of the rounds, their spread (the machine is shared: figures wander) and this
    process's CPU time per job (the client side; the server's share is not in it)."""
    cpu_us = statistics.median(cpu) * 1e6 / jobs
    return (
        f"{statistics.median(rates):8,.0f} ({min(rates):,.0f}-{max(rates):,.0f}),"
        f" {cpu_us:4.0f} µs CPU/job"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3, help="sides alternate; medians shown")
    parser.add_argument("--batches", type=int, default=200, help="async requests of 50 items")
    parser.add_argument("--pg-database", default="dropwire_bench_jobs")
    parser.add_argument("--pgqueuer-database", default="dropwire_bench_pgqueuer")
    parser.add_argument("--only", choices=("noop", "webhooks"), help="run one part only")
    args = parser.parse_args()
    pg = ensure_pg_database(args.pg_database)
    with tempfile.TemporaryDirectory() as tmp:
        lite = f"sqlite:///{tmp}/bench.db"
        for url in (pg, lite):
            fresh_database(url)
        print(
            f"no-op drain of {args.jobs:,} jobs, jobs/s, median of {args.rounds} alternating"
            f" rounds (range); Dropwire: one worker, {args.threads} threads"
        )
        for batch in BATCHES if args.only != "webhooks" else ():
            ours_pg: list[float] = []
            theirs: list[float] = []
            ours_lite: list[float] = []
            cpu: dict[str, list[float]] = {"pg": [], "pgq": [], "lite": []}
            for _ in range(args.rounds):
                ours_pg.append(dropwire_noop(pg, args.jobs, args.threads, batch))
                cpu["pg"].append(CPU_SECONDS[-1])
                pgq = pgqueuer_noop(args.jobs, batch, args.pgqueuer_database)
                if pgq is not None:
                    theirs.append(pgq)
                    cpu["pgq"].append(CPU_SECONDS[-1])
                ours_lite.append(dropwire_noop(lite, args.jobs, args.threads, batch))
                cpu["lite"].append(CPU_SECONDS[-1])
            pgq_text = (
                _median(theirs, cpu["pgq"], args.jobs) if theirs else "(pip install pgqueuer)"
            )
            print(
                f"  batch {batch:>2}: Dropwire PostgreSQL {_median(ours_pg, cpu['pg'], args.jobs)}"
            )
            print(f"            PgQueuer PostgreSQL {pgq_text}")
            print(f"            Dropwire SQLite     {_median(ours_lite, cpu['lite'], args.jobs)}")
        if args.only == "noop":
            return
        print(f"async parse-webhooks, {args.batches} requests of 50 items, items/s applied:")
        for batch in BATCHES:
            on_pg = parse_webhooks(pg, args.batches, args.threads, batch)
            on_lite = parse_webhooks(lite, args.batches, args.threads, batch)
            print(f"  batch {batch:>2}: PostgreSQL {on_pg:8,.0f} | SQLite {on_lite:8,.0f}")


if __name__ == "__main__":
    main()
