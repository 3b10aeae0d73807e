"""manual-sale requests per second and p99 for sales of 1, 5 and 20 lines across 3 vendors.

.venv/bin/python -m bench.bench_sales [--seconds 5] [--sqlite-only]
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
    server,
)


def seed(url: str) -> int:
    from dropwire.catalog.models import Product, Variant
    from dropwire.channels.models import Channel
    from dropwire.core.db import Database
    from dropwire.feeds.schemas import FeedCreate, FeedVariantData
    from dropwire.feeds.service import create_feed, upsert_feed_variant
    from dropwire.vendors.models import DropshipProvider

    database = Database(url)
    with database.transaction() as session:
        channel = Channel(name="Bench store")
        product = Product(name="Bench")
        session.add_all([channel, product])
        session.flush()
        for n in range(60):
            session.add(Variant(product_id=product.id, sku=f"S-{n}", sku_key=f"s-{n}", name="s"))
        session.flush()
        for index in range(3):
            vendor = DropshipProvider(name=f"Vendor {index}", priority=index)
            session.add(vendor)
            session.flush()
            feed = create_feed(session, FeedCreate(dropship_provider_id=vendor.id))
            for n in range(index, 60, 3):  # each vendor stocks a third of the SKUs
                upsert_feed_variant(
                    session,
                    feed,
                    FeedVariantData(
                        external_id=f"S-{n}", vendor_sku=f"S-{n}", inventory_quantity=10_000_000
                    ),
                )
        channel_id = channel.id
    database.dispose()
    return channel_id


def body(lines: int) -> str:
    items = [
        {"externalId": f"l{k}", "quantity": 1, "price": 10, "variant": {"sku": f"S-{k % 60}"}}
        for k in range(lines)
    ]
    return json.dumps(
        {
            "externalId": f"bench-{lines}-{{n}}",
            "lineItems": items,
            "saleDefaults": {"receiverCountry": "US"},
        }
    )


def run(url: str, seconds: float) -> None:
    fresh_database(url)
    token = admin_token(url)
    channel_id = seed(url)
    env = {
        "DROPWIRE_DATABASE_URL": url,
        "DROPWIRE_RATE_LIMIT_ENABLED": "false",
        "DROPWIRE_WORKER_IN_PROCESS": "false",
    }
    print(f"database: {url.split(':')[0]}")
    with server("dropwire.http.app:create_app", free_port(), env=env) as base:
        target = f"{base}/api/channels/{channel_id}/manual-sale.json"
        headers = {"Authorization": f"Bearer {token}"}
        for lines in (1, 5, 20):
            result = run_load(
                target,
                method="POST",
                headers=headers,
                bodies=[body(lines)],
                concurrency=4,
                seconds=seconds,
            )
            print(result.line(f"  {lines:>2}-line sales, 4 clients"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--pg-database", default="dropwire_bench")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{Path(tmp) / 'bench.db'}", args.seconds)
    if not args.sqlite_only:
        run(ensure_pg_database(args.pg_database), args.seconds)


if __name__ == "__main__":
    main()
