"""The inventory pop-up of a variant: levels, open allocations, feeds, recent sales.

Feeds and sales own their parts; they declare a `DetailSection` (wired by the entry points) so
inventory never imports them.
"""

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dropwire.catalog.service import get_variant
from dropwire.core.wiring import wiring_of
from dropwire.inventory.models import Allocation, InventoryLevel, Location
from dropwire.inventory.schemas import AllocationRead, LevelRead, VariantInventoryRead

Section = Callable[[Session, int], list[dict[str, Any]]]


class SectionName(StrEnum):
    feed_variants = "feed_variants"
    recent_sales = "recent_sales"


@dataclass(frozen=True)
class DetailSection:
    """A part of the pop-up another domain owns: `rows(session, variant_id)`."""

    name: SectionName
    rows: Section


def level_reads(session: Session, *, variant_id: int) -> list[LevelRead]:
    rows = session.execute(
        select(InventoryLevel, Location)
        .join(Location, Location.id == InventoryLevel.location_id)
        .where(InventoryLevel.variant_id == variant_id)
        .order_by(Location.kind.desc(), Location.id)
    ).all()
    return [
        LevelRead(
            location_id=location.id,
            location_kind=location.kind,
            location_name=location.name,
            warehouse_id=location.warehouse_id,
            inventory_feed_id=location.inventory_feed_id,
            stocked=level.stocked,
            allocated=level.allocated,
            available=level.available,
            buffer=level.buffer,
            updated_at=level.updated_at,
        )
        for level, location in rows
    ]


def variant_inventory(session: Session, *, variant_id: int) -> VariantInventoryRead:
    variant = get_variant(session, variant_id=variant_id)
    levels = level_reads(session, variant_id=variant_id)
    allocations = session.scalars(
        select(Allocation)
        .where(Allocation.variant_id == variant_id, Allocation.is_open.is_(True))
        .order_by(Allocation.id)
    )
    stocked = sum(level.stocked for level in levels)
    allocated = sum(level.allocated for level in levels)
    return VariantInventoryRead(
        variant_id=variant.id,
        sku=variant.sku,
        inventory_policy=variant.inventory_policy,
        stocked=stocked,
        allocated=allocated,
        available=stocked - allocated,
        locations=levels,
        allocations=[AllocationRead.model_validate(a) for a in allocations],
        feed_variants=_section(session, SectionName.feed_variants, variant_id),
        recent_sales=_section(session, SectionName.recent_sales, variant_id),
    )


def _section(session: Session, name: SectionName, variant_id: int) -> list[dict[str, Any]]:
    """The declared section's rows; none when no wired domain declares it."""
    for section in wiring_of(session).every(DetailSection):
        if section.name == name:
            return section.rows(session, variant_id)
    return []
