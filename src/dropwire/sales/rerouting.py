"""Moving an unshipped purchase order to another vendor."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from dropwire.inventory import service as inventory
from dropwire.inventory.locations import location_for_feed
from dropwire.inventory.models import Allocation
from dropwire.inventory.service import AllocationRequest
from dropwire.sales import events
from dropwire.sales.errors import (
    PurchaseCancelled,
    PurchasePartlyShipped,
    VendorLacksVariant,
    VendorNotAccepted,
)
from dropwire.sales.models import (
    CancellationStatus,
    Purchase,
)
from dropwire.vendors.models import DropshipProvider, VendorStatus


def move_to_vendor(
    session: Session, *, purchase: Purchase, vendor_id: int, actor: str | None = None
) -> Purchase:
    """Re-route an unshipped purchase order: release at the old source, allocate at the new one."""
    vendor = session.get(DropshipProvider, vendor_id)
    if vendor is None or vendor.status != VendorStatus.accepted:
        raise VendorNotAccepted(
            "dropshipProviderId", f"dropship provider {vendor_id} does not exist or is not accepted"
        )
    if vendor.id == purchase.dropship_provider_id:
        return purchase
    if any(item.quantity_shipped for item in purchase.items):
        raise PurchasePartlyShipped(
            "dropshipProviderId", "part of this purchase order is already shipped"
        )
    if purchase.cancellation_status == CancellationStatus.full:
        raise PurchaseCancelled("dropshipProviderId", "this purchase order is cancelled")
    from dropwire.feeds.models import InventoryFeed, InventoryFeedVariant

    for index, item in enumerate(purchase.items):
        if item.quantity_open == 0:
            continue
        feed_id = session.scalar(
            select(InventoryFeed.id)
            .join(InventoryFeedVariant, InventoryFeedVariant.inventory_feed_id == InventoryFeed.id)
            .where(
                InventoryFeed.dropship_provider_id == vendor.id,
                InventoryFeedVariant.variant_id == item.variant_id,
            )
            .order_by(InventoryFeed.id)
        )
        if feed_id is None:
            raise VendorLacksVariant(
                f"purchaseItems[{index}]", f"vendor {vendor.id} has no feed item for this variant"
            )
        location = location_for_feed(session, inventory_feed_id=feed_id)
        (allocation,) = inventory.allocate(
            session,
            requests=[
                AllocationRequest(
                    item.variant_id or 0,
                    location.id,
                    item.quantity_open,
                    sale_id=purchase.sale_id,
                    sale_item_id=item.sale_item_id,
                    field=f"purchaseItems[{index}].quantity",
                )
            ],
            actor=actor,
        )
        old = session.get(Allocation, item.allocation_id)
        assert old is not None
        if old.open_quantity:
            inventory.release(
                session, allocation_id=old.id, quantity=old.open_quantity, actor=actor
            )
        item.allocation_id = allocation.id
    if purchase.dropship_provider_id is not None:
        events.purchase_changed(
            session,
            purchase_id=purchase.id,
            event="cancelled",
            vendor_id=purchase.dropship_provider_id,
        )
    purchase.dropship_provider_id = vendor.id
    purchase.warehouse_id = None
    events.purchase_changed(session, purchase_id=purchase.id, event="created", vendor_id=vendor.id)
    session.flush()
    return purchase
