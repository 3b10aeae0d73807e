"""manual-sale requests per second and p99 for sales of 1, 5 and 20 lines across 3 vendors.

Also, in this process: SQL statements per sale and per line (a `before_cursor_execute` count),
and the CPU milliseconds one sale costs; `--profile` prints a cProfile of 20-line sales.

.venv/bin/python -m bench.bench_sales [--seconds 5] [--sqlite-only] [--pg-database NAME]
    [--profile] [--workers N]

With `--workers 2` the server runs two processes (`dropwire serve --workers 2`); group sizes are
then not printed (each process has its own metrics, and /metrics answers from either).
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
    group_totals,
    run_load,
    server,
)
from dropwire import domains


def seed(url: str) -> int:
    from dropwire.catalog.models import Product, Variant
    from dropwire.channels.models import Channel
    from dropwire.feeds.schemas import FeedCreate, FeedVariantData
    from dropwire.feeds.service import create_feed, upsert_feed_variant
    from dropwire.vendors.models import DropshipProvider

    database = domains.database(url)
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
            feed = create_feed(session, data=FeedCreate(dropship_provider_id=vendor.id))
            for n in range(index, 60, 3):  # each vendor stocks a third of the SKUs
                upsert_feed_variant(
                    session,
                    feed=feed,
                    data=FeedVariantData(
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


def in_process(url: str, channel_id: int, profile: bool) -> None:
    """Statements and CPU time per sale, without HTTP: what the sale path itself costs."""
    import cProfile
    import pstats
    import time

    from sqlalchemy import event

    from dropwire.channels.models import Channel
    from dropwire.sales import manual
    from dropwire.sales.schemas import ManualSale

    database = domains.database(url)
    statements = [0]

    def count(*_args: object) -> None:
        statements[0] += 1

    event.listen(database.engine, "before_cursor_execute", count)
    for lines in (1, 5, 20):
        template = body(lines)
        sales = 30
        statements[0] = 0
        profiler = cProfile.Profile() if profile and lines == 20 else None
        started = time.process_time()
        for n in range(sales):
            data = ManualSale.model_validate_json(template.replace("{n}", f"cpu-{n}"))
            if profiler:
                profiler.enable()
            with database.transaction() as session:
                channel = session.get(Channel, channel_id)
                manual.upsert_manual_sale(session, channel=channel, data=data)
            if profiler:
                profiler.disable()
        cpu_ms = (time.process_time() - started) * 1000 / sales
        per_sale = statements[0] / sales
        print(
            f"  {lines:>2}-line sale, in process: {per_sale:5.1f} statements "
            f"({per_sale / lines:4.1f} per line), {cpu_ms:6.2f} ms CPU"
        )
        if profiler:
            stats = pstats.Stats(profiler)
            stats.sort_stats("cumulative").print_stats(25)
    database.dispose()


def run(url: str, seconds: float, profile: bool = False, workers: int = 1) -> None:
    fresh_database(url)
    token = admin_token(url)
    channel_id = seed(url)
    env = {
        "DROPWIRE_DATABASE_URL": url,
        "DROPWIRE_RATE_LIMIT_ENABLED": "false",
        "DROPWIRE_WORKER_IN_PROCESS": "false",
    }
    print(f"database: {url.split(':')[0]}, {workers} server process(es)")
    with server("dropwire.app:create_app", free_port(), env=env, workers=workers) as base:
        target = f"{base}/api/channels/{channel_id}/manual-sale.json"
        headers = {"Authorization": f"Bearer {token}"}
        for lines in (1, 5, 20):
            before = group_totals(base)
            result = run_load(
                target,
                method="POST",
                headers=headers,
                bodies=[body(lines)],
                concurrency=4,
                seconds=seconds,
            )
            groups, units = (
                after - earlier for after, earlier in zip(group_totals(base), before, strict=True)
            )
            grouping = f"   {units / max(groups, 1):.1f} sales a group" if workers == 1 else ""
            print(result.line(f"  {lines:>2}-line sales, 4 clients") + grouping)
    in_process(url, channel_id, profile)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--pg-database", default="dropwire_bench")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{Path(tmp) / 'bench.db'}", args.seconds, args.profile, args.workers)
    if not args.sqlite_only:
        run(ensure_pg_database(args.pg_database), args.seconds, args.profile, args.workers)


if __name__ == "__main__":
    main()
