"""Throttling with counters in memory and in Redis: the same load, both storages, side by side.

    .venv/bin/python -m bench.bench_throttle [--seconds 10] [--rate 100] [--concurrency 32]
        [--database-url URL] [--redis redis://127.0.0.1:6379]

A paced load (`--rate` requests/s offered) of GET /api/dropship-providers.json and async
parse-webhooks, each with a generous limit so nothing is refused: what it shows is what
counting costs. The server runs in its own uvicorn process; the load comes from another.

    .venv/bin/python -m bench.bench_throttle --mixed [--seconds 60] [--rate 100]
        [--database-url URL] [--redis redis://127.0.0.1:6379]

`--mixed` is the load under which Redis storage once halved the throughput: `dropwire serve`
(its API process and its worker process) answering async manual sales, sync manual sales and
sync feed items in equal parts (bench_soak's load, 8 clients per kind), once with counters in
memory and once in Redis, on a fresh database each time (`--database-url` names an empty
PostgreSQL database to use twice: it is emptied between the runs). It prints answered
requests/s, p50/p95/max latency and the statuses, with the load average.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.bench_api import seed
from bench.bench_soak import Load, load_average
from bench.bench_soak import seed as seed_shop
from bench.common import ROOT, LoadResult, free_port, run_load, seed_feed, server, wait_for


def _loads(base: str, token: str, feed_hash: str, args: argparse.Namespace) -> list[LoadResult]:
    headers = {"Authorization": f"Bearer {token}"}
    reads = run_load(
        base + "/api/dropship-providers.json",
        headers=headers,
        seconds=args.seconds,
        concurrency=args.concurrency,
        rate=args.rate,
    )
    bodies = [json.dumps([{"externalId": f"t-{i}", "quantity": i % 7}]) for i in range(200)]
    writes = run_load(
        base + "/webhooks/inventory-feeds/parse-webhooks.json",
        method="POST",
        headers={"Jetti-Webhook-Hash": feed_hash, "Content-Type": "application/json"},
        bodies=bodies,
        seconds=args.seconds,
        concurrency=args.concurrency,
        rate=args.rate,
    )
    return [reads, writes]


def _empty(url: str) -> None:
    """Drop every table of the PostgreSQL database `url` (the mixed runs each start afresh)."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    engine.dispose()


def _mixed_run(url: str, storage: str, args: argparse.Namespace) -> str:
    token = "throttle-admin-token-0123456789abcdef"
    port = free_port()
    env = {
        **os.environ,
        "DROPWIRE_DATABASE_URL": url,
        "DROPWIRE_ADMIN_TOKEN": token,
        "DROPWIRE_RATE_LIMIT_STORAGE": storage,
        "DROPWIRE_RATE_LIMIT_READ": "100000/second",
        "DROPWIRE_RATE_LIMIT_WRITE": "100000/second",
        "DROPWIRE_LOG_LEVEL": "WARNING",
    }
    cli = [sys.executable, "-m", "dropwire.cli"]
    subprocess.run([*cli, "migrate"], env=env, cwd=ROOT, check=True, capture_output=True)
    serving = subprocess.Popen([*cli, "serve", "--port", str(port)], env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base + "/health", timeout=600)
        channel, feed = seed_shop(base, token, url)
        load = Load(base, token, channel, feed, args.rate, clients=8)
        clients = load.threads()
        for client in clients:
            client.start()
        time.sleep(5)  # warm up
        load.take()
        load.statuses.clear()
        time.sleep(args.seconds)
        with load.lock:
            answered, errors = load.answered, load.errors
            latencies = sorted(load.latencies)
            statuses = dict(load.statuses)
        load.stop.set()
        for client in clients:
            client.join(timeout=30)
    finally:
        serving.send_signal(signal.SIGTERM)
        serving.wait(timeout=60)

    def at(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(len(latencies) * p / 100))] * 1000

    name = "redis" if storage.startswith("redis") else "memory"
    return (
        f"counters {name:6s} {answered / args.seconds:6.1f} answered/s  errors {errors}  "
        f"p50 {at(50):7.1f} ms  p95 {at(95):7.1f} ms  max {at(100):7.1f} ms  "
        f"statuses {statuses}  load average {load_average()}"
    )


def mixed(args: argparse.Namespace) -> None:
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        for storage in ("memory://", args.redis):
            if args.database_url:
                _empty(args.database_url)
                url = args.database_url
            else:
                url = f"sqlite:///{Path(tmp) / (storage.split(':')[0] + '.db')}"
            lines.append(_mixed_run(url, storage, args))
            print(lines[-1], flush=True)
    print(f"dropwire serve, mixed load, {args.rate:.0f} req/s offered, {args.seconds:.0f} s each")
    for line in lines:
        print(line)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379")
    parser.add_argument("--mixed", action="store_true", help="`dropwire serve`, mixed load")
    args = parser.parse_args()
    if args.mixed:
        mixed(args)
        return
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        token = seed(url)
        _feed_id, feed_hash = seed_feed(url)
        results: dict[str, list[LoadResult]] = {}
        for storage in ("memory://", args.redis):
            env = {
                "DROPWIRE_DATABASE_URL": url,
                "DROPWIRE_RATE_LIMIT_STORAGE": storage,
                "DROPWIRE_RATE_LIMIT_READ": "100000/second",
                "DROPWIRE_RATE_LIMIT_WRITE": "100000/second",
                "DROPWIRE_WORKER_IN_PROCESS": "false",
                "DROPWIRE_BENCH_RUN": uuid.uuid4().hex,
            }
            with server("dropwire.app:create_app", free_port(), env=env) as base:
                _loads(base, token, feed_hash, argparse.Namespace(**{**vars(args), "seconds": 1}))
                results[storage] = _loads(base, token, feed_hash, args)
    offered = f"{args.rate:.0f} req/s offered, {args.seconds:.0f} s each"
    print(f"database: {url.split(':')[0]}, {offered}")
    for storage, (reads, writes) in results.items():
        print(reads.line(f"GET providers, counters {storage}"))
        print(writes.line(f"POST parse-webhooks, counters {storage}"))


if __name__ == "__main__":
    main()
