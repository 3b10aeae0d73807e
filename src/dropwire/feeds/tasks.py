"""The async twin of the feed endpoints (`parse-webhooks`), as an inbound item kind."""

from typing import Any

from pydantic import ValidationError
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from dropwire.core.errors import NotFound
from dropwire.feeds import service
from dropwire.feeds.models import InventoryFeed, InventoryFeedVariant
from dropwire.feeds.queries import feed_by_hash
from dropwire.feeds.schemas import FeedVariantData
from dropwire.feeds.upsert import Outcome
from dropwire.inbound.registry import Applied, HashOwner, InboundKind, Owner, external_id_of
from dropwire.inbound.service import same_secret


def _feed(session: Session, feed_id: int) -> InventoryFeed:
    feed = session.get(InventoryFeed, feed_id)
    if feed is None:
        raise NotFound("Inventory feed", feed_id)
    return feed


def _parse_webhook(session: Session, feed_id: int, item: dict[str, Any]) -> Applied:
    data = FeedVariantData.model_validate(item)
    result = service.upsert_feed_variant(
        session, feed=_feed(session, feed_id), data=data, actor="inbound"
    )
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
    results = service.upsert_feed_variants(
        session, feed=feed, items=[data for _, data in valid], actor="inbound"
    )
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


PARSE_WEBHOOK = InboundKind(
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


def _feed_by_hash(session: Session, presented: str) -> tuple[int, int | None] | None:
    feed = feed_by_hash(session, presented=presented)
    if feed is None or not same_secret(feed.hash, presented):
        return None
    return feed.id, None


FEED_HASHES = HashOwner(
    Owner.inventory_feed, _feed_by_hash, watched=((InventoryFeed, ("hash_digest", "enabled")),)
)
