"""Cancelling units: by the merchant (a sale's lines) or by the vendor (its purchase order)."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from dropwire.catalog.models import Variant
from dropwire.inventory.models import Allocation
from dropwire.sales import statuses
from dropwire.sales.errors import PurchaseCancelled
from dropwire.sales.line_requests import lines_requested
from dropwire.sales.models import (
    CancellationStatus,
    Purchase,
    Sale,
    SaleItem,
)
from dropwire.sales.purchasing import (
    announce_cancellation,
    cancel_purchase_units,
    route,
    take_back_units,
)
from dropwire.sales.schemas import (
    CancelRequest,
    PurchaseCancel,
)
from dropwire.sales.tallies import note_problems, refresh_purchase, refresh_statuses


def take_back(session: Session, *, item: SaleItem, quantity: int, actor: str | None = None) -> None:
    """Cancel `quantity` open units of a line (a return of units that never shipped)."""
    take_back_units(session, item=item, quantity=quantity, cancel_units=True, actor=actor)


def cancel(
    session: Session, *, sale: Sale, request: CancelRequest, actor: str | None = None
) -> Sale:
    """Cancel open units of given lines (or of every line); shipped units can't be cancelled."""
    for item, quantity in lines_requested(sale.items, request.sale_items, "saleItems", "cancel"):
        take_back_units(session, item=item, quantity=quantity, cancel_units=True, actor=actor)
    sale.cancel_reason = request.cancel_reason
    refresh_statuses(sale)
    session.flush()
    return sale


def cancel_purchase(
    session: Session, *, purchase: Purchase, request: PurchaseCancel, actor: str | None = None
) -> Purchase:
    """Take open units off this purchase order and route them again, never back to a source
    that gave units of the line back before.

    Units no other source can supply stay open on their sale line with a dropship problem.
    """
    if purchase.cancellation_status == CancellationStatus.full:
        raise PurchaseCancelled("purchaseItems", "this purchase order is already cancelled")
    lines, ids = request.purchase_items, request.ids
    if not request.set_quantities and request.purchase_items is not None:
        lines, ids = None, [line.id for line in request.purchase_items]  # whole lines
    if request.status is not None:
        purchase.purchase_status_id = statuses.by_name(
            session, name=request.status, field="status"
        ).id
    if request.notes is not None:
        purchase.notes = request.notes
    wanted = lines_requested(purchase.items, lines, "purchaseItems", "cancel", ids)
    sale = purchase.sale
    for item, quantity in wanted:
        cancel_purchase_units(session, purchase_item=item, quantity=quantity, actor=actor)
        sale_item = session.get(SaleItem, item.sale_item_id)
        variant = session.get(Variant, item.variant_id) if item.variant_id else None
        if sale_item is None or variant is None:
            continue
        route(
            session,
            sale=sale,
            item=sale_item,
            variant=variant,
            quantity=quantity,
            field=f"purchaseItems[{item.id}]",
            actor=actor,
            exclude_locations=_rejected_locations(session, sale_item.id),
        )
    refresh_purchase(purchase)
    announce_cancellation(session, purchase=purchase)
    note_problems(sale)
    refresh_statuses(sale)
    session.flush()
    return purchase


def _rejected_locations(session: Session, sale_item_id: int) -> frozenset[int]:
    """Locations that released units of this line: they are not asked again."""
    rows = session.scalars(
        select(Allocation.location_id).where(
            Allocation.sale_item_id == sale_item_id, Allocation.released > 0
        )
    )
    return frozenset(rows)
