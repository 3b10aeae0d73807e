"""Inventory feeds and their variants: upserts by externalId, auto-connect, stock into the ledger.

A connected feed variant stocks its variant at the feed's location: `stocked` there follows the
feed's effective quantity (after the merchant's override), and the level's buffer follows the
feed's allocation buffer (or the variant's override). Re-sending what is already stored writes
nothing at all.
"""

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dropwire.auth.service import Principal, digest
from dropwire.catalog.models import Variant
from dropwire.catalog.service import mark_for_publishing
from dropwire.core.errors import Conflict, Invalid, NotFound
from dropwire.core.time import utcnow
from dropwire.feeds.models import FetchFrequency, InventoryFeed, InventoryFeedVariant, ResourceType
from dropwire.feeds.pull.mapping import parse_mapping
from dropwire.feeds.pull.schedule import schedule_feed, schedule_key
from dropwire.feeds.schemas import FeedCreate, FeedUpdate, FeedVariantData, FeedVariantUpdate
from dropwire.feeds.upsert import (
    FeedItem,
    ItemResult,
    Outcome,
    apply_items,
    content_digest,
    sync_stored_levels,
)
from dropwire.inventory import service as inventory
from dropwire.inventory.detail import register_section
from dropwire.inventory.locations import location_for_feed
from dropwire.inventory.models import InventoryLevel, MovementCause
from dropwire.vendors.models import DropshipProvider

# --- feeds ---------------------------------------------------------------------------------


def _new_hash() -> tuple[str, str]:
    value = secrets.token_hex(20)
    return value, digest(value)


def feed_by_hash(session: Session, presented: str) -> InventoryFeed | None:
    """The feed whose inbound hash is `presented`, found by digest (never by the value)."""
    return session.scalar(
        select(InventoryFeed).where(InventoryFeed.hash_digest == digest(presented))
    )


def get_feed(session: Session, feed_id: int, principal: Principal | None = None) -> InventoryFeed:
    """A feed by id; a vendor-scoped caller only finds its own vendor's feeds."""
    feed = session.get(InventoryFeed, feed_id)
    if feed is None or (
        principal is not None
        and not principal.is_admin
        and feed.dropship_provider_id != principal.dropship_provider_id
    ):
        raise NotFound("Inventory feed", feed_id)
    return feed


def create_feed(session: Session, data: FeedCreate) -> InventoryFeed:
    vendor = session.get(DropshipProvider, data.dropship_provider_id)
    if vendor is None:
        raise Invalid(
            "dropshipProviderId", f"dropship provider {data.dropship_provider_id} does not exist"
        )
    value, value_digest = _new_hash()
    fields: dict[str, Any] = data.model_dump(exclude_none=True)
    fields.setdefault("name", f"{vendor.name} inventory")
    feed = InventoryFeed(hash=value, hash_digest=value_digest, **fields)
    _check_pull_settings(feed)
    session.add(feed)
    session.flush()
    location_for_feed(session, feed.id, feed.name)
    schedule_feed(session, feed, first_in=timedelta(0))
    return feed


def _check_pull_settings(feed: InventoryFeed) -> None:
    """A pull feed must be runnable as saved: its mapping and schedule are checked here (422)."""
    parse_mapping(
        feed.resource_type or ResourceType.webhook,
        feed.mapping,
        True if feed.csv_has_header is None else feed.csv_has_header,
    )
    if feed.fetch_frequency == FetchFrequency.custom and not feed.fetch_interval_minutes:
        raise Invalid("fetchIntervalMinutes", "required when fetchFrequency is custom")


_REQUIRED = frozenset(
    {
        "name",
        "resource_type",
        "fetch_frequency",
        "diff_previous",
        "fetch_cleanup",
        "mapping",
        "automatically_connect",
        "automatically_connect_by_barcode",
        "case_insensitive_skus",
        "allocation_buffer",
        "enabled",
        "delimiter",
        "csv_has_header",
        "decimal_notation",
        "cleanup_guard_percent",
    }
)


def update_feed(session: Session, feed: InventoryFeed, data: FeedUpdate) -> InventoryFeed:
    changes = data.changes()
    buffer_before = feed.allocation_buffer
    schedule_before = schedule_key(feed)
    for name, value in changes.items():
        if value is None and name in _REQUIRED:
            continue
        setattr(feed, name, value)
    _check_pull_settings(feed)
    session.flush()
    if schedule_key(feed) != schedule_before or "enabled" in changes:
        schedule_feed(session, feed, first_in=timedelta(0))
    if feed.allocation_buffer != buffer_before:
        connected = session.scalars(
            select(InventoryFeedVariant.id).where(
                InventoryFeedVariant.inventory_feed_id == feed.id,
                InventoryFeedVariant.variant_id.is_not(None),
            )
        )
        sync_stored_levels(session, feed, list(connected))
    return feed


def rotate_hash(session: Session, feed: InventoryFeed) -> InventoryFeed:
    feed.hash, feed.hash_digest = _new_hash()
    session.flush()
    return feed


def delete_feed(session: Session, feed: InventoryFeed, actor: str | None = None) -> None:
    """Remove a feed; its stock leaves the channels (zeroed through the ledger) first."""
    location = location_for_feed(session, feed.id, feed.name)
    levels = list(
        session.scalars(select(InventoryLevel).where(InventoryLevel.location_id == location.id))
    )
    if any(level.allocated > 0 for level in levels):
        raise Conflict(
            "This feed still has stock allocated to open sales; ship or cancel them first"
        )
    for level in levels:
        inventory.adjust_stocked(
            session,
            variant_id=level.variant_id,
            location_id=location.id,
            set_to=0,
            cause=MovementCause.feed,
            reason=f"inventory feed {feed.id} deleted",
            actor=actor,
        )
    session.delete(feed)
    session.flush()


# --- feed variants -------------------------------------------------------------------------


def get_feed_variant(
    session: Session, feed_variant_id: int, principal: Principal | None = None
) -> InventoryFeedVariant:
    """A feed variant by id; a vendor-scoped caller only finds those of its own feeds (and the
    answer names only the id asked for, never the feed behind it)."""
    feed_variant = session.get(InventoryFeedVariant, feed_variant_id)
    if feed_variant is None or (
        principal is not None
        and not principal.is_admin
        and feed_variant.feed.dropship_provider_id != principal.dropship_provider_id
    ):
        raise NotFound("Inventory feed variant", feed_variant_id)
    return feed_variant


def _sku_key(feed: InventoryFeed, sku: str | None) -> str | None:
    if sku is None:
        return None
    return sku.lower() if feed.case_insensitive_skus else sku


def incoming(data: FeedVariantData | FeedVariantUpdate) -> dict[str, Any]:
    """The fields an item sets, as stored (unset fields keep what is stored)."""
    values = data.changes(exclude={"external_id", "inventory_feed_id"})
    for name in ("options", "locations"):
        if values.get(name) is not None:
            values[name] = [
                {k: v for k, v in item.items() if v is not None} for item in values[name]
            ]
    return values


def feed_item(data: FeedVariantData, row: int = 0) -> FeedItem:
    """A pushed item (parse-webhook, async batch) as the batch upsert takes it."""
    payload = data.model_dump(mode="json", exclude_unset=True)
    return FeedItem(
        external_id=data.external_id,
        values=incoming(data),
        content_hash=content_digest("push:", payload),
        row=row,
    )


@dataclass(frozen=True)
class UpsertResult:
    feed_variant: InventoryFeedVariant
    created: bool
    changed: bool


def _one(session: Session, feed: InventoryFeed, item: FeedItem, actor: str | None) -> UpsertResult:
    """A batch of one: the item's own error is raised (a 4xx for the caller)."""
    result = apply_items(session, feed, [item], actor=actor)[0]
    if result.error is not None:
        raise result.error
    feed_variant = session.scalars(
        select(InventoryFeedVariant)
        .where(InventoryFeedVariant.id == result.feed_variant_id)
        .execution_options(populate_existing=True)
    ).one()
    return UpsertResult(
        feed_variant,
        created=result.outcome is Outcome.created,
        changed=result.outcome in (Outcome.created, Outcome.updated),
    )


def upsert_feed_variant(
    session: Session, feed: InventoryFeed, data: FeedVariantData, actor: str | None = None
) -> UpsertResult:
    """parse-webhook: create or update ONE feed variant keyed by (feed, externalId)."""
    return _one(session, feed, feed_item(data), actor)


def upsert_feed_variants(
    session: Session, feed: InventoryFeed, items: list[FeedVariantData], actor: str | None = None
) -> list[ItemResult]:
    """The async parse-webhooks batch: every item applied or failed on its own."""
    return apply_items(
        session, feed, [feed_item(data, index) for index, data in enumerate(items)], actor=actor
    )


def update_feed_variant(
    session: Session, feed_variant: InventoryFeedVariant, data: FeedVariantUpdate, actor: str | None
) -> InventoryFeedVariant:
    """A merchant's edit: overrides, quantity or a connection; same path as parse-webhook."""
    values = incoming(data)
    target = values.pop("variant_id", None)
    if "manual_inventory_quantity" in values or "inventory_quantity_override" in values:
        override = values.get(
            "inventory_quantity_override", feed_variant.inventory_quantity_override
        )
        manual = values.get("manual_inventory_quantity", feed_variant.manual_inventory_quantity)
        if override != "none" and manual is None:
            raise Invalid("manualInventoryQuantity", f"required when the override is '{override}'")
    feed = feed_variant.feed
    if target is not None and target != feed_variant.variant_id:
        connect(session, feed_variant, target, actor)
    if values:
        item = FeedItem(external_id=feed_variant.external_id, values=values, content_hash=None)
        return _one(session, feed, item, actor).feed_variant
    return feed_variant


# --- connecting ----------------------------------------------------------------------------


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
    session: Session, feed_variant: InventoryFeedVariant, variant_id: int, actor: str | None = None
) -> None:
    """Connect by hand (acknowledge, or a merchant's edit): stock moves with it."""
    if session.get(Variant, variant_id) is None:
        raise Invalid("variantId", f"variant {variant_id} does not exist")
    if feed_variant.variant_id == variant_id:
        return
    if _variant_taken(session, feed_variant.inventory_feed_id, variant_id, feed_variant.id):
        raise Conflict("another item of this feed already stocks that variant", "variantId")
    if feed_variant.variant_id is not None:
        disconnect(session, feed_variant, actor)
    feed_variant.variant_id = variant_id
    feed_variant.connected_at = utcnow()
    feed_variant.problem = None
    session.flush()
    mark_for_publishing(session, variant_id)
    feed_variant.content_hash = None  # the next copy from the vendor is compared field by field
    session.flush()
    sync_stored_levels(session, feed_variant.feed, [feed_variant.id], actor)


def disconnect(
    session: Session, feed_variant: InventoryFeedVariant, actor: str | None = None
) -> None:
    """The variant no longer counts this feed's stock (zeroed at the feed location)."""
    if feed_variant.variant_id is None:
        return
    location = location_for_feed(session, feed_variant.inventory_feed_id)
    level = session.scalar(
        select(InventoryLevel).where(
            InventoryLevel.variant_id == feed_variant.variant_id,
            InventoryLevel.location_id == location.id,
        )
    )
    if level is not None and level.allocated > 0:
        raise Conflict(f"{level.allocated} units from this feed are allocated to open sales")
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


def feed_variants_supplying(session: Session, variant_id: int) -> list[InventoryFeedVariant]:
    return list(
        session.scalars(
            select(InventoryFeedVariant)
            .where(InventoryFeedVariant.variant_id == variant_id)
            .order_by(InventoryFeedVariant.id)
        )
    )


@register_section("feed_variants")
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
        for fv in feed_variants_supplying(session, variant_id)
    ]
