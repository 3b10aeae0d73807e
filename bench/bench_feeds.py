"""parse-webhook upserts per second (1 and 8 clients) and the cost of an unchanged re-post.

    .venv/bin/python -m bench.bench_feeds [--seconds 5] [--database-url URL]

Runs on SQLite, then on PostgreSQL (a `dropwire_bench` database on 127.0.0.1) unless --sqlite-only.
"""

import argparse
import json
import tempfile
from pathlib import Path

from bench.common import (
    admin_token,
    ensure_pg_database,
    free_port,
    fresh_database,
    run_load,
    seed_feed,
    server,
)


def run(url: str, seconds: float) -> None:
    fresh_database(url)
    token = admin_token(url)
    feed_id, _ = seed_feed(url)
    env = {
        "DROPWIRE_DATABASE_URL": url,
        "DROPWIRE_RATE_LIMIT_ENABLED": "false",
        "DROPWIRE_WORKER_IN_PROCESS": "false",
    }
    headers = {"Authorization": f"Bearer {token}"}
    changing = [
        json.dumps({"externalId": "item-{n}", "vendorSku": "SKU-{n}", "inventoryQuantity": q})
        for q in (3, 5, 8)
    ]
    unchanged = [
        json.dumps({"externalId": "steady", "vendorSku": "STEADY", "inventoryQuantity": 5})
    ]
    print(f"database: {url.split(':')[0]}")
    with server("dropwire.app:create_app", free_port(), env=env) as base:
        target = f"{base}/api/inventory-feeds/{feed_id}/parse-webhook.json"
        for clients in (1, 8):
            result = run_load(
                target,
                method="PUT",
                headers=headers,
                bodies=changing,
                concurrency=clients,
                seconds=seconds,
            )
            print(result.line(f"  new/changed items, {clients} client(s)"))
        run_load(
            target, method="PUT", headers=headers, bodies=unchanged, concurrency=1, seconds=0.5
        )
        for clients in (1, 8):
            result = run_load(
                target,
                method="PUT",
                headers=headers,
                bodies=unchanged,
                concurrency=clients,
                seconds=seconds,
            )
            print(result.line(f"  unchanged re-post, {clients} client(s)"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{Path(tmp) / 'bench.db'}", args.seconds)
    if not args.sqlite_only:
        run(ensure_pg_database("dropwire_bench"), args.seconds)


if __name__ == "__main__":
    main()
