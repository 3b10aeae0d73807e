"""The async twins of the feed and channel-catalog endpoints, as inbound item kinds."""

from typing import Any

from pydantic import ValidationError
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from dropwire.catalog.models import Variant
from dropwire.channels import catalog_sync
from dropwire.channels.service import get_channel
from dropwire.core.errors import NotFound
from dropwire.feeds import service
from dropwire.feeds.models import InventoryFeed, InventoryFeedVariant
from dropwire.feeds.pull import tasks as pull_tasks  # noqa: F401  (schedule handler, run poller)
from dropwire.feeds.schemas import FeedVariantData
from dropwire.feeds.upsert import Outcome
from dropwire.inbound.registry import Applied, InboundKind, Owner, external_id_of, register


def _feed(session: Session, feed_id: int) -> InventoryFeed:
    feed = session.get(InventoryFeed, feed_id)
    if feed is None:
        raise NotFound("Inventory feed", feed_id)
    return feed


def _parse_webhook(session: Session, feed_id: int, item: dict[str, Any]) -> Applied:
    data = FeedVariantData.model_validate(item)
    result = service.upsert_feed_variant(session, _feed(session, feed_id), data, "inbound")
    return Applied(external_id=data.external_id, skipped=not result.changed)


def _parse_webhooks(
    session: Session, feed_id: int, items: list[dict[str, Any]]
) -> list[Applied | Exception]:
    """An async request's items through the one batch upsert; a bad item fails alone."""
    feed = _feed(session, feed_id)
    outcomes: list[Applied | Exception] = []
    valid: list[tuple[int, FeedVariantData]] = []
    for index, item in enumerate(items):
        try:
            valid.append((index, FeedVariantData.model_validate(item)))
            outcomes.append(Applied())
        except ValidationError as exc:
            outcomes.append(exc)
    results = service.upsert_feed_variants(session, feed, [data for _, data in valid], "inbound")
    for (index, data), result in zip(valid, results, strict=True):
        outcomes[index] = result.error or Applied(
            external_id=data.external_id, skipped=result.outcome is Outcome.unchanged
        )
    return outcomes


def _feed_variant_exists(session: Session, feed_id: int, item: dict[str, Any]) -> bool:
    return (
        session.scalar(
            select(InventoryFeedVariant.id).where(
                InventoryFeedVariant.inventory_feed_id == feed_id,
                InventoryFeedVariant.external_id == external_id_of(item),
            )
        )
        is not None
    )


_KNOWN_FEED_VARIANTS = select(InventoryFeedVariant.external_id).where(
    InventoryFeedVariant.inventory_feed_id == bindparam("feed_id"),
    InventoryFeedVariant.external_id.in_(bindparam("external_ids", expanding=True)),
)


def _feed_variants_created(
    session: Session, feed_id: int, items: list[dict[str, Any]]
) -> list[bool]:
    """Which items would create their feed variant: one query for all of them."""
    external_ids = {e for item in items if (e := external_id_of(item)) is not None}
    params = {"feed_id": feed_id, "external_ids": list(external_ids)}
    known = set(session.scalars(_KNOWN_FEED_VARIANTS, params)) if external_ids else set()
    return [external_id_of(item) not in known for item in items]


def _import_product(session: Session, channel_id: int, item: dict[str, Any]) -> Applied:
    data = catalog_sync.ConnectorVariant.model_validate(item)
    catalog_sync.import_variant(session, get_channel(session, channel_id), data)
    return Applied(external_id=data.sku)


def _sku_exists(session: Session, _channel_id: int, item: dict[str, Any]) -> bool:
    return session.scalar(select(Variant.id).where(Variant.sku == item.get("sku"))) is not None


def _acknowledge(session: Session, channel_id: int, item: dict[str, Any]) -> Applied:
    data = catalog_sync.SkuLink.model_validate(item)
    catalog_sync.acknowledge(session, get_channel(session, channel_id), data, "inbound")
    return Applied(external_id=data.sku)


def _disconnect(session: Session, channel_id: int, item: dict[str, Any]) -> Applied:
    data = catalog_sync.SkuLink.model_validate(item)
    catalog_sync.disconnect(session, get_channel(session, channel_id), data, "inbound")
    return Applied(external_id=data.sku)


def _sku_key(owner_id: int, item: dict[str, Any]) -> str | None:
    sku = external_id_of(item, "sku")
    return f"channel-sku:{owner_id}:{sku}" if sku else None


def _never_creates(_session: Session, _owner_id: int, _item: dict[str, Any]) -> bool:
    return False


register(
    InboundKind(
        name="inbound.parse_webhook",
        owner=Owner.inventory_feed,
        apply=_parse_webhook,
        record_key=lambda feed_id, item: (
            f"feed-variant:{feed_id}:{external_id_of(item)}" if external_id_of(item) else None
        ),
        creates=lambda session, feed_id, item: not _feed_variant_exists(session, feed_id, item),
        creates_all=_feed_variants_created,
        apply_batch=_parse_webhooks,
        owner_key=lambda feed_id: f"feed-batch:{feed_id}",
    )
)
register(
    InboundKind(
        name="inbound.products",
        owner=Owner.custom_channel,
        apply=_import_product,
        record_key=_sku_key,
        creates=lambda session, channel_id, item: not _sku_exists(session, channel_id, item),
    )
)
register(
    InboundKind(
        name="inbound.acknowledge",
        owner=Owner.custom_channel,
        apply=_acknowledge,
        record_key=_sku_key,
        creates=_never_creates,
    )
)
register(
    InboundKind(
        name="inbound.disconnect",
        owner=Owner.custom_channel,
        apply=_disconnect,
        record_key=_sku_key,
        creates=_never_creates,
    )
)
