"""A source ships: fulfillments."""

from sqlalchemy.orm import Session

from dropwire.core.time import utcnow
from dropwire.inventory import service as inventory
from dropwire.sales import events
from dropwire.sales.errors import PurchaseCancelled
from dropwire.sales.line_requests import lines_requested
from dropwire.sales.models import (
    CancellationStatus,
    Fulfillment,
    FulfillmentItem,
    Purchase,
    SaleItem,
)
from dropwire.sales.schemas import (
    ShipRequest,
)
from dropwire.sales.tallies import refresh_purchase, refresh_statuses


def ship(
    session: Session, *, purchase: Purchase, request: ShipRequest, actor: str | None = None
) -> Fulfillment:
    """The source shipped: a fulfillment `{PO ref}-{NN}`; stocked and allocated go down."""
    if purchase.cancellation_status == CancellationStatus.full:
        raise PurchaseCancelled("purchaseItems", "this purchase order is cancelled")
    wanted = lines_requested(
        purchase.items, request.purchase_items, "purchaseItems", "ship", request.ids
    )
    purchase.last_fulfillment_number += 1
    fulfillment = Fulfillment(
        sale_id=purchase.sale_id,
        purchase_id=purchase.id,
        reference=f"{purchase.external_reference}-{purchase.last_fulfillment_number:02d}",
        tracking_number=request.tracking_number,
        tracking_company=request.tracking_company,
        tracking_url=request.tracking_url,
        service_level=request.service_level,
        shipped_at=utcnow(),
    )
    session.add(fulfillment)
    session.flush()
    for item, quantity in wanted:
        inventory.ship(session, allocation_id=item.allocation_id, quantity=quantity, actor=actor)
        item.quantity_shipped += quantity
        sale_item = session.get(SaleItem, item.sale_item_id)
        assert sale_item is not None
        sale_item.quantity_shipped += quantity
        fulfillment.items.append(
            FulfillmentItem(
                fulfillment_id=fulfillment.id,
                purchase_item_id=item.id,
                sale_item_id=item.sale_item_id,
                quantity=quantity,
            )
        )
    refresh_purchase(purchase)
    sale = purchase.sale
    sale.fulfillments.append(fulfillment)
    refresh_statuses(sale)
    events.fulfillment_created(session, fulfillment_id=fulfillment.id, purchase_id=purchase.id)
    session.flush()
    return fulfillment


def mark_delivered(session: Session, *, fulfillment: Fulfillment) -> Fulfillment:
    """The shipment reached the customer (once: marking it again keeps the first time)."""
    if fulfillment.delivered_at is None:
        fulfillment.delivered_at = utcnow()
        events.fulfillment_delivered(session, fulfillment_id=fulfillment.id)
        session.flush()
    return fulfillment
