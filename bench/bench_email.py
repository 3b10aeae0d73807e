"""Purchase orders by email: PDF render time, 1,000 PO emails (two PDFs each) handed to a local
SMTP server by one relay, and what an email vendor adds to creating a sale's purchase orders.

    .venv/bin/python -m bench.bench_email [--emails 1000] [--database-url URL]

The SMTP server is aiosmtpd on 127.0.0.1 in this process (it only counts what it accepts).
"""

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import free_port, fresh_database


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def pdf_times(renders: int) -> None:
    from decimal import Decimal

    from dropwire.documents.data import DocumentLine, PurchaseDocument
    from dropwire.documents.purchase_order import packing_slip_pdf, purchase_order_pdf

    document = PurchaseDocument(
        reference="10001-01",
        sale_reference="10001",
        date_ordered="2026-01-31T10:00:00",
        merchant_name="Example Shop",
        merchant_address=["1 Market Street", "Springfield"],
        vendor_name="Mugs & Co",
        ship_to=["Ada Lovelace", "12 Analytical Row", "N1 9GU London", "GB"],
        contact=["+44 20 0000 0000"],
        shipping_method="Standard",
        lines=[
            DocumentLine(
                sku=f"MUG-{n}", name=f"Mug number {n}", quantity=n + 1, cost_price=Decimal("4.5")
            )
            for n in range(5)
        ],
    )
    for name, render in (
        ("purchase order", purchase_order_pdf),
        ("packing slip", packing_slip_pdf),
    ):
        render(document)  # warm up: fonts and imports
        times = []
        size = 0
        for _ in range(renders):
            started = time.perf_counter()
            size = len(render(document))
            times.append((time.perf_counter() - started) * 1000)
        print(
            f"  PDF {name} (5 lines): p50 {statistics.median(times):5.1f} ms, "
            f"p95 {percentile(times, 0.95):5.1f} ms, {size / 1024:.1f} KiB"
        )


class Counter:
    def __init__(self) -> None:
        self.accepted = 0
        self.bytes = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.accepted += 1
        self.bytes += len(envelope.content)
        return "250 OK"


def seed(url: str, *, vendors: dict[str, dict[str, Any]]) -> tuple[int, dict[str, str]]:
    """A channel and one vendor per kind, each stocking its own SKU; returns the channel id."""
    from dropwire.catalog.models import Product, Variant
    from dropwire.channels.models import Channel
    from dropwire.domains import database as wired
    from dropwire.feeds.schemas import FeedCreate, FeedVariantData
    from dropwire.feeds.service import create_feed, upsert_feed_variant
    from dropwire.vendors.models import DropshipProvider

    database = wired(url)
    skus = {}
    with database.transaction() as session:
        channel = Channel(name="Bench store")
        product = Product(name="Bench")
        session.add_all([channel, product])
        session.flush()
        for kind, fields in vendors.items():
            sku = f"SKU-{kind}"
            session.add(Variant(product_id=product.id, sku=sku, sku_key=sku.lower(), name=kind))
            vendor = DropshipProvider(name=f"Vendor {kind}", **fields)
            session.add(vendor)
            session.flush()
            feed = create_feed(session, data=FeedCreate(dropship_provider_id=vendor.id))
            upsert_feed_variant(
                session,
                feed=feed,
                data=FeedVariantData(
                    external_id=sku, vendor_sku=sku, inventory_quantity=10_000_000, cost_price=4.5
                ),
            )
            skus[kind] = sku
        channel_id = channel.id
    database.dispose()
    return channel_id, skus


def sell(database: Any, channel_id: int, sku: str, count: int, prefix: str) -> tuple[float, float]:
    """Create `count` one-line sales in process: CPU ms and statements per sale."""
    from sqlalchemy import event

    from dropwire.channels.models import Channel
    from dropwire.sales import manual
    from dropwire.sales.schemas import ManualSale

    statements = [0]

    def counted(*_args: object) -> None:
        statements[0] += 1

    event.listen(database.engine, "before_cursor_execute", counted)
    started = time.process_time()
    for n in range(count):
        data = ManualSale.model_validate(
            {
                "externalId": f"{prefix}-{n}",
                "saleDefaults": {
                    "receiverFirstName": "Ada",
                    "receiverAddress1": "12 Analytical Row",
                    "receiverCountry": "GB",
                },
                "lineItems": [
                    {"externalId": "l1", "quantity": 2, "price": 10, "variant": {"sku": sku}}
                ],
            }
        )
        with database.transaction() as session:
            channel = session.get(Channel, channel_id)
            manual.upsert_manual_sale(session, channel=channel, data=data)
    cpu_ms = (time.process_time() - started) * 1000 / count
    event.remove(database.engine, "before_cursor_execute", counted)
    return cpu_ms, statements[0] / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--emails", type=int, default=1000)
    parser.add_argument("--renders", type=int, default=200)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    from aiosmtpd.controller import Controller
    from sqlalchemy import func, select

    from dropwire import domains
    from dropwire.core.settings import Settings
    from dropwire.delivery.models import Delivery, DeliveryState
    from dropwire.delivery.relay import Relay

    print(f"Documents (load average {load_average()}; goal: p95 <= 50 ms)")
    pdf_times(args.renders)

    counter = Counter()
    port = free_port()
    controller = Controller(counter, hostname="127.0.0.1", port=port)
    controller.start()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench_email.db'}"
        fresh_database(url)
        channel_id, skus = seed(
            url,
            vendors={
                "webhook": {"order_endpoint": "https://vendor.example/orders"},
                "email": {"email": "orders@vendor.example"},
                "portal": {},
            },
        )
        settings = Settings(
            database_url=url,
            smtp_url=f"smtp://127.0.0.1:{port}",
            merchant_name="Example Shop",
            merchant_address="1 Market Street\nSpringfield",
        )
        database = domains.database(url, settings=settings)
        print(
            f"Creating a sale's purchase orders ({database.dialect}, one 1-line sale a commit; "
            f"load average {load_average()}; goal: email no slower than webhook or portal)"
        )
        for kind in ("portal", "webhook", "email"):
            sell(database, channel_id, skus[kind], 20, f"warm-{kind}")
            cpu_ms, statements = sell(database, channel_id, skus[kind], 200, f"bench-{kind}")
            print(f"  {kind:>7} vendor: {cpu_ms:6.2f} ms CPU, {statements:5.1f} statements a sale")

        with database.transaction() as session:  # only the bench's emails are due
            session.query(Delivery).update({Delivery.state: DeliveryState.delivered})
        sell(database, channel_id, skus["email"], args.emails, "mail")
        relay = Relay(database, allow_private=True)
        started, cpu_started = time.perf_counter(), os.times()
        while relay.send_due(limit=50):
            pass
        elapsed, cpu_ended = time.perf_counter() - started, os.times()
        cpu = (cpu_ended.user + cpu_ended.system) - (cpu_started.user + cpu_started.system)
        relay.close()
        with database.session(write=False) as session:
            left = session.scalar(
                select(func.count()).where(Delivery.state != DeliveryState.delivered)
            )
        print(f"Sending ({database.dialect}, one relay thread, local aiosmtpd)")
        print(
            f"  {counter.accepted} PO emails with two PDFs each in {elapsed:.1f} s "
            f"({counter.accepted / elapsed:.0f}/s, {counter.bytes / counter.accepted / 1024:.0f} "
            f"KiB each); {left} not delivered"
        )
        print(
            f"  process CPU {cpu:.1f} s (relay, SMTP client and the in-process server); "
            f"goal: {args.emails} in <= {30 * args.emails / 1000:.0f} s"
        )
        print(f"  load average {load_average()}")
        database.dispose()
    controller.stop()


if __name__ == "__main__":
    main()
