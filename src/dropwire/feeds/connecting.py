"""Connecting feed variants to catalog variants, and what a variant's suppliers are."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dropwire.catalog.models import Variant
from dropwire.catalog.service import mark_for_publishing
from dropwire.core.errors import UnknownReference
from dropwire.core.time import utcnow
from dropwire.feeds.errors import FeedStockAllocated, VariantAlreadyStocked
from dropwire.feeds.models import InventoryFeedVariant
from dropwire.feeds.upsert import (
    sync_stored_levels,
)
from dropwire.inventory import service as inventory
from dropwire.inventory.locations import location_for_feed
from dropwire.inventory.models import InventoryLevel, MovementCause


def _variant_taken(session: Session, feed_id: int, variant_id: int, own_id: int) -> bool:
    """A feed has one location: two of its items can't both stock the same variant."""
    return (
        session.scalar(
            select(InventoryFeedVariant.id).where(
                InventoryFeedVariant.inventory_feed_id == feed_id,
                InventoryFeedVariant.variant_id == variant_id,
                InventoryFeedVariant.id != own_id,
            )
        )
        is not None
    )


def connect(
    session: Session,
    *,
    feed_variant: InventoryFeedVariant,
    variant_id: int,
    actor: str | None = None,
) -> None:
    """Connect by hand (acknowledge, or a merchant's edit): stock moves with it."""
    if session.get(Variant, variant_id) is None:
        raise UnknownReference("variantId", f"variant {variant_id} does not exist")
    if feed_variant.variant_id == variant_id:
        return
    if _variant_taken(session, feed_variant.inventory_feed_id, variant_id, feed_variant.id):
        raise VariantAlreadyStocked(
            "another item of this feed already stocks that variant", "variantId"
        )
    if feed_variant.variant_id is not None:
        disconnect(session, feed_variant=feed_variant, actor=actor)
    feed_variant.variant_id = variant_id
    feed_variant.connected_at = utcnow()
    feed_variant.problem = None
    session.flush()
    mark_for_publishing(session, variant_id=variant_id)
    feed_variant.content_hash = None  # the next copy from the vendor is compared field by field
    session.flush()
    sync_stored_levels(
        session, feed=feed_variant.feed, feed_variant_ids=[feed_variant.id], actor=actor
    )


def disconnect(
    session: Session, *, feed_variant: InventoryFeedVariant, actor: str | None = None
) -> None:
    """The variant no longer counts this feed's stock (zeroed at the feed location)."""
    if feed_variant.variant_id is None:
        return
    location = location_for_feed(session, inventory_feed_id=feed_variant.inventory_feed_id)
    level = session.scalar(
        select(InventoryLevel).where(
            InventoryLevel.variant_id == feed_variant.variant_id,
            InventoryLevel.location_id == location.id,
        )
    )
    if level is not None and level.allocated > 0:
        raise FeedStockAllocated(
            f"{level.allocated} units from this feed are allocated to open sales"
        )
    if level is not None and level.stocked:
        inventory.adjust_stocked(
            session,
            variant_id=feed_variant.variant_id,
            location_id=location.id,
            set_to=0,
            cause=MovementCause.feed,
            reference_type="feed_variant",
            reference_id=feed_variant.id,
            reason="disconnected",
            actor=actor,
        )
    feed_variant.variant_id = None
    feed_variant.connected_at = None
    session.flush()


def feed_variants_supplying(session: Session, *, variant_id: int) -> list[InventoryFeedVariant]:
    return list(
        session.scalars(
            select(InventoryFeedVariant)
            .where(InventoryFeedVariant.variant_id == variant_id)
            .order_by(InventoryFeedVariant.id)
        )
    )


def connected_feed_variants(session: Session, variant_id: int) -> list[dict[str, Any]]:
    """For the variant's inventory pop-up: who supplies it, how many, since when."""
    return [
        {
            "id": fv.id,
            "inventoryFeedId": fv.inventory_feed_id,
            "dropshipProviderId": fv.feed.dropship_provider_id,
            "dropshipProviderName": fv.feed.dropship_provider.name,
            "vendorSku": fv.vendor_sku,
            "inventoryQuantity": fv.inventory_quantity,
            "effectiveQuantity": fv.effective_quantity,
            "costPrice": float(fv.cost_price) if fv.cost_price is not None else None,
            "inventoryUpdatedAt": fv.inventory_updated_at.isoformat()
            if fv.inventory_updated_at
            else None,
        }
        for fv in feed_variants_supplying(session, variant_id=variant_id)
    ]
