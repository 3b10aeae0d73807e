"""Money at volume: invoicing shipped lines, a payout run against the local Stripe stand-in, and
the ship path with and without the money commit step.

    .venv/bin/python -m bench.bench_money [--lines 100000] [--vendors 1000] [--ships 300]
        [--sqlite] [--pg-database dw_money_bench | --database-url URL]

1. Invoicing: shipped purchase orders (4 lines each) across the vendors are written straight into
   the tables, then `payments.invoicing.invoice_purchases` invoices them in transactions of 2,500
   orders (as batches of shipments would): lines/s and the total time.
2. Payout run: every vendor pays by Stripe into its connected account; one run claims a payment
   per vendor (`payments.payouts.run_payouts`), then the worker's transfer poller
   (`payments.transfers.send_due_transfers`) sends them to the strict fake Stripe (a real HTTP
   server in a process of its own, as Stripe is) until none is due: time of each part.
3. Ship path: 1-line purchase orders shipped one per request through `ship.json` (the app in
   process), alternately by an app with the money commit step (the vendor invoiced on shipment)
   and one wired without it: median ms per ship.
"""

import argparse
import gc
import multiprocessing
import os
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from bench.common import ensure_pg_database, fresh_database


def _insert(database: Any, model: Any, rows: list[dict[str, Any]], chunk: int = 5_000) -> None:
    """Rows straight into a table, the model's defaults filled in, in big INSERTs."""
    from dropwire.core.inserts import insert_all, new_row

    for start in range(0, len(rows), chunk):
        with database.transaction() as session:
            insert_all(
                session, objects=[new_row(model, **row) for row in rows[start : start + chunk]]
            )


def seed_shipped(database: Any, lines: int, vendors: int) -> list[int]:
    """Shipped dropship orders of 4 one-unit lines, spread over `vendors`; their ids."""
    from dropwire.catalog.models import Product, Variant
    from dropwire.channels.models import Channel
    from dropwire.core.time import utcnow
    from dropwire.inventory.locations import location_for_warehouse
    from dropwire.inventory.models import Allocation, InventoryLevel
    from dropwire.inventory.warehouses import ensure_default_warehouse
    from dropwire.sales.models import Purchase, PurchaseItem, Sale, SaleItem
    from dropwire.vendors.models import DropshipProvider

    now = utcnow()
    with database.transaction() as session:
        location = location_for_warehouse(
            session, warehouse_id=ensure_default_warehouse(session).id
        ).id
        channel = Channel(name="bench")
        product = Product(name="bench")
        session.add_all([channel, product])
        session.flush()
        variant = Variant(product_id=product.id, sku="B-1", sku_key="b-1", name="b", tags=["x"])
        session.add(variant)
        session.flush()
        level = InventoryLevel(variant_id=variant.id, location_id=location, stocked=0, allocated=0)
        session.add(level)
        session.flush()
        ids = (channel.id, variant.id, level.id)
    channel_id, variant_id, level_id = ids
    _insert(
        database,
        DropshipProvider,
        [
            {
                "id": v + 1,
                "name": f"Vendor {v}",
                "commission_rate": Decimal(15),
                "stripe_id": f"acct_{v + 1}",
                "created_at": now,
                "updated_at": now,
            }
            for v in range(vendors)
        ],
    )
    orders = lines // 4
    _insert(
        database,
        Sale,
        [
            {
                "id": s + 1,
                "channel_id": channel_id,
                "external_id": f"S{s}",
                "reference": f"B{s}",
                "currency": "USD",
                "shipping": [{"price": 5}],
                "created_at": now,
                "updated_at": now,
            }
            for s in range(orders)
        ],
    )
    line_rows = [
        {
            "id": n + 1,
            "sale_id": n // 4 + 1,
            "external_id": f"L{n % 4}",
            "variant_id": variant_id,
            "sku": "B-1",
            "quantity": 1,
            "price": Decimal("19.99"),
            "quantity_shipped": 1,
            "created_at": now,
            "updated_at": now,
        }
        for n in range(orders * 4)
    ]
    _insert(database, SaleItem, line_rows)
    _insert(
        database,
        Allocation,
        [
            {
                "id": n + 1,
                "variant_id": variant_id,
                "location_id": location,
                "level_id": level_id,
                "sale_id": n // 4 + 1,
                "sale_item_id": n + 1,
                "quantity": 1,
                "shipped": 1,
                "is_open": False,
                "created_at": now,
                "updated_at": now,
            }
            for n in range(orders * 4)
        ],
    )
    _insert(
        database,
        Purchase,
        [
            {
                "id": s + 1,
                "sale_id": s + 1,
                "dropship_provider_id": s % vendors + 1,
                "external_reference": f"B{s}-01",
                "inventory_status": "received",
                "created_at": now,
                "updated_at": now,
            }
            for s in range(orders)
        ],
    )
    _insert(
        database,
        PurchaseItem,
        [
            {
                "id": n + 1,
                "purchase_id": n // 4 + 1,
                "sale_item_id": n + 1,
                "variant_id": variant_id,
                "allocation_id": n + 1,
                "quantity": 1,
                "quantity_shipped": 1,
                "cost_price": Decimal(10),
                "created_at": now,
                "updated_at": now,
            }
            for n in range(orders * 4)
        ],
    )
    _reset_sequences(database)
    return list(range(1, orders + 1))


def bench_invoicing(database: Any, purchase_ids: list[int], chunk: int = 2500) -> None:
    from dropwire.payments.invoicing import invoice_purchases
    from dropwire.payments.models import VendorInvoiceLine

    started, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(purchase_ids), chunk):
        with database.transaction() as session:
            invoice_purchases(session, purchase_ids=purchase_ids[start : start + chunk])
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    with database.transaction() as session:
        lines = session.scalar(select(func.count()).select_from(VendorInvoiceLine)) or 0
    print(
        f"invoicing: {lines:,} lines of {len(purchase_ids):,} orders in {elapsed:.2f} s"
        f" ({lines / elapsed:,.0f} lines/s, {cpu:.2f} s of this process's CPU;"
        f" {_verdict(elapsed, 10, 's')}){_load()}"
    )


def _serve_fake_stripe(vendors: int, conn: Any) -> None:
    """In a process of its own: the fake Stripe, its address and key sent back through `conn`,
    then the number of transfers it made once asked (any message)."""
    from tests.payments.fake_stripe import FakeStripe, FakeStripeServer

    stripe = FakeStripe(accounts={f"acct_{v + 1}" for v in range(vendors)}, balance={"usd": 10**12})
    with FakeStripeServer(stripe) as base:
        conn.send((base, stripe.api_key))
        conn.recv()
        conn.send(sum(stripe.made.values()))


def bench_payout(database: Any, vendors: int) -> None:
    """The fake Stripe runs in another process, as Stripe would: its CPU is not the payer's."""
    from dropwire.core.settings import Settings
    from dropwire.payments.models import Payment, PaymentMethod, PaymentState
    from dropwire.payments.payouts import run_payouts
    from dropwire.payments.transfers import send_due_transfers
    from dropwire.vendors.models import DropshipProvider

    ours, theirs = multiprocessing.Pipe()
    fake = multiprocessing.get_context("fork").Process(
        target=_serve_fake_stripe, args=(vendors, theirs), daemon=True
    )
    fake.start()
    base, api_key = ours.recv()
    try:
        database.settings = Settings.model_validate(
            database.settings.model_dump() | {"stripe_api_key": api_key, "stripe_api_base": base}
        )
        with database.transaction() as session:
            method = PaymentMethod(name="Stripe", source="stripe")
            session.add(method)
            session.flush()
            session.execute(DropshipProvider.__table__.update().values(payment_method_id=method.id))
        started, cpu = time.perf_counter(), time.process_time()
        with database.transaction() as session:
            _run, payments = run_payouts(session)
        claimed = time.perf_counter() - started
        while send_due_transfers(database):
            pass
        total, cpu = time.perf_counter() - started, time.process_time() - cpu
        with database.transaction() as session:
            complete = session.scalar(
                select(func.count())
                .select_from(Payment)
                .where(Payment.status == PaymentState.complete)
            )
        ours.send("count")
        made = ours.recv()
    finally:
        fake.kill()
    print(
        f"payout run: {len(payments):,} vendors claimed in {claimed:.2f} s; {complete:,}"
        f" transfers complete in {total:.2f} s ({made:,} made by the fake Stripe in its own"
        f" process; {cpu:.2f} s of this process's CPU;"
        f" {_verdict(total, 10, 's')}){_load()}"
    )


def seed_open(database: Any, orders: int, vendor_id: int) -> list[int]:
    """Unshipped one-line orders of one vendor, allocated on a stocked level; their ids."""
    from dropwire.catalog.models import Variant
    from dropwire.channels.models import Channel
    from dropwire.core.time import utcnow
    from dropwire.inventory.models import Allocation, InventoryLevel
    from dropwire.sales.models import Purchase, PurchaseItem, Sale, SaleItem

    now = utcnow()
    with database.transaction() as session:
        channel_id = session.scalars(select(Channel.id)).first()
        variant_id = session.scalars(select(Variant.id)).first()
        level = session.scalars(select(InventoryLevel)).first()
        assert channel_id and variant_id and level
        level.stocked += orders
        level.allocated += orders
        level_id, location_id = level.id, level.location_id
        first = {
            name: (session.scalar(select(func.max(model.id))) or 0) + 1
            for name, model in (
                ("sale", Sale),
                ("item", SaleItem),
                ("allocation", Allocation),
                ("purchase", Purchase),
                ("purchase_item", PurchaseItem),
            )
        }
    tag = f"O{first['sale']}-"
    _insert(
        database,
        Sale,
        [
            {
                "id": first["sale"] + n,
                "channel_id": channel_id,
                "external_id": f"{tag}{n}",
                "reference": f"{tag}{n}",
                "currency": "USD",
                "created_at": now,
                "updated_at": now,
            }
            for n in range(orders)
        ],
    )
    _insert(
        database,
        SaleItem,
        [
            {
                "id": first["item"] + n,
                "sale_id": first["sale"] + n,
                "external_id": "L0",
                "variant_id": variant_id,
                "sku": "B-1",
                "quantity": 1,
                "price": Decimal(20),
                "created_at": now,
                "updated_at": now,
            }
            for n in range(orders)
        ],
    )
    _insert(
        database,
        Allocation,
        [
            {
                "id": first["allocation"] + n,
                "variant_id": variant_id,
                "location_id": location_id,
                "level_id": level_id,
                "sale_id": first["sale"] + n,
                "sale_item_id": first["item"] + n,
                "quantity": 1,
                "created_at": now,
                "updated_at": now,
            }
            for n in range(orders)
        ],
    )
    _insert(
        database,
        Purchase,
        [
            {
                "id": first["purchase"] + n,
                "sale_id": first["sale"] + n,
                "dropship_provider_id": vendor_id,
                "external_reference": f"{tag}{n}-01",
                "created_at": now,
                "updated_at": now,
            }
            for n in range(orders)
        ],
    )
    _insert(
        database,
        PurchaseItem,
        [
            {
                "id": first["purchase_item"] + n,
                "purchase_id": first["purchase"] + n,
                "sale_item_id": first["item"] + n,
                "variant_id": variant_id,
                "allocation_id": first["allocation"] + n,
                "quantity": 1,
                "created_at": now,
                "updated_at": now,
            }
            for n in range(orders)
        ],
    )
    _reset_sequences(database)
    return [first["purchase"] + n for n in range(orders)]


def _ship_each(client: Any, purchase_ids: list[int]) -> list[float]:
    took = []
    for purchase_id in purchase_ids:
        started = time.perf_counter()
        response = client.post(f"/api/purchases/{purchase_id}/ship.json", json={})
        took.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 201, response.text
    return took


def bench_ship(database: Any, ships: int) -> None:
    """`POST /api/purchases/{id}/ship.json` through the app (in process: the whole request,
    authentication, unit of work, API log; no socket), alternating between an app whose
    database is wired with the money step and one without it, so a change of the machine's
    load while the bench runs weighs on both alike."""
    from fastapi.testclient import TestClient

    from dropwire.app import create_app
    from dropwire.auth.service import create_api_user
    from dropwire.payments.models import VendorInvoice

    on_ids = seed_open(database, ships, vendor_id=1)
    off_ids = seed_open(database, ships, vendor_id=2)
    with database.transaction() as session:
        _, token = create_api_user(session, name="bench")
    without_step = _without_money_step(database)
    with_money: list[float] = []
    without: list[float] = []
    headers = {"Authorization": f"Bearer {token}"}
    with (
        TestClient(create_app(database), headers=headers) as on_client,
        TestClient(create_app(without_step), headers=headers) as off_client,
    ):
        _ship_each(on_client, on_ids[:5])  # warm both (first requests compile and connect)
        _ship_each(off_client, off_ids[:5])
        for on_id, off_id in zip(on_ids[5:], off_ids[5:], strict=True):
            with_money += _ship_each(on_client, [on_id])
            without += _ship_each(off_client, [off_id])
    without_step.dispose()
    with database.transaction() as session:
        raised = session.scalar(select(func.count()).select_from(VendorInvoice))
    on, off = statistics.median(with_money), statistics.median(without)
    slower = (on / off - 1) * 100
    print(
        f"ship.json ({len(with_money)} each): median {on:.2f} ms with invoicing, {off:.2f} ms"
        f" without ({slower:+.0f} %; {_verdict(slower, 20, '%')}); {raised:,} invoices{_load()}"
    )


def _verdict(figure: float, goal: float, unit: str) -> str:
    return f"goal ≤ {goal:g} {unit}: {'met' if figure <= goal else 'MISSED'}"


def _load() -> str:
    one, five, _fifteen = os.getloadavg()
    return f" [load average {one:.2f}, {five:.2f} on {os.cpu_count()} CPUs]"


def _without_money_step(database: Any) -> Any:
    """The same database wired without the money commit step (shipments not invoiced)."""
    from dropwire.core.db import Database
    from dropwire.core.unit_of_work import CommitSteps
    from dropwire.payments.steps import INVOICE_WHAT_CHANGED

    wiring = database.wiring
    steps = [s for s in wiring.part(CommitSteps).steps if s is not INVOICE_WHAT_CHANGED]
    return Database(
        database.url, settings=database.settings, wiring=wiring.replacing(CommitSteps(steps))
    )


def _reset_sequences(database: Any) -> None:
    if database.dialect != "postgresql":
        return
    with database.transaction() as session:
        for table in (
            "dropship_providers",
            "sales",
            "sale_items",
            "inventory_allocations",
            "purchases",
            "purchase_items",
        ):
            session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                    f" (SELECT max(id) FROM {table}))"
                )
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--vendors", type=int, default=1000)
    parser.add_argument("--ships", type=int, default=300)
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--pg-database", default="dw_money_bench")
    parser.add_argument("--database-url")
    args = parser.parse_args()
    from dropwire import domains
    from dropwire.core import heap

    if args.database_url:
        url = args.database_url
    elif args.sqlite:
        url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'money.db'}"
    else:
        url = ensure_pg_database(args.pg_database)
    fresh_database(url)
    database = domains.database(url)
    purchase_ids = seed_shipped(database, args.lines, args.vendors)
    gc.collect()
    heap.settle()  # what a worker process does once started (`dropwire worker`, `serve`)
    bench_invoicing(database, purchase_ids)
    bench_payout(database, args.vendors)
    bench_ship(database, args.ships)
    database.dispose()


if __name__ == "__main__":
    main()
