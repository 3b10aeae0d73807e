"""Reads of feeds and feed variants, scoped to what the caller may see."""

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session

from dropwire.auth.scope import one_visible, visible_to
from dropwire.auth.service import Principal, digest
from dropwire.feeds.models import InventoryFeed, InventoryFeedVariant


def feed_by_hash(session: Session, *, presented: str) -> InventoryFeed | None:
    """The feed whose inbound hash is `presented`, found by digest (never by the value)."""
    return session.scalar(
        select(InventoryFeed).where(InventoryFeed.hash_digest == digest(presented))
    )


def feeds_visible(principal: Principal | None) -> Select[InventoryFeed]:
    return visible_to(select(InventoryFeed), principal, InventoryFeed.dropship_provider_id)


def vendor_feeds(vendor_id: int) -> ColumnElement[bool]:
    """What a vendor token sees of feeds another record includes: its own."""
    return InventoryFeed.dropship_provider_id == vendor_id


def feed_variants_visible(principal: Principal | None) -> Select[InventoryFeedVariant]:
    """A vendor sees the items of its own feeds."""
    statement = select(InventoryFeedVariant)
    if principal is not None and not principal.is_admin:
        statement = statement.join(InventoryFeed)
    return visible_to(statement, principal, InventoryFeed.dropship_provider_id)


def get_feed(
    session: Session, *, feed_id: int, principal: Principal | None = None
) -> InventoryFeed:
    statement = feeds_visible(principal).where(InventoryFeed.id == feed_id)
    return one_visible(session, statement=statement, what="Inventory feed", record_id=feed_id)


def get_feed_variant(
    session: Session, *, feed_variant_id: int, principal: Principal | None = None
) -> InventoryFeedVariant:
    """The answer names only the id asked for, never the feed behind it."""
    statement = feed_variants_visible(principal).where(InventoryFeedVariant.id == feed_variant_id)
    return one_visible(
        session, statement=statement, what="Inventory feed variant", record_id=feed_variant_id
    )
