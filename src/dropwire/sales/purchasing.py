"""Routing a line's units to a source: allocate there and put them on a purchase order.

Invariant, per line: ordered = shipped + cancelled + open, and every open routed unit is held by
an allocation (the inventory core's guarded allocate, so two sales never take the last unit)."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from dropwire.catalog.models import InventoryPolicy, Variant
from dropwire.inventory import service as inventory
from dropwire.inventory.errors import InsufficientStock
from dropwire.inventory.models import MovementCause
from dropwire.inventory.service import AllocationRequest
from dropwire.sales import events
from dropwire.sales.models import (
    CancellationStatus,
    Purchase,
    PurchaseInventoryStatus,
    PurchaseItem,
    Sale,
    SaleItem,
)
from dropwire.sales.routing import Source, candidate_sources, default_strategy
from dropwire.sales.splitting import strategy_for
from dropwire.sales.tallies import refresh_purchase


def route(
    session: Session,
    *,
    sale: Sale,
    item: SaleItem,
    variant: Variant,
    quantity: int,
    field: str,
    actor: str | None,
    exclude_locations: frozenset[int] = frozenset(),
) -> None:
    """Allocate `quantity` units of the line at the best source and put them on a purchase order."""
    with session.no_autoflush:  # reads stock levels, which only change through Core updates
        sources = candidate_sources(session, variant, sale.receiver_country)
    sources = [s for s in sources if s.location_id not in exclude_locations]
    sources = default_strategy().rank(sources, quantity)
    backorder = variant.inventory_policy == InventoryPolicy.continue_
    for source in sources:
        if source.available < quantity and not backorder:
            continue
        splitting = strategy_for(source.vendor.order_splitting if source.vendor else None)
        parcels = splitting.parcels(quantity)
        requests = [
            AllocationRequest(
                variant.id,
                source.location_id,
                units,
                sale_id=sale.id,
                sale_item_id=item.id,
                field=field,
            )
            for units in parcels
        ]
        try:
            allocations = inventory.allocate(session, requests, actor=actor)
        except InsufficientStock:
            continue  # another sale took it meanwhile: try the next source
        for allocation in allocations:
            purchase = _purchase_for(session, sale, source, joins=splitting.joins_open_purchase())
            purchase.items.append(
                PurchaseItem(
                    purchase_id=purchase.id,
                    sale_item_id=item.id,
                    variant_id=variant.id,
                    allocation_id=allocation.id,
                    name=item.name or variant.name,
                    quantity=allocation.quantity,
                    quantity_shipped=0,
                    quantity_cancelled=0,
                    cost_price=source.cost_price,
                )
            )
            refresh_purchase(purchase)
        item.problem = None
        return
    item.problem = f"no source can supply {quantity} of {variant.sku}"


def _purchase_for(session: Session, sale: Sale, source: Source, *, joins: bool) -> Purchase:
    vendor_id = source.vendor.id if source.vendor else None
    if joins:
        for purchase in sale.purchases:
            if (
                purchase.dropship_provider_id == vendor_id
                and purchase.warehouse_id == source.warehouse_id
                and purchase.inventory_status == PurchaseInventoryStatus.not_received
                and purchase.cancellation_status != CancellationStatus.full
            ):
                if purchase.is_dropship:
                    events.purchase_changed(session, purchase.id, "updated")
                return purchase
    sale.last_purchase_number += 1
    purchase = Purchase(
        sale_id=sale.id,
        dropship_provider_id=vendor_id,
        warehouse_id=source.warehouse_id,
        external_reference=f"{sale.reference}-{sale.last_purchase_number:02d}",
        order_splitting=str(source.vendor.order_splitting) if source.vendor else "group",
    )
    session.add(purchase)
    session.flush()
    sale.purchases.append(purchase)
    if purchase.is_dropship:
        events.purchase_changed(session, purchase.id, "created")
    return purchase


def take_back_units(
    session: Session, *, item: SaleItem, quantity: int, cancel_units: bool, actor: str | None
) -> None:
    """Release `quantity` open units of a line: unrouted ones first, then newest PO items."""
    routed_open = sum(pi.quantity_open for pi in _purchase_items(session, item))
    unrouted = item.quantity_open - routed_open
    remaining = quantity - min(unrouted, quantity)
    for purchase_item in reversed(_purchase_items(session, item)):
        if remaining == 0:
            break
        take = min(purchase_item.quantity_open, remaining)
        if take == 0:
            continue
        inventory.release(
            session,
            allocation_id=purchase_item.allocation_id,
            quantity=take,
            cause=MovementCause.cancellation,
            actor=actor,
        )
        purchase_item.quantity_cancelled += take
        remaining -= take
        purchase = purchase_item.purchase
        refresh_purchase(purchase)
        announce_cancellation(session, purchase)
    if cancel_units:
        item.quantity_cancelled += quantity
        events.lines_cancelled(session, item.sale_id)
    if item.quantity_open - (0 if cancel_units else quantity) <= 0:
        item.problem = None


def announce_cancellation(session: Session, purchase: Purchase) -> None:
    """Tell the vendor its purchase order lost units (`cancelled` once none are left)."""
    if purchase.is_dropship:
        full = purchase.cancellation_status == CancellationStatus.full
        events.purchase_changed(session, purchase.id, "cancelled" if full else "updated")


def _purchase_items(session: Session, item: SaleItem) -> list[PurchaseItem]:
    return list(
        session.scalars(
            select(PurchaseItem)
            .where(PurchaseItem.sale_item_id == item.id)
            .order_by(PurchaseItem.id)
        )
    )
