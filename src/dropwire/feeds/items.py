"""Items as the feed upsert takes them, from pushed documents and edits."""

from typing import Any

from dropwire.feeds.schemas import FeedVariantData, FeedVariantUpdate
from dropwire.feeds.upsert import (
    FeedItem,
    content_digest,
)


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
