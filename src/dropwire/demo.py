"""Demo data: a merchant with one custom store, two warehouses and three vendors.

Each domain adds its part in its own function; `load_demo` runs them in order, once.
"""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dropwire.channels.models import Channel, CustomChannel
from dropwire.channels.schemas import CustomChannelCreate
from dropwire.channels.service import create_custom_channel
from dropwire.inventory.models import Warehouse
from dropwire.inventory.warehouses import ensure_default_warehouse
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
        CustomChannelCreate(
            name="Demo Storefront", publishing_endpoint=None, inventory_endpoint=None
        ),
    )


def load_demo(session: Session) -> dict[str, Any]:
    already = session.scalar(
        select(DropshipProvider.id).where(DropshipProvider.external_id == "demo-northwind")
    )
    if already is not None:
        return {"loaded": False, "reason": "demo data is already present"}
    vendors = _vendors(session)
    warehouses = _warehouses(session)
    custom = _channel(session)
    session.flush()
    channel = session.get(Channel, custom.channel_id)
    return {
        "loaded": True,
        "vendors": [v.id for v in vendors],
        "warehouses": [w.id for w in warehouses],
        "channelId": channel.id if channel else None,
        "customChannelId": custom.id,
        "webhookHash": custom.webhook_hash,
    }
