"""What Elastic Path stores must hear, decided just before a transaction commits.

The changes the unit of work gathered: touched variants (stock), sales events (order states) and
variants marked for publishing (products), plus the sales whose lines were cancelled (lines never
routed or in-house included, which no purchase-order event mentions). This step runs ahead of
the custom channels' stock step (which names this one in its `after`). Stock pushes are recorded as
pushed here, so the custom channels' pass finds nothing left for these channel variants.
Deliveries are written in the same transaction; the relay sends them through this connector's
transport after commit.
"""

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dropwire.catalog.models import ChannelVariantStatus, Variant
from dropwire.catalog.service import PUBLISH_KEY, channel_link
from dropwire.channels.quantities import changed_channel_quantities, record_pushed
from dropwire.connectors.elasticpath import service
from dropwire.connectors.elasticpath.models import ElasticPathOrder, ElasticPathStore
from dropwire.core.unit_of_work import CommitStep
from dropwire.delivery import outbox
from dropwire.inventory.service import TOUCHED_KEY
from dropwire.sales import events as sales_events
from dropwire.sales.models import Fulfillment, Purchase, Sale


def queue_stock(
    session: Session, stores: dict[int, ElasticPathStore], variant_ids: set[int]
) -> int:
    queued = 0
    for channel_variant, quantity in changed_channel_quantities(session, variant_ids):
        store = stores.get(channel_variant.channel_id)
        if store is None or not channel_variant.external_id:
            continue  # not an Elastic Path listing, or not connected to a store product yet
        outbox.record(
            session,
            event="elasticpath.stock",
            url=store.base_url,
            body={
                "productId": channel_variant.external_id,
                "sku": channel_variant.variant.sku,
                "available": quantity,
                "mode": store.inventory,
                "location": store.location,
            },
            subject_type="channel_variant",
            subject_id=channel_variant.id,
            channel_id=store.channel_id,
            coalesce_key=f"elasticpath.stock:{channel_variant.id}",
            transport=service.TRANSPORT,
        )
        record_pushed(channel_variant, quantity)
        queued += 1
    return queued


def _sale_ids(session: Session, recorded: list[sales_events.SalesEvent]) -> set[int]:
    ids: set[int] = set()
    for item in recorded:
        subject: Purchase | Fulfillment | None = (
            session.get(Purchase, item.id)
            if item.subject == "purchase"
            else session.get(Fulfillment, item.id)
        )
        if subject is not None:
            ids.add(subject.sale_id)
    return ids


def queue_order_states(
    session: Session, stores: dict[int, ElasticPathStore], sale_ids: set[int]
) -> int:
    queued = 0
    for sale in session.scalars(
        select(Sale).where(Sale.id.in_(sale_ids), Sale.channel_id.in_(stores)).order_by(Sale.id)
    ):
        record = session.scalar(
            select(ElasticPathOrder).where(
                ElasticPathOrder.channel_id == sale.channel_id,
                ElasticPathOrder.order_id == sale.external_id,
            )
        )
        if record is not None:
            queued += service.sync_order(
                session, store=stores[sale.channel_id], sale=sale, record=record
            )
    return queued


def _product_attributes(variant: Variant) -> dict[str, Any]:
    name = variant.product.name
    if variant.name and variant.name != name:
        name = f"{name} - {variant.name}"
    attributes: dict[str, Any] = {
        "name": name[:255],
        "sku": variant.sku,
        "slug": "".join(c if c.isalnum() or c in "-_." else "-" for c in variant.sku),
        "commodity_type": "physical",
        "status": "draft",
        "external_ref": f"dropwire-variant-{variant.id}",
    }
    if variant.product.description:
        attributes["description"] = variant.product.description
    if variant.barcode:
        attributes["upc_ean"] = variant.barcode
    return attributes


def queue_products(
    session: Session, stores: dict[int, ElasticPathStore], variant_ids: set[int]
) -> int:
    publishing = [store for store in stores.values() if store.publish_products]
    if not publishing:
        return 0
    queued = 0
    for variant in session.scalars(select(Variant).where(Variant.id.in_(variant_ids))):
        for store in publishing:
            link = channel_link(session, channel_id=store.channel_id, variant_id=variant.id)
            if link.id is None:
                session.flush()
            if link.status == ChannelVariantStatus.ignore:
                continue
            outbox.record(
                session,
                event="elasticpath.product",
                url=store.base_url,
                body={"attributes": _product_attributes(variant)},
                subject_type="channel_variant",
                subject_id=link.id,
                channel_id=store.channel_id,
                coalesce_key=f"elasticpath.product:{link.id}",
                transport=service.TRANSPORT,
            )
            queued += 1
    return queued


def queue_store_calls(session: Session, changes: Mapping[str, Any]) -> None:
    """Ahead of the custom channels' steps: stock pushed here is recorded as pushed."""
    touched: set[int] | None = changes.get(TOUCHED_KEY)
    recorded: list[sales_events.SalesEvent] | None = changes.get(sales_events.EVENTS_KEY)
    published: set[int] | None = changes.get(PUBLISH_KEY)
    cancelled: set[int] = changes.get(sales_events.SALES_KEY) or set()  # no PO to tell
    stores = {store.channel_id: store for store in session.scalars(select(ElasticPathStore))}
    if not stores:
        return
    if recorded or cancelled:
        sale_ids = set(cancelled) | (_sale_ids(session, recorded) if recorded else set())
        queue_order_states(session, stores, sale_ids)
    if published:
        queue_products(session, stores, set(published))
    if touched:
        queue_stock(session, stores, set(touched))


QUEUE_STORE_CALLS = CommitStep(
    "elasticpath.store_calls",
    frozenset({TOUCHED_KEY, sales_events.EVENTS_KEY, sales_events.SALES_KEY, PUBLISH_KEY}),
    queue_store_calls,
)
