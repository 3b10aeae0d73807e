"""The async inbound API and the job queue, on 2 cores.

    .venv/bin/python -m bench.bench_inbound [--seconds 5]

1. Accepted async requests/s and accept latency (one item per request) vs a bare FastAPI POST.
2. Jobs/s drained by 1 and 4 worker threads on PostgreSQL.
3. Accept-to-applied lag (p50/p99) at a sustained 200 requests/s with `dropwire worker` running.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from sqlalchemy import func, select

from bench.common import (
    ROOT,
    ensure_pg_database,
    free_port,
    fresh_database,
    run_load,
    seed_feed,
    server,
)


def item_body(prefix: str) -> list[str]:
    return [json.dumps([{"externalId": f"{prefix}-{{n}}", "inventoryQuantity": 5}])]


def accept_rates(url: str, feed_hash: str, seconds: float) -> None:
    env = {
        "DROPWIRE_DATABASE_URL": url,
        "DROPWIRE_RATE_LIMIT_ENABLED": "false",
        "DROPWIRE_WORKER_IN_PROCESS": "false",
    }
    with server("bench.bare_app:app", free_port(), factory=False) as base:
        bare = run_load(
            base + "/accept", method="POST", bodies=['{"a": 1}'], concurrency=16, seconds=seconds
        )
    with server("dropwire.app:create_app", free_port(), env=env) as base:
        target = base + "/webhooks/inventory-feeds/parse-webhooks.json"
        ours = run_load(
            target,
            method="POST",
            headers={"jetti-webhook-hash": feed_hash},
            bodies=item_body("acc"),
            concurrency=16,
            seconds=seconds,
        )
    print(bare.line("  bare FastAPI POST"))
    print(ours.line("  POST /webhooks/.../parse-webhooks.json"))
    print(f"  accept throughput ratio dropwire/bare: {ours.rps / bare.rps:.2f}")


def drain_rates(url: str, jobs: int) -> None:
    from dropwire import domains

    domains.load()
    from dropwire.core.db import Database
    from dropwire.feeds.models import InventoryFeed
    from dropwire.jobs import service
    from dropwire.jobs.models import Job
    from dropwire.jobs.worker import Worker

    database = Database(url)
    for threads in (1, 4):
        with database.transaction() as session:
            feed = session.scalars(select(InventoryFeed)).first()
            assert feed is not None
            for n in range(jobs):
                service.enqueue(
                    session,
                    "inbound.parse_webhook",
                    {
                        "ownerId": feed.id,
                        "item": {"externalId": f"d{threads}-{n}", "inventoryQuantity": 1},
                        "endpoint": "bench",
                    },
                )
        worker = Worker(database, threads=threads, poll_interval=0.05, batch=20)
        started = time.perf_counter()
        worker.start()
        while True:
            with database.session(write=False) as session:
                left = session.scalar(
                    select(func.count())
                    .select_from(Job)
                    .where(
                        Job.state.in_(("queued", "running")), Job.kind == "inbound.parse_webhook"
                    )
                )
            if not left:
                break
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        worker.stop()
        print(f"  {threads} worker thread(s): {jobs / elapsed:8.0f} jobs/s ({jobs} items)")
    database.dispose()


def lag(url: str, feed_hash: str, seconds: float) -> None:
    from dropwire.apilog.models import ApiLog
    from dropwire.core.db import Database
    from dropwire.jobs.models import Job

    env = {
        "DROPWIRE_DATABASE_URL": url,
        "DROPWIRE_RATE_LIMIT_ENABLED": "false",
        "DROPWIRE_WORKER_IN_PROCESS": "false",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "dropwire.cli", "worker", "--threads", "2"],
        cwd=ROOT,
        env={**os.environ, **env},
        stderr=subprocess.DEVNULL,
    )
    try:
        with server("dropwire.app:create_app", free_port(), env=env) as base:
            target = base + "/webhooks/inventory-feeds/parse-webhooks.json"
            sent = run_load(
                target,
                method="POST",
                headers={"jetti-webhook-hash": feed_hash},
                bodies=item_body("lag"),
                concurrency=8,
                seconds=seconds,
                rate=200,
            )
        time.sleep(3)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    database = Database(url)
    with database.session(write=False) as session:
        logged = dict(
            session.execute(
                select(ApiLog.external_id, ApiLog.created_at).where(
                    ApiLog.external_id.like("lag-%")
                )
            ).all()
        )
        accepted = {
            str(item.get("externalId")): job.created_at
            for job in session.scalars(select(Job).where(Job.kind == "inbound.parse_webhook"))
            # one job per request holds its `items` (older jobs: one `item` each)
            for item in job.payload.get("items") or [job.payload.get("item") or {}]
            if str(item.get("externalId", "")).startswith("lag-")
        }
    database.dispose()
    lags = sorted((logged[k] - accepted[k]).total_seconds() * 1000 for k in accepted if k in logged)
    print(
        f"  {sent.rps:.0f} req/s for {seconds:.0f} s: {len(lags)}/{len(accepted)} applied; "
        f"lag p50 {statistics.median(lags):.0f} ms, p99 {lags[int(len(lags) * 0.99) - 1]:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--jobs", type=int, default=3000)
    args = parser.parse_args()
    url = ensure_pg_database("dropwire_bench")
    fresh_database(url)
    _, feed_hash = seed_feed(url)
    print("accepting (PostgreSQL, 16 concurrent clients):")
    accept_rates(url, feed_hash, args.seconds)
    print("draining (PostgreSQL):")
    drain_rates(url, args.jobs)
    print("accept → applied at 200 req/s (PostgreSQL, API + `dropwire worker` processes):")
    lag(url, feed_hash, max(args.seconds, 10))


if __name__ == "__main__":
    main()
