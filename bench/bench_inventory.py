"""Allocations per second (1, 4, 16 clients on 10 hot SKUs) and ledger rebuild time.

Each allocation is a unit of work of its own, committed before the client goes on: "alone", its
own transaction (`inventory.allocate`); "grouped", a group transaction shared with concurrent
clients (`bench.grouped_allocations.allocate_now`: one guarded UPDATE and one commit per group).
After the timed runs, 16 clients race (each way) for the last units of the 10 SKUs (50 each)
until every request is refused: zero oversell is asserted (allocated never above stocked, the
successes equal the stock, the levels equal the ledger). PostgreSQL by default; `--sqlite` runs
the same on a SQLite file.

Then the product's path: sync 1-line manual sales on 10 hot SKUs through `dropwire serve`
(1 / 4 / 16 clients over HTTP), each sale allocating one unit; concurrent sales share group
transactions. Then 16 clients send 700 sales for the last 500 units: exactly 500 are allocated.

.venv/bin/python -m bench.bench_inventory [--seconds 5] [--movements 1000000] [--sqlite]
    [--pg-database NAME | --database-url URL]
"""

import argparse
import json
import random
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import insert, select

from bench import grouped_allocations as grouped
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
from dropwire.catalog.models import Product, Variant
from dropwire.core.db import Database
from dropwire.core.time import utcnow
from dropwire.inventory import service
from dropwire.inventory.errors import InsufficientStock
from dropwire.inventory.locations import location_for_warehouse
from dropwire.inventory.models import InventoryLevel, InventoryMovement
from dropwire.inventory.warehouses import ensure_default_warehouse


def setup(database: Database, skus: int, stock: int, prefix: str = "HOT") -> tuple[list[int], int]:
    with database.transaction() as session:
        location = location_for_warehouse(
            session, warehouse_id=ensure_default_warehouse(session).id
        ).id
        product = Product(name="bench")
        session.add(product)
        session.flush()
        ids = []
        for n in range(skus):
            sku = f"{prefix}-{n}"
            variant = Variant(product_id=product.id, sku=sku, sku_key=sku.lower(), name="hot")
            session.add(variant)
            session.flush()
            service.adjust_stocked(
                session, variant_id=variant.id, location_id=location, delta=stock
            )
            ids.append(variant.id)
    return ids, location


def _allocate_alone(database: Database, request: service.AllocationRequest) -> None:
    """One allocation, one transaction of its own."""
    with database.transaction() as session:
        service.allocate(session, requests=[request])


def _allocate_grouped(database: Database, request: service.AllocationRequest) -> None:
    """One allocation, a unit of work sharing a group transaction with concurrent callers'."""
    grouped.allocate_now(database, [request])


WAYS = {"alone": _allocate_alone, "grouped": _allocate_grouped}


def allocations_per_second(
    database: Database,
    variants: list[int],
    location: int,
    clients: int,
    seconds: float,
    way: str = "alone",
) -> tuple[float, int, float]:
    """Committed allocations per second, refusals, and this process's CPU ms per allocation
    (the client side: Python, SQLAlchemy, psycopg; 1000 / it bounds one process's rate)."""
    allocate = WAYS[way]
    done = [0]
    refused = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client() -> None:
        rng = random.Random()
        mine = refused_here = 0
        while time.perf_counter() < deadline:
            request = service.AllocationRequest(rng.choice(variants), location, 1)
            try:
                allocate(database, request)
                mine += 1
            except InsufficientStock:
                refused_here += 1
        with lock:
            done[0] += mine
            refused[0] += refused_here

    started = time.perf_counter()
    cpu = time.process_time()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cpu_ms = (time.process_time() - cpu) * 1000 / max(1, done[0])
    return done[0] / (time.perf_counter() - started), refused[0], cpu_ms


def batched_per_second(
    database: Database, variants: list[int], location: int, batch: int, seconds: float
) -> tuple[float, float]:
    """One client, `batch` independent allocations per transaction (`allocate_each`): what
    units of work that share a transaction (a worker's batch of sales) reach on hot SKUs."""
    rng = random.Random()
    done = 0
    started, cpu = time.perf_counter(), time.process_time()
    while time.perf_counter() < started + seconds:
        groups = [
            [service.AllocationRequest(rng.choice(variants), location, 1)] for _ in range(batch)
        ]
        with database.transaction() as session:
            outcomes = service.allocate_each(session, groups=groups)
        done += sum(1 for outcome in outcomes if isinstance(outcome, list))
    cpu_ms = (time.process_time() - cpu) * 1000 / max(1, done)
    return done / (time.perf_counter() - started), cpu_ms


def race_for_the_last_units(
    database: Database, clients: int, units: int, way: str = "alone"
) -> None:
    """Clients allocate until all of `units` per SKU are gone; asserts nothing was oversold."""
    allocate = WAYS[way]
    variants, location = setup(database, 10, units, prefix=f"LAST-{way}")
    done, refused = [0], [0]
    lock = threading.Lock()

    def client() -> None:
        rng = random.Random()
        left = list(variants)
        while left:
            variant = rng.choice(left)
            try:
                allocate(database, service.AllocationRequest(variant, location, 1))
                with lock:
                    done[0] += 1
            except InsufficientStock:
                left.remove(variant)  # refused once: this client stops asking for it
                with lock:
                    refused[0] += 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with database.transaction() as session:
        levels = list(
            session.scalars(select(InventoryLevel).where(InventoryLevel.variant_id.in_(variants)))
        )
        assert all(level.allocated <= level.stocked for level in levels), "oversold"
        assert sum(level.allocated for level in levels) == done[0] == 10 * units, done[0]
        assert service.ledger_mismatches(session) == []
    print(
        f"  race for the last {units} units of 10 SKUs, {clients} clients ({way}):"
        f" {done[0]} allocated, {refused[0]} refused, oversold 0 (asserted)"
    )


def assert_not_oversold(database: Database) -> None:
    with database.transaction() as session:
        levels = list(session.scalars(select(InventoryLevel)))
        assert all(level.allocated <= level.stocked for level in levels), "oversold"
        assert service.ledger_mismatches(session) == []


def seed_sales(url: str, prefix: str, units: int) -> int:
    """A channel, and a vendor whose feed holds `units` of each of 10 SKUs: its channel id."""
    from dropwire.channels.models import Channel
    from dropwire.feeds.schemas import FeedCreate, FeedVariantData
    from dropwire.feeds.service import create_feed, upsert_feed_variant
    from dropwire.vendors.models import DropshipProvider

    database = domains.database(url)
    with database.transaction() as session:
        channel = Channel(name=f"{prefix} store")
        product = Product(name=prefix)
        vendor = DropshipProvider(name=f"{prefix} vendor", priority=1)
        session.add_all([channel, product, vendor])
        session.flush()
        feed = create_feed(session, data=FeedCreate(dropship_provider_id=vendor.id))
        for n in range(10):
            sku = f"{prefix}-{n}"
            session.add(Variant(product_id=product.id, sku=sku, sku_key=sku.lower(), name=sku))
            session.flush()
            upsert_feed_variant(
                session,
                feed=feed,
                data=FeedVariantData(external_id=sku, vendor_sku=sku, inventory_quantity=units),
            )
        channel_id = channel.id
    database.dispose()
    return channel_id


def sale_bodies(prefix: str, run: str = "") -> list[str]:
    """One 1-line sale body per SKU (the load cycles through them); `{n}` numbers the sale.

    Each load numbers its requests from 1: `run` keeps one load's sales apart from another's, so
    a later load creates sales instead of resending (unchanged) the ones an earlier load made.
    """
    return [
        json.dumps(
            {
                "externalId": f"{prefix}-{run}sale-{{n}}",
                "lineItems": [{"externalId": "l1", "quantity": 1, "variant": {"sku": sku}}],
                "saleDefaults": {"receiverCountry": "US"},
            }
        )
        for sku in (f"{prefix}-{n}" for n in range(10))
    ]


def allocated_by_sales(database: Database, prefix: str) -> tuple[int, int]:
    """Units allocated on the prefix's SKUs, and the sales holding an allocation."""
    from sqlalchemy import func

    from dropwire.inventory.models import Allocation

    with database.transaction() as session:
        variants = select(Variant.id).where(Variant.sku.like(f"{prefix}-%"))
        allocated = session.scalar(
            select(func.coalesce(func.sum(InventoryLevel.allocated), 0)).where(
                InventoryLevel.variant_id.in_(variants)
            )
        )
        sales = session.scalar(
            select(func.count(func.distinct(Allocation.sale_id))).where(
                Allocation.variant_id.in_(variants)
            )
        )
    return int(allocated or 0), int(sales or 0)


def sales_on_hot_skus(url: str, seconds: float) -> None:
    """The product's path: sync manual sales through a real server, allocating on hot SKUs."""
    hot = seed_sales(url, "HOTSALE", 1_000_000)
    last = seed_sales(url, "LASTSALE", 50)
    env = {
        "DROPWIRE_DATABASE_URL": url,
        "DROPWIRE_RATE_LIMIT_ENABLED": "false",
        "DROPWIRE_WORKER_IN_PROCESS": "false",
    }
    headers = {"Authorization": f"Bearer {admin_token(url)}"}
    database = domains.database(url)
    with server("dropwire.app:create_app", free_port(), env=env) as base:
        for clients in (1, 4, 16):
            before = allocated_by_sales(database, "HOTSALE")[0]
            groups_before = group_totals(base)
            result = run_load(
                f"{base}/api/channels/{hot}/manual-sale.json",
                method="POST",
                headers=headers,
                bodies=sale_bodies("HOTSALE", f"{clients}c-"),
                concurrency=clients,
                seconds=seconds,
            )
            allocated = allocated_by_sales(database, "HOTSALE")[0] - before
            groups, units = (
                after - earlier
                for after, earlier in zip(group_totals(base), groups_before, strict=True)
            )
            print(
                f"  {clients:>2} clients, sync sales over HTTP: {allocated / result.seconds:8.0f}"
                f" allocations/s (p99 {result.percentile(99):.0f} ms, errors {result.errors},"
                f" {units / max(groups, 1):.1f} sales a group transaction)"
            )
        result = run_load(
            f"{base}/api/channels/{last}/manual-sale.json",
            method="POST",
            headers=headers,
            bodies=sale_bodies("LASTSALE"),
            concurrency=16,
            seconds=600,
            max_requests=700,
        )
    allocated, sales = allocated_by_sales(database, "LASTSALE")
    assert allocated == sales == 500 and result.errors == 0, (allocated, sales, result.errors)
    assert_not_oversold(database)
    print(
        f"  race for the last 50 units of 10 SKUs, 16 clients, 700 sync sales: {sales} sales"
        " allocated, the rest kept unallocated, oversold 0 (asserted)"
    )
    database.dispose()


def rebuild(database: Database, movements: int) -> tuple[float, float]:
    with database.transaction() as session:
        location = location_for_warehouse(
            session, warehouse_id=ensure_default_warehouse(session).id
        ).id
        product_id = session.scalar(select(Product.id))
        variants = []
        for n in range(1000):
            variant = Variant(product_id=product_id, sku=f"R-{n}", sku_key=f"r-{n}", name="r")
            session.add(variant)
            session.flush()
            variants.append(variant.id)
        session.execute(
            insert(InventoryLevel),
            [
                {
                    "variant_id": v,
                    "location_id": location,
                    "stocked": 0,
                    "allocated": 0,
                    "buffer": 0,
                    "updated_at": utcnow(),
                }
                for v in variants
            ],
        )
    started = time.perf_counter()
    batch = 50_000
    now = utcnow()
    for offset in range(0, movements, batch):
        rows = [
            {
                "variant_id": variants[i % 1000],
                "location_id": location,
                "delta_stocked": 1,
                "delta_allocated": 0,
                "stocked_after": 0,
                "allocated_after": 0,
                "cause": "adjustment",
                "created_at": now,
            }
            for i in range(offset, min(movements, offset + batch))
        ]
        with database.transaction() as session:
            session.execute(insert(InventoryMovement), rows)
    load_seconds = time.perf_counter() - started
    started = time.perf_counter()
    with database.transaction() as session:
        service.rebuild_levels(session)
    return load_seconds, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--movements", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--pg-database", default="dropwire_bench")
    parser.add_argument("--sqlite", action="store_true")
    args = parser.parse_args()
    if args.sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            run(f"sqlite:///{Path(tmp) / 'bench.db'}", args)
    else:
        run(args.database_url or ensure_pg_database(args.pg_database), args)


def run(url: str, args: argparse.Namespace) -> None:
    fresh_database(url)
    database = domains.database(url)
    variants, location = setup(database, 10, 1_000_000)
    print(f"database: {database.dialect}; 10 hot SKUs, {args.seconds:.0f} s per run")
    for clients in (1, 4, 16):
        for way in WAYS:  # both sides of the ratio in the same run, alternating
            rate, refused, cpu_ms = allocations_per_second(
                database, variants, location, clients, args.seconds, way
            )
            print(
                f"  {clients:>2} concurrent clients, {way:<7}: {rate:8.0f} allocations/s"
                f" (refused {refused}), {cpu_ms:.2f} ms CPU per allocation in this process"
            )
            assert_not_oversold(database)
    for way in WAYS:
        race_for_the_last_units(database, 16, 50, way)
    load, seconds = rebuild(database, args.movements)
    print(
        f"  ledger rebuild: {args.movements:,} movements inserted in {load:.1f} s, "
        f"levels rebuilt in {seconds:.2f} s"
    )
    for batch in (16, 100):
        rate, cpu_ms = batched_per_second(database, variants, location, batch, args.seconds)
        print(
            f"  1 client, {batch:>3} per transaction: {rate:8.0f} allocations/s, "
            f"{cpu_ms:.2f} ms CPU per allocation"
        )
        assert_not_oversold(database)
    database.dispose()
    sales_on_hot_skus(url, args.seconds)


if __name__ == "__main__":
    main()
