"""Throttling with counters in memory and in Redis: the same load, both storages, side by side.

    .venv/bin/python -m bench.bench_throttle [--seconds 10] [--rate 100] [--concurrency 32]
        [--database-url URL] [--redis redis://127.0.0.1:6379]

A paced load (`--rate` requests/s offered) of GET /api/dropship-providers.json and async
parse-webhooks, each with a generous limit so nothing is refused: what it shows is what
counting costs. The server runs in its own uvicorn process; the load comes from another.
"""

import argparse
import json
import tempfile
import uuid
from pathlib import Path

from bench.bench_api import seed
from bench.common import LoadResult, free_port, run_load, seed_feed, server


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379")
    args = parser.parse_args()
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
