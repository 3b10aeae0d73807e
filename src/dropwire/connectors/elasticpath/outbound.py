"""What Elastic Path stores must hear (this connector's side of `channels.connectors`), decided
just before a transaction commits: stock of its channels' listings, products marked for
publishing, and the states of orders whose purchase orders, fulfillments or lines changed (lines
never routed or in-house included, which no purchase-order event mentions). Deliveries are
written in the same transaction; the relay sends them through this connector's transport after
commit.
"""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dropwire.catalog.models import ChannelVariant, ChannelVariantStatus, Variant
from dropwire.catalog.service import channel_link
from dropwire.channels.connectors import Changed, OrderChanges
from dropwire.connectors.elasticpath.models import (
    PRODUCT,
    STOCK,
    TRANSPORT,
    ElasticPathOrder,
    ElasticPathStore,
)
from dropwire.connectors.elasticpath.order_states import sync_order
from dropwire.delivery import outbox
from dropwire.sales.models import Fulfillment, Purchase, Sale


def _stores(session: Session) -> dict[int, ElasticPathStore]:
    return {store.channel_id: store for store in session.scalars(select(ElasticPathStore))}


def push_stock(session: Session, changed: Changed) -> list[tuple[ChannelVariant, int]]:
    """Its channels' part of `changed`, each as a stock level for the store to reach."""
    stores = _stores(session)
    if not stores:
        return []
    pushed: list[tuple[ChannelVariant, int]] = []
    for channel_variant, quantity in changed:
        store = stores.get(channel_variant.channel_id)
        if store is None or not channel_variant.external_id:
            continue  # not an Elastic Path listing, or not connected to a store product yet
        outbox.record(
            session,
            event=STOCK,
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
            coalesce_key=f"{STOCK}:{channel_variant.id}",
            transport=TRANSPORT,
        )
        pushed.append((channel_variant, quantity))
    return pushed


def _sale_ids(session: Session, changes: OrderChanges) -> set[int]:
    ids = set(changes.cancelled_sale_ids)
    for purchase_id in changes.purchase_ids:
        if (purchase := session.get(Purchase, purchase_id)) is not None:
            ids.add(purchase.sale_id)
    for fulfillment_id in changes.fulfillment_ids:
        if (fulfillment := session.get(Fulfillment, fulfillment_id)) is not None:
            ids.add(fulfillment.sale_id)
    return ids


def send_order_states(session: Session, changes: OrderChanges) -> None:
    """Bring the store's orders of the changed sales up to date."""
    if not (changes.purchase_ids or changes.fulfillment_ids or changes.cancelled_sale_ids):
        return
    stores = _stores(session)
    if not stores:
        return
    sale_ids = _sale_ids(session, changes)
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
            sync_order(session, store=stores[sale.channel_id], sale=sale, record=record)


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


def publish_products(session: Session, variant_ids: set[int]) -> None:
    """Each variant as a product of every store that publishes products."""
    publishing = [store for store in _stores(session).values() if store.publish_products]
    if not publishing:
        return
    for variant in session.scalars(select(Variant).where(Variant.id.in_(variant_ids))):
        for store in publishing:
            link = channel_link(session, channel_id=store.channel_id, variant_id=variant.id)
            if link.id is None:
                session.flush()
            if link.status == ChannelVariantStatus.ignore:
                continue
            outbox.record(
                session,
                event=PRODUCT,
                url=store.base_url,
                body={"attributes": _product_attributes(variant)},
                subject_type="channel_variant",
                subject_id=link.id,
                channel_id=store.channel_id,
                coalesce_key=f"{PRODUCT}:{link.id}",
                transport=TRANSPORT,
            )
