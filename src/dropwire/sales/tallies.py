"""Statuses derived from line quantities: shipping, cancellation and returns of sales and POs."""

from collections.abc import Sequence
from typing import Any

from dropwire.core.time import utcnow
from dropwire.sales.models import (
    CancellationStatus,
    Purchase,
    PurchaseInventoryStatus,
    PurchaseItem,
    ReturnStatus,
    Sale,
    SaleInventoryStatus,
    SaleItem,
)


def assign(target: Any, **values: Any) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(target, name) != value:
            setattr(target, name, value)
            changed = True
    return changed


def note_problems(sale: Sale) -> None:
    assign(
        sale,
        dropship_problems=[
            f"{item.external_id}: {item.problem}" for item in sale.items if item.problem
        ],
    )


def _tally(items: Sequence[SaleItem] | Sequence[PurchaseItem]) -> tuple[str, CancellationStatus]:
    """How far shipping got ("none" | "partial" | "all") and the cancellation status of lines."""
    ordered = sum(i.quantity for i in items)
    cancelled = sum(i.quantity_cancelled for i in items)
    shipped = sum(i.quantity_shipped for i in items)
    shipping = "none" if shipped == 0 else "all" if shipped >= ordered - cancelled else "partial"
    if cancelled == 0:
        return shipping, CancellationStatus.none
    return shipping, CancellationStatus.full if cancelled >= ordered else CancellationStatus.partial


_PURCHASE_SHIPPING = {
    "none": PurchaseInventoryStatus.not_received,
    "partial": PurchaseInventoryStatus.partially_received,
    "all": PurchaseInventoryStatus.received,
}
_SALE_SHIPPING = {
    "none": SaleInventoryStatus.not_fulfilled,
    "partial": SaleInventoryStatus.partially_fulfilled,
    "all": SaleInventoryStatus.fulfilled,
}


def _set_cancellation(target: Sale | Purchase, status: CancellationStatus) -> None:
    if status != target.cancellation_status:
        target.cancellation_status = status
        target.cancelled_at = utcnow() if status == CancellationStatus.full else None


def refresh_purchase(purchase: Purchase) -> None:
    shipping, cancellation = _tally(purchase.items)
    assign(purchase, inventory_status=_PURCHASE_SHIPPING[shipping])
    _set_cancellation(purchase, cancellation)


def refresh_statuses(sale: Sale) -> None:
    shipping, cancellation = _tally(sale.items)
    assign(sale, inventory_status=_SALE_SHIPPING[shipping])
    _set_cancellation(sale, cancellation)
    returned = sum(item.quantity_returned for item in sale.items)
    kept = sum(item.quantity - item.quantity_cancelled for item in sale.items)
    status = (
        ReturnStatus.not_returned
        if returned == 0
        else ReturnStatus.returned
        if returned >= kept
        else ReturnStatus.partially_returned
    )
    assign(sale, return_status=status)
