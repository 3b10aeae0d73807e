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

from dropwire.auth.service import digest
from dropwire.core.errors import UnknownReference
from dropwire.feeds.connecting import connect
from dropwire.feeds.errors import FeedStockAllocated, RequiredSetting
from dropwire.feeds.items import feed_item, incoming
from dropwire.feeds.models import (
    NAME_LENGTH,
    FetchFrequency,
    InventoryFeed,
    InventoryFeedVariant,
    ResourceType,
)
from dropwire.feeds.pull.mapping import parse_mapping
from dropwire.feeds.pull.schedule import schedule_feed, schedule_key
from dropwire.feeds.schemas import FeedCreate, FeedUpdate, FeedVariantData, FeedVariantUpdate
from dropwire.feeds.upsert import (
    FeedItem,
    ItemResult,
    Outcome,
    apply_items,
    sync_stored_levels,
)
from dropwire.inventory import service as inventory
from dropwire.inventory.locations import location_for_feed
from dropwire.inventory.models import InventoryLevel, MovementCause
from dropwire.vendors.models import DropshipProvider

# --- feeds ---------------------------------------------------------------------------------


def _new_hash() -> tuple[str, str]:
    value = secrets.token_hex(20)
    return value, digest(value)


def create_feed(session: Session, *, data: FeedCreate) -> InventoryFeed:
    vendor = session.get(DropshipProvider, data.dropship_provider_id)
    if vendor is None:
        raise UnknownReference(
            "dropshipProviderId", f"dropship provider {data.dropship_provider_id} does not exist"
        )
    value, value_digest = _new_hash()
    fields: dict[str, Any] = data.model_dump(exclude_none=True)
    suffix = " inventory"  # the default name fits the column however long the vendor's is
    fields.setdefault("name", vendor.name[: NAME_LENGTH - len(suffix)] + suffix)
    feed = InventoryFeed(hash=value, hash_digest=value_digest, **fields)
    _check_pull_settings(feed)
    session.add(feed)
    session.flush()
    location_for_feed(session, inventory_feed_id=feed.id, name=feed.name)
    schedule_feed(session, feed=feed, first_in=timedelta(0))
    return feed


def _check_pull_settings(feed: InventoryFeed) -> None:
    """A pull feed must be runnable as saved: its mapping and schedule are checked here (422)."""
    parse_mapping(
        feed.resource_type or ResourceType.webhook,
        feed.mapping,
        True if feed.csv_has_header is None else feed.csv_has_header,
    )
    if feed.fetch_frequency == FetchFrequency.custom and not feed.fetch_interval_minutes:
        raise RequiredSetting("fetchIntervalMinutes", "required when fetchFrequency is custom")


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


def update_feed(session: Session, *, feed: InventoryFeed, data: FeedUpdate) -> InventoryFeed:
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
        schedule_feed(session, feed=feed, first_in=timedelta(0))
    if feed.allocation_buffer != buffer_before:
        connected = session.scalars(
            select(InventoryFeedVariant.id).where(
                InventoryFeedVariant.inventory_feed_id == feed.id,
                InventoryFeedVariant.variant_id.is_not(None),
            )
        )
        sync_stored_levels(session, feed=feed, feed_variant_ids=list(connected))
    return feed


def rotate_hash(session: Session, *, feed: InventoryFeed) -> InventoryFeed:
    feed.hash, feed.hash_digest = _new_hash()
    session.flush()
    return feed


def delete_feed(session: Session, *, feed: InventoryFeed, actor: str | None = None) -> None:
    """Remove a feed; its stock leaves the channels (zeroed through the ledger) first."""
    location = location_for_feed(session, inventory_feed_id=feed.id, name=feed.name)
    levels = list(
        session.scalars(select(InventoryLevel).where(InventoryLevel.location_id == location.id))
    )
    if any(level.allocated > 0 for level in levels):
        raise FeedStockAllocated(
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


@dataclass(frozen=True)
class UpsertResult:
    feed_variant: InventoryFeedVariant
    created: bool
    changed: bool


def _one(session: Session, feed: InventoryFeed, item: FeedItem, actor: str | None) -> UpsertResult:
    """A batch of one: the item's own error is raised (a 4xx for the caller)."""
    result = apply_items(session, feed=feed, items=[item], actor=actor)[0]
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
    session: Session, *, feed: InventoryFeed, data: FeedVariantData, actor: str | None = None
) -> UpsertResult:
    """parse-webhook: create or update ONE feed variant keyed by (feed, externalId)."""
    return _one(session, feed, feed_item(data), actor)


def upsert_feed_variants(
    session: Session, *, feed: InventoryFeed, items: list[FeedVariantData], actor: str | None = None
) -> list[ItemResult]:
    """The async parse-webhooks batch: every item applied or failed on its own."""
    return apply_items(
        session,
        feed=feed,
        items=[feed_item(data, index) for index, data in enumerate(items)],
        actor=actor,
    )


def update_feed_variant(
    session: Session,
    *,
    feed_variant: InventoryFeedVariant,
    data: FeedVariantUpdate,
    actor: str | None,
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
            raise RequiredSetting(
                "manualInventoryQuantity", f"required when the override is '{override}'"
            )
    feed = feed_variant.feed
    if target is not None and target != feed_variant.variant_id:
        connect(session, feed_variant=feed_variant, variant_id=target, actor=actor)
    if values:
        item = FeedItem(external_id=feed_variant.external_id, values=values, content_hash=None)
        return _one(session, feed, item, actor).feed_variant
    return feed_variant
