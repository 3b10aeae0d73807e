"""Which source supplies a line: a strategy, so a merchant's rules can replace the default.

The default ranks sources that have the units in stock first, then in-house warehouses before
vendors, then the vendor's `priority` (lower first), then the lowest cost price. Vendors that
don't ship to the order's country, or aren't accepted, are never candidates.
"""

from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any, Protocol

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from dropwire.catalog.models import Variant
from dropwire.core.expressions import among_bound
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
    level_id: int | None = None  # the stock level it was read from: allocating needs no lookup

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


def candidate_sources(session: Session, *, variant: Variant, country: str | None) -> list[Source]:
    """Every location that may supply the variant to `country`, with what it has available."""
    return candidate_sources_for(session, variants=[variant], country=country)[variant.id]


def candidate_sources_for(
    session: Session, *, variants: Collection[Variant], country: str | None
) -> dict[int, list[Source]]:
    """`candidate_sources` of many variants in one statement: {variant id: sources}."""
    return candidate_sources_by_country(session, variants=variants, countries=[country])[country]


def candidate_sources_by_country(
    session: Session, *, variants: Collection[Variant], countries: Collection[str | None]
) -> dict[str | None, dict[int, list[Source]]]:
    """`candidate_sources_for` for several destination countries (a batch of sales) in one
    statement: {country: {variant id: sources}}."""
    by_id = {variant.id: variant for variant in variants}
    found: dict[str | None, dict[int, list[Source]]] = {
        country: {variant_id: [] for variant_id in by_id} for country in countries
    }
    if not by_id:
        return found
    statement = _candidates(session.get_bind().dialect.name)
    rows = session.execute(statement, {"variant_ids": sorted(by_id)}).all()
    for row in rows:
        variant = by_id[row.variant_id]
        if row.kind == LocationKind.warehouse:
            source = Source(
                row.location_id,
                row.available,
                warehouse_id=row.warehouse_id,
                cost_price=variant.cost_price,
                level_id=row.level_id,
            )
            for country in countries:
                found[country][variant.id].append(source)
            continue
        vendor = row.DropshipProvider
        if vendor is None or not row.enabled or vendor.status != VendorStatus.accepted:
            continue
        source = Source(
            row.location_id,
            row.available,
            vendor=vendor,
            cost_price=row.cost_price,
            level_id=row.level_id,
        )
        for country in countries:
            if vendor.serves_country(country):
                found[country][variant.id].append(source)
    return found


@cache
def _candidates(dialect: str) -> Select[*tuple[Any, ...]]:
    """Every stock level of the variants bound as `variant_ids`, with its location, feed,
    vendor and cost: built once per dialect (a twentieth of a small group of sales' time)."""
    cost = (  # the feed item's cost; several items of one feed: the newest counts
        select(InventoryFeedVariant.cost_price)
        .where(
            InventoryFeedVariant.inventory_feed_id == Location.inventory_feed_id,
            InventoryFeedVariant.variant_id == InventoryLevel.variant_id,
        )
        .order_by(InventoryFeedVariant.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return (
        select(
            InventoryLevel.id.label("level_id"),
            InventoryLevel.variant_id,
            InventoryLevel.available.label("available"),
            Location.id.label("location_id"),
            Location.kind,
            Location.warehouse_id,
            Location.inventory_feed_id,
            InventoryFeed.enabled,
            DropshipProvider,
            cost.label("cost_price"),
        )
        .join(Location, Location.id == InventoryLevel.location_id)
        .outerjoin(InventoryFeed, InventoryFeed.id == Location.inventory_feed_id)
        .outerjoin(DropshipProvider, DropshipProvider.id == InventoryFeed.dropship_provider_id)
        .where(among_bound(InventoryLevel.variant_id, "variant_ids", dialect))
        .order_by(InventoryLevel.id)
    )


def default_strategy() -> RoutingStrategy:
    return DefaultRouting()


def vendor_by_id(session: Session, *, vendor_id: int) -> DropshipProvider | None:
    return session.get(DropshipProvider, vendor_id)
