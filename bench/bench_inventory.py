"""Allocations per second on PostgreSQL (1, 4, 16 clients on 10 hot SKUs) and ledger rebuild time.

.venv/bin/python -m bench.bench_inventory [--seconds 5] [--movements 1000000]
"""

import argparse
import random
import threading
import time

from sqlalchemy import insert, select

from bench.common import ensure_pg_database, fresh_database
from dropwire.catalog.models import Product, Variant
from dropwire.core.db import Database
from dropwire.core.time import utcnow
from dropwire.inventory import service
from dropwire.inventory.errors import InsufficientStock
from dropwire.inventory.locations import location_for_warehouse
from dropwire.inventory.models import InventoryLevel, InventoryMovement
from dropwire.inventory.warehouses import ensure_default_warehouse


def setup(database: Database, skus: int, stock: int) -> tuple[list[int], int]:
    with database.transaction() as session:
        location = location_for_warehouse(session, ensure_default_warehouse(session).id).id
        product = Product(name="bench")
        session.add(product)
        session.flush()
        ids = []
        for n in range(skus):
            variant = Variant(product_id=product.id, sku=f"HOT-{n}", sku_key=f"hot-{n}", name="hot")
            session.add(variant)
            session.flush()
            service.adjust_stocked(
                session, variant_id=variant.id, location_id=location, delta=stock
            )
            ids.append(variant.id)
    return ids, location


def allocations_per_second(
    database: Database, variants: list[int], location: int, clients: int, seconds: float
) -> tuple[float, int]:
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
                with database.transaction() as session:
                    service.allocate(session, [request])
                mine += 1
            except InsufficientStock:
                refused_here += 1
        with lock:
            done[0] += mine
            refused[0] += refused_here

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return done[0] / (time.perf_counter() - started), refused[0]


def rebuild(database: Database, movements: int) -> tuple[float, float]:
    with database.transaction() as session:
        location = location_for_warehouse(session, ensure_default_warehouse(session).id).id
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
    args = parser.parse_args()
    url = args.database_url or ensure_pg_database("dropwire_bench")
    fresh_database(url)
    database = Database(url)
    variants, location = setup(database, 10, 1_000_000)
    print(f"database: {database.dialect}; 10 hot SKUs, {args.seconds:.0f} s per run")
    for clients in (1, 4, 16):
        rate, refused = allocations_per_second(database, variants, location, clients, args.seconds)
        print(f"  {clients:>2} concurrent clients: {rate:8.0f} allocations/s (refused {refused})")
    with database.transaction() as session:
        assert service.ledger_mismatches(session) == []
    load, seconds = rebuild(database, args.movements)
    print(
        f"  ledger rebuild: {args.movements:,} movements inserted in {load:.1f} s, "
        f"levels rebuilt in {seconds:.2f} s"
    )
    database.dispose()


if __name__ == "__main__":
    main()
