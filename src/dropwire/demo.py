"""Demo data: a merchant with one custom store, two warehouses and three vendors.

Each domain adds its part in its own function; `load_demo` runs them in order, once.
"""

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dropwire.catalog.models import InventoryPolicy, Product, Variant
from dropwire.channels.models import Channel, CustomChannel
from dropwire.channels.schemas import CustomChannelCreate
from dropwire.channels.service import create_custom_channel
from dropwire.feeds.models import FetchFrequency, ResourceType
from dropwire.feeds.pull.runs import request_run
from dropwire.feeds.schemas import FeedCreate, FeedVariantData
from dropwire.feeds.service import create_feed, upsert_feed_variant
from dropwire.inventory.locations import location_for_warehouse
from dropwire.inventory.models import Warehouse
from dropwire.inventory.service import adjust_stocked
from dropwire.inventory.warehouses import ensure_default_warehouse
from dropwire.sales.models import CancelReason
from dropwire.sales.schemas import CancelRequest, ManualSale, ShipRequest
from dropwire.sales.service import cancel, ship, upsert_manual_sale
from dropwire.vendors.models import CountryFilter, DropshipProvider, OrderSplitting

DEMO_MARKER = "demo-"


def _vendors(session: Session) -> list[DropshipProvider]:
    vendors = [
        DropshipProvider(
            name="Northwind Outdoor",
            external_id="demo-northwind",
            priority=10,
            countries=["US", "CA"],
            country_filter=CountryFilter.include,
            email="orders@northwind.example",
            # a vendor system that cannot be reached: its deliveries show retries and backoff
            order_endpoint="https://orders.northwind.example/dropwire/purchase-orders",
        ),
        DropshipProvider(
            name="Baltic Linen Co.",
            external_id="demo-baltic",
            priority=20,
            countries=["RU", "BY"],
            country_filter=CountryFilter.exclude,
            order_splitting=OrderSplitting.group,
            email="po@balticlinen.example",
        ),
        DropshipProvider(
            name="Kettle & Kiln",
            external_id="demo-kettle",
            priority=30,
            order_splitting=OrderSplitting.split_quantity,
            email="hello@kettlekiln.example",
        ),
    ]
    session.add_all(vendors)
    return vendors


def _warehouses(session: Session) -> list[Warehouse]:
    main = ensure_default_warehouse(session)
    east = Warehouse(name="East Coast 3PL", external_id="demo-east", country="US")
    session.add(east)
    return [main, east]


def _channel(session: Session) -> CustomChannel:
    return create_custom_channel(
        session,
        data=CustomChannelCreate(
            name="Demo Storefront", publishing_endpoint=None, inventory_endpoint=None
        ),
    )


DEMO_CATALOG = [
    # product, sku, price, cost, policy, stock in the main warehouse, stock in the 3PL
    ("Ridge 2P Tent", "NW-TENT-2P", "249.00", "151.20", InventoryPolicy.track, 4, 0),
    ("Ridge 2P Tent", "NW-TENT-2P-GRN", "249.00", "151.20", InventoryPolicy.track, 0, 2),
    ("Trail Stove", "NW-STOVE", "89.50", "48.00", InventoryPolicy.deny, 12, 0),
    ("Linen Duvet Cover", "BL-DUVET-KING", "139.00", "61.75", InventoryPolicy.track, 0, 0),
    ("Linen Pillowcase Pair", "BL-PILLOW-2", "45.00", "18.40", InventoryPolicy.continue_, 3, 0),
    ("Stoneware Mug", "KK-MUG-SAGE", "28.00", "9.10", InventoryPolicy.track, 24, 10),
    ("Pour-over Kettle", "KK-KETTLE", "79.00", "35.00", InventoryPolicy.track, 1, 0),
]


def _catalog(session: Session, warehouses: list[Warehouse]) -> list[Variant]:
    main, third_party = (location_for_warehouse(session, warehouse_id=w.id) for w in warehouses)
    products: dict[str, Product] = {}
    variants = []
    for product_name, sku, price, cost, policy, main_stock, tpl_stock in DEMO_CATALOG:
        if product_name not in products:
            products[product_name] = Product(name=product_name)
            session.add(products[product_name])
            session.flush()
        variant = Variant(
            product_id=products[product_name].id,
            sku=sku,
            sku_key=sku.lower(),
            name=f"{product_name} ({sku})",
            price=Decimal(price),
            cost_price=Decimal(cost),
            inventory_policy=policy,
        )
        session.add(variant)
        session.flush()
        for location, stock in ((main, main_stock), (third_party, tpl_stock)):
            if stock:
                adjust_stocked(
                    session,
                    variant_id=variant.id,
                    location_id=location.id,
                    delta=stock,
                    reason="demo opening stock",
                    actor="demo",
                )
        variants.append(variant)
    return variants


DEMO_FEED_ITEMS = {
    # vendor external id -> (external id, vendor SKU, quantity, cost)
    "demo-northwind": [
        ("nw-1", "NW-TENT-2P", 7, "150.00"),
        ("nw-2", "NW-STOVE", 30, "47.00"),
        # the vendor's system lists the stove twice: the dashboard shows the item's problem
        ("nw-2b", "NW-STOVE", 4, "47.00"),
    ],
    "demo-baltic": [("bl-1", "BL-DUVET-KING", 12, "60.00"), ("bl-2", "BL-PILLOW-2", 40, "18.00")],
    "demo-kettle": [
        ("kk-1", "KK-MUG-SAGE", 100, "9.00"),
        ("kk-2", "KK-KETTLE", 0, "34.00"),
        ("kk-3", "KK-TEAPOT", 5, "22.00"),
    ],
}
DEMO_PULL_FEED = "/static/web/demo/kettle-kiln-stock.csv"
"""Kettle & Kiln's stock file, served by Dropwire itself, so `make run` shows a pull feed."""


def _feeds(session: Session, vendors: list[DropshipProvider], base_url: str | None) -> list[int]:
    feed_ids = []
    for vendor in vendors:
        feed = create_feed(
            session, data=FeedCreate(dropship_provider_id=vendor.id, allocation_buffer=1)
        )
        for external_id, sku, quantity, cost in DEMO_FEED_ITEMS[vendor.external_id or ""]:
            upsert_feed_variant(
                session,
                feed=feed,
                data=FeedVariantData(
                    external_id=external_id,
                    vendor_sku=sku,
                    inventory_quantity=quantity,
                    cost_price=Decimal(cost),
                ),
                actor="demo",
            )
        feed_ids.append(feed.id)
    if base_url:
        kettle = next(v for v in vendors if v.external_id == "demo-kettle")
        pulled = create_feed(
            session,
            data=FeedCreate(
                dropship_provider_id=kettle.id,
                name="Kettle & Kiln stock file",
                resource_type=ResourceType.csv,
                resource_location=base_url.rstrip("/") + DEMO_PULL_FEED,
                fetch_frequency=FetchFrequency.hourly,
            ),
        )
        request_run(session, feed=pulled, trigger="demo")
        feed_ids.append(pulled.id)
    return feed_ids


DEMO_ORDERS: list[dict[str, Any]] = [
    {
        "externalId": "demo-order-1",
        "customer": ("Maya", "Okafor", "maya.okafor@example.com", "+1 503 555 0142"),
        "address": ("1290 NW Lovejoy St", "Apt 4B", "Portland", "OR", "97209", "US"),
        "lines": [("1", "NW-TENT-2P", 1), ("2", "KK-MUG-SAGE", 2)],
        "shipping": ("standard", "Standard delivery", "9.95"),
    },
    {
        "externalId": "demo-order-2",
        "customer": ("Luc", "Tremblay", "luc.tremblay@example.com", "+1 514 555 0199"),
        "address": ("4417 Rue Saint-Denis", None, "Montréal", "QC", "H2J 2L2", "CA"),
        "lines": [("1", "NW-STOVE", 2), ("2", "BL-DUVET-KING", 1)],
        "shipping": ("express", "Express (2 days)", "24.00"),
    },
    {
        "externalId": "demo-order-3",
        "customer": ("Harriet", "Cole", "h.cole@example.co.uk", None),
        "address": ("22 Canal Walk", None, "Bristol", None, "BS1 5AB", "GB"),
        "lines": [("1", "KK-KETTLE", 1)],
        "shipping": ("intl", "International", "18.50"),
    },
]


def _sale_body(order: dict[str, Any]) -> ManualSale:
    first, last, email, phone = order["customer"]
    street, street2, city, province, zip_code, country = order["address"]
    where = {
        "FirstName": first,
        "LastName": last,
        "Address1": street,
        "Address2": street2,
        "City": city,
        "Province": province,
        "Zip": zip_code,
        "Country": country,
        "Phone": phone,
    }
    defaults = {f"{side}{k}": v for side in ("receiver", "billing") for k, v in where.items() if v}
    prices = {sku: (name, price) for name, sku, price, *_ in DEMO_CATALOG}
    code, method, charge = order["shipping"]
    return ManualSale.model_validate(
        {
            "externalId": order["externalId"],
            "saleDefaults": defaults,
            "customer": {"firstName": first, "lastName": last, "email": email}
            | ({"phone": phone} if phone else {}),
            "lineItems": [
                {
                    "externalId": line,
                    "name": prices[sku][0],
                    "quantity": quantity,
                    "price": prices[sku][1],
                    "variant": {"sku": sku},
                }
                for line, sku, quantity in order["lines"]
            ],
            "shipping": [{"code": code, "name": method, "price": charge}],
        }
    )


def _sales(session: Session, channel: Channel) -> list[int]:
    """Three orders: one open, one partly shipped, one cancelled by the customer."""
    sales = []
    for order in DEMO_ORDERS:
        sale, _ = upsert_manual_sale(session, channel=channel, data=_sale_body(order), actor="demo")
        sales.append(sale)
    if sales[1].purchases:
        purchase = sales[1].purchases[0]
        first = purchase.items[0]
        ship(
            session,
            purchase=purchase,
            request=ShipRequest.model_validate(
                {
                    "trackingNumber": "1Z999AA10123456784",
                    "trackingCompany": "UPS",
                    "trackingUrl": "https://www.ups.com/track?tracknum=1Z999AA10123456784",
                    "purchaseItems": [{"id": first.id, "quantity": 1}],
                }
            ),
            actor="demo",
        )
    cancel(
        session,
        sale=sales[2],
        request=CancelRequest(cancel_reason=CancelReason.customer),
        actor="demo",
    )
    return [sale.id for sale in sales]


def load_demo(session: Session, *, base_url: str | None = None) -> dict[str, Any]:
    """`base_url` is where this Dropwire serves (for the pull feed of its own demo file)."""
    already = session.scalar(
        select(DropshipProvider.id).where(DropshipProvider.external_id == "demo-northwind")
    )
    if already is not None:
        return {"loaded": False, "reason": "demo data is already present"}
    vendors = _vendors(session)
    warehouses = _warehouses(session)
    session.flush()
    variants = _catalog(session, warehouses)
    feed_ids = _feeds(session, vendors, base_url)
    custom = _channel(session)
    session.flush()
    channel = session.get(Channel, custom.channel_id)
    sale_ids = _sales(session, channel) if channel else []
    return {
        "loaded": True,
        "vendors": [v.id for v in vendors],
        "warehouses": [w.id for w in warehouses],
        "variants": [v.id for v in variants],
        "inventoryFeeds": feed_ids,
        "sales": sale_ids,
        "channelId": channel.id if channel else None,
        "customChannelId": custom.id,
        "webhookHash": custom.webhook_hash,
    }
