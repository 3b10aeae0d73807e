"""Data exports: a file made by a job, kept with its record, downloaded once complete.

The inventory-feed export (`GET /inventory-feeds/{id}/export.json`) writes one CSV row per feed
item with Onport's export columns that Dropwire stores.
"""

import csv
import io
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dropwire.core.errors import DomainError, NotFound
from dropwire.core.time import utcnow
from dropwire.exports import templates
from dropwire.exports.models import DataExport, ExportStatus
from dropwire.feeds.models import InventoryFeed, InventoryFeedVariant
from dropwire.jobs.registry import JobKind
from dropwire.jobs.service import enqueue

INVENTORY_FEED = "inventory_feed"
FEED_COLUMNS = (
    ("vendor_sku", "vendor_sku"),
    ("name", "name"),
    ("barcode", "barcode"),
    ("cost_price", "cost_price"),
    ("retail_price", "price"),
    ("compare_at_price", "compare_at_price"),
    ("inventory_quantity", "inventory_quantity"),
    ("external_id", "external_id"),
    ("handle", "external_group_id"),
    ("tags", "tags"),
    ("images", "images"),
    ("inventory_feed.allocation_buffer", None),
)


def export_feed(session: Session, *, feed: InventoryFeed) -> DataExport:
    """Queue the feed's CSV export (answered at once, status pending)."""
    export = DataExport(
        export_type=INVENTORY_FEED,
        status=ExportStatus.pending,
        inventory_feed_id=feed.id,
        dropship_provider_id=feed.dropship_provider_id,
    )
    session.add(export)
    session.flush()
    enqueue(session, kind="exports.render", payload={"exportId": export.id})
    return export


def render(session: Session, payload: dict[str, Any]) -> None:
    export = session.get(DataExport, payload["exportId"])
    if export is None:  # deleted with its feed meanwhile
        return
    export.status = ExportStatus.processing
    export.started_at = utcnow()
    if export.export_type == templates.TEMPLATE:
        try:
            templates.render(session, export=export)
        except DomainError as exc:  # a filter the data no longer allows
            export.status = ExportStatus.failed
            export.problem = str(exc)
            return
        export.status = ExportStatus.complete
        export.completed_at = utcnow()
        return
    feed = (
        session.get(InventoryFeed, export.inventory_feed_id) if export.inventory_feed_id else None
    )
    if feed is None:
        export.status = ExportStatus.failed
        export.problem = "the inventory feed no longer exists"
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([title for title, _ in FEED_COLUMNS])
    rows = session.scalars(
        select(InventoryFeedVariant)
        .where(InventoryFeedVariant.inventory_feed_id == feed.id)
        .order_by(InventoryFeedVariant.id)
    )
    count = 0
    for item in rows:
        writer.writerow([_cell(item, name, feed) for _, name in FEED_COLUMNS])
        count += 1
    export.content = buffer.getvalue()
    export.rows = count
    export.status = ExportStatus.complete
    export.completed_at = utcnow()


def _cell(item: InventoryFeedVariant, name: str | None, feed: InventoryFeed) -> Any:
    if name is None:
        return feed.allocation_buffer
    value = getattr(item, name)
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return "" if value is None else value


def get(session: Session, *, export_id: int) -> DataExport:
    export = session.get(DataExport, export_id)
    if export is None:
        raise NotFound("Data export", export_id)
    return export


RENDER_EXPORT = JobKind("exports.render", render)
