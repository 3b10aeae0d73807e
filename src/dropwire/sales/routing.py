"""Which source supplies a line: a strategy, so a merchant's rules can replace the default.

The default ranks sources that have the units in stock first, then in-house warehouses before
vendors, then the vendor's `priority` (lower first), then the lowest cost price. Vendors that
don't ship to the order's country, or aren't accepted, are never candidates.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from dropwire.catalog.models import Variant
from dropwire.feeds.models import InventoryFeed, InventoryFeedVariant
from dropwire.inventory.models import InventoryLevel, Location, LocationKind
from dropwire.vendors.models import DropshipProvider, VendorStatus


@dataclass(frozen=True)
class Source:
    location_id: int
    available: int
    warehouse_id: int | None = None
    vendor: DropshipProvider | None = None
    cost_price: Decimal | None = None

    @property
    def in_house(self) -> bool:
        return self.vendor is None


class RoutingStrategy(Protocol):
    def rank(self, sources: list[Source], quantity: int) -> list[Source]: ...


class DefaultRouting:
    """In stock → in-house → vendor priority → cost price → location id (stable)."""

    def rank(self, sources: list[Source], quantity: int) -> list[Source]:
        def key(source: Source) -> tuple[int, int, int, Decimal, int]:
            return (
                0 if source.available >= quantity else 1,
                0 if source.in_house else 1,
                source.vendor.priority if source.vendor else 0,
                source.cost_price if source.cost_price is not None else Decimal("Infinity"),
                source.location_id,
            )

        return sorted(sources, key=key)


def candidate_sources(session: Session, variant: Variant, country: str | None) -> list[Source]:
    """Every location that may supply the variant to `country`, with what it has available."""
    rows = session.execute(
        select(InventoryLevel, Location)
        .join(Location, Location.id == InventoryLevel.location_id)
        .where(InventoryLevel.variant_id == variant.id)
    ).all()
    feed_ids = [loc.inventory_feed_id for _, loc in rows if loc.inventory_feed_id is not None]
    feeds = {
        feed.id: feed
        for feed in session.scalars(select(InventoryFeed).where(InventoryFeed.id.in_(feed_ids)))
    }
    costs = dict(
        session.execute(
            select(InventoryFeedVariant.inventory_feed_id, InventoryFeedVariant.cost_price).where(
                InventoryFeedVariant.variant_id == variant.id
            )
        ).all()
    )
    sources = []
    for level, location in rows:
        if location.kind == LocationKind.warehouse:
            sources.append(
                Source(
                    location.id,
                    level.available,
                    warehouse_id=location.warehouse_id,
                    cost_price=variant.cost_price,
                )
            )
            continue
        feed = feeds.get(location.inventory_feed_id or 0)
        if feed is None or not feed.enabled:
            continue
        vendor = feed.dropship_provider
        if vendor.status != VendorStatus.accepted or not vendor.serves_country(country):
            continue
        sources.append(
            Source(location.id, level.available, vendor=vendor, cost_price=costs.get(feed.id))
        )
    return sources


def default_strategy() -> RoutingStrategy:
    return DefaultRouting()


def vendor_by_id(session: Session, vendor_id: int) -> DropshipProvider | None:
    return session.get(DropshipProvider, vendor_id)
