"""Inventory feeds and their variants: upserts by externalId, auto-connect, stock into the ledger.

A connected feed variant stocks its variant at the feed's location: `stocked` there follows the
feed's effective quantity (after the merchant's override), and the level's buffer follows the
feed's allocation buffer (or the variant's override). Re-sending what is already stored writes
nothing at all.
"""

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dropwire.auth.service import Principal, digest
from dropwire.catalog.models import Variant
from dropwire.catalog.service import find_variant_by_sku, mark_for_publishing
from dropwire.core.errors import Conflict, Invalid, NotFound, TooManyRequests
from dropwire.core.settings import get_settings
from dropwire.core.time import utcnow
from dropwire.feeds.models import (
    FeedDailyCount,
    FeedDailyUpdate,
    InventoryFeed,
    InventoryFeedVariant,
)
from dropwire.feeds.schemas import FeedCreate, FeedUpdate, FeedVariantData, FeedVariantUpdate
from dropwire.inventory import service as inventory
from dropwire.inventory.detail import register_section
from dropwire.inventory.locations import location_for_feed
from dropwire.inventory.locking import insert_ignoring_conflict
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
    session.add(feed)
    session.flush()
    location_for_feed(session, feed.id, feed.name)
    return feed


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
    }
)


def update_feed(session: Session, feed: InventoryFeed, data: FeedUpdate) -> InventoryFeed:
    changes = data.model_dump(exclude_unset=True)
    buffer_before = feed.allocation_buffer
    for name, value in changes.items():
        if value is None and name in _REQUIRED:
            continue
        setattr(feed, name, value)
    session.flush()
    if feed.allocation_buffer != buffer_before:
        for feed_variant in session.scalars(
            select(InventoryFeedVariant).where(
                InventoryFeedVariant.inventory_feed_id == feed.id,
                InventoryFeedVariant.variant_id.is_not(None),
            )
        ):
            _sync_level(session, feed_variant)
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


# --- the daily SKU limit -------------------------------------------------------------------


def _count_daily_update(session: Session, item_key: str) -> None:
    """Count a feed variant against today's limit once; raises 429 past the limit."""
    limit = get_settings().daily_sku_limit
    if limit <= 0:
        return
    now = utcnow()
    today = now.date()
    already = session.get(FeedDailyUpdate, (today, item_key))
    if already is not None:
        return
    insert_ignoring_conflict(session, FeedDailyCount, {"day": today, "count": 0}, ["day"])
    counted = session.execute(
        update(FeedDailyCount)
        .where(FeedDailyCount.day == today, FeedDailyCount.count < limit)
        .values(count=FeedDailyCount.count + 1)
        .returning(FeedDailyCount.count)
        .execution_options(synchronize_session=False)
    ).first()
    if counted is None:
        reset = datetime.combine(today + timedelta(days=1), time(0), tzinfo=UTC)
        raise TooManyRequests(
            f"Daily SKU limit of {limit} feed variants reached; it resets at {reset.isoformat()}",
            retry_after=max(1, int((reset - now).total_seconds())),
        )
    session.add(FeedDailyUpdate(day=today, item_key=item_key))
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


def _check_sku_collision(
    session: Session, feed: InventoryFeed, sku: str | None, own_id: int | None
) -> None:
    if sku is None or not feed.case_insensitive_skus:
        return
    clash = session.scalar(
        select(InventoryFeedVariant.external_id).where(
            InventoryFeedVariant.inventory_feed_id == feed.id,
            InventoryFeedVariant.vendor_sku_key == sku.lower(),
            InventoryFeedVariant.id != (own_id or 0),
        )
    )
    if clash is not None:
        raise Conflict(
            f"vendorSku '{sku}' matches item '{clash}' of this case-insensitive feed", "vendorSku"
        )


def _incoming(data: FeedVariantData | FeedVariantUpdate) -> dict[str, Any]:
    values = data.model_dump(exclude_unset=True, exclude={"external_id", "inventory_feed_id"})
    for name in ("options", "locations"):
        if values.get(name) is not None:
            values[name] = [
                {k: v for k, v in item.items() if v is not None} for item in values[name]
            ]
    return values


@dataclass(frozen=True)
class UpsertResult:
    feed_variant: InventoryFeedVariant
    created: bool
    changed: bool


def upsert_feed_variant(
    session: Session, feed: InventoryFeed, data: FeedVariantData, actor: str | None = None
) -> UpsertResult:
    """parse-webhook: create or update ONE feed variant keyed by (feed, externalId)."""
    existing = session.scalar(
        select(InventoryFeedVariant)
        .where(
            InventoryFeedVariant.inventory_feed_id == feed.id,
            InventoryFeedVariant.external_id == data.external_id,
        )
        .with_for_update(of=InventoryFeedVariant)
    )
    values = _incoming(data)
    if existing is None:
        return _create_feed_variant(session, feed, data.external_id, values, actor)
    changes = {k: v for k, v in values.items() if getattr(existing, k) != v}
    if not changes:
        return UpsertResult(existing, created=False, changed=False)
    _apply_changes(session, feed, existing, changes, actor)
    return UpsertResult(existing, created=False, changed=True)


def _create_feed_variant(
    session: Session,
    feed: InventoryFeed,
    external_id: str,
    values: dict[str, Any],
    actor: str | None,
) -> UpsertResult:
    vendor_sku = values.get("vendor_sku") or external_id
    _check_sku_collision(session, feed, vendor_sku, None)
    _count_daily_update(session, f"{feed.id}:{external_id}")
    values["vendor_sku"] = vendor_sku
    feed_variant = InventoryFeedVariant(
        inventory_feed_id=feed.id,
        external_id=external_id,
        vendor_sku_key=_sku_key(feed, vendor_sku),
        inventory_updated_at=utcnow(),
        **{k: v for k, v in values.items() if v is not None},
    )
    session.add(feed_variant)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # the same item arrived twice at once: apply ours as an update
        existing = session.scalars(
            select(InventoryFeedVariant).where(
                InventoryFeedVariant.inventory_feed_id == feed.id,
                InventoryFeedVariant.external_id == external_id,
            )
        ).one()
        changes = {k: v for k, v in values.items() if getattr(existing, k) != v}
        if changes:
            _apply_changes(session, feed, existing, changes, actor)
        return UpsertResult(existing, created=False, changed=bool(changes))
    if feed.automatically_connect:
        auto_connect(session, feed, feed_variant)
    _sync_level(session, feed_variant, actor)
    return UpsertResult(feed_variant, created=True, changed=True)


def _apply_changes(
    session: Session,
    feed: InventoryFeed,
    feed_variant: InventoryFeedVariant,
    changes: dict[str, Any],
    actor: str | None,
) -> None:
    if "vendor_sku" in changes:
        if changes["vendor_sku"] is None:
            raise Invalid("vendorSku", "cannot be emptied")
        _check_sku_collision(session, feed, changes["vendor_sku"], feed_variant.id)
    _count_daily_update(session, f"{feed.id}:{feed_variant.external_id}")
    for name, value in changes.items():
        setattr(feed_variant, name, value)
    if "vendor_sku" in changes:
        feed_variant.vendor_sku_key = _sku_key(feed, feed_variant.vendor_sku)
    if "inventory_quantity" in changes:
        feed_variant.inventory_updated_at = utcnow()
    session.flush()
    if not feed_variant.connected and feed.automatically_connect:
        auto_connect(session, feed, feed_variant)
    _sync_level(session, feed_variant, actor)


def update_feed_variant(
    session: Session, feed_variant: InventoryFeedVariant, data: FeedVariantUpdate, actor: str | None
) -> InventoryFeedVariant:
    """A merchant's edit: overrides, quantity or a connection; same path as parse-webhook."""
    values = _incoming(data)
    target = values.pop("variant_id", None)
    if "manual_inventory_quantity" in values or "inventory_quantity_override" in values:
        override = values.get(
            "inventory_quantity_override", feed_variant.inventory_quantity_override
        )
        manual = values.get("manual_inventory_quantity", feed_variant.manual_inventory_quantity)
        if override != "none" and manual is None:
            raise Invalid("manualInventoryQuantity", f"required when the override is '{override}'")
    changes = {k: v for k, v in values.items() if getattr(feed_variant, k) != v}
    feed = feed_variant.feed
    if target is not None and target != feed_variant.variant_id:
        connect(session, feed_variant, target, actor)
    if changes:
        _apply_changes(session, feed, feed_variant, changes, actor)
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


def auto_connect(session: Session, feed: InventoryFeed, feed_variant: InventoryFeedVariant) -> bool:
    """Connect to the catalog variant with the same SKU (or barcode, if the feed says so)."""
    if feed_variant.connected:
        return True
    variant = None
    if feed_variant.vendor_sku:
        variant = find_variant_by_sku(
            session, feed_variant.vendor_sku, case_insensitive=feed.case_insensitive_skus
        )
    if variant is None and feed.automatically_connect_by_barcode and feed_variant.barcode:
        variant = session.scalars(
            select(Variant)
            .where(Variant.barcode == feed_variant.barcode)
            .order_by(Variant.id)
            .limit(1)
        ).first()
    if variant is None:
        return False
    if _variant_taken(session, feed.id, variant.id, feed_variant.id):
        feed_variant.problem = f"another item of this feed already stocks {variant.sku}"
        return False
    feed_variant.variant_id = variant.id
    feed_variant.connected_at = utcnow()
    feed_variant.problem = None
    session.flush()
    mark_for_publishing(session, variant.id)
    return True


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
    _sync_level(session, feed_variant, actor)


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


def _sync_level(
    session: Session, feed_variant: InventoryFeedVariant, actor: str | None = None
) -> None:
    if feed_variant.variant_id is None:
        return
    feed = feed_variant.feed
    location = location_for_feed(session, feed.id, feed.name)
    inventory.adjust_stocked(
        session,
        variant_id=feed_variant.variant_id,
        location_id=location.id,
        set_to=feed_variant.effective_quantity,
        cause=MovementCause.feed,
        reference_type="feed_variant",
        reference_id=feed_variant.id,
        actor=actor,
    )
    buffer = feed_variant.allocation_buffer_override
    inventory.set_buffer(
        session,
        variant_id=feed_variant.variant_id,
        location_id=location.id,
        buffer=feed.allocation_buffer if buffer is None else buffer,
    )


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
