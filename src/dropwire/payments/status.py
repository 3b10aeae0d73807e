"""Payment statuses of purchase orders and their items, from the invoices that cover them."""

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from dropwire.core.expressions import among
from dropwire.payments.models import InvoiceState, InvoiceType, VendorInvoice, VendorInvoiceLine
from dropwire.sales.models import PaymentStatus, Purchase, PurchaseItem


def _status(paid: int, total: int) -> PaymentStatus:
    if total == 0 or paid == 0:
        return PaymentStatus.not_paid
    return PaymentStatus.paid if paid >= total else PaymentStatus.partially_paid


def refresh_payment_status(session: Session, *, invoice_ids: Collection[int]) -> None:
    """Recompute `paymentStatus` of the purchase orders these invoices belong to: an item is
    paid when every invoice line for it stands on a paid invoice."""
    if not invoice_ids:
        return
    purchase_ids = set(
        session.scalars(
            select(VendorInvoice.purchase_id).where(
                among(session, column=VendorInvoice.id, values=invoice_ids)
            )
        )
    )
    rows = session.execute(
        select(VendorInvoiceLine.purchase_item_id, VendorInvoiceLine.quantity, VendorInvoice.status)
        .join(VendorInvoice, VendorInvoice.id == VendorInvoiceLine.invoice_id)
        .where(among(session, column=VendorInvoice.purchase_id, values=purchase_ids))
        .where(VendorInvoice.type == InvoiceType.invoice)
    ).all()
    totals: dict[int, list[int]] = {}
    for item_id, quantity, status in rows:
        paid, total = totals.setdefault(item_id, [0, 0])
        totals[item_id] = [
            paid + (quantity if status == InvoiceState.paid else 0),
            total + quantity,
        ]
    for purchase in session.scalars(
        select(Purchase).where(among(session, column=Purchase.id, values=purchase_ids))
    ):
        paid_sum = total_sum = 0
        item: PurchaseItem
        for item in purchase.items:
            paid, total = totals.get(item.id, [0, 0])
            item.vendor_payment_status = _status(paid, total)
            paid_sum += paid
            total_sum += total
        purchase.vendor_payment_status = _status(paid_sum, total_sum)
    session.flush()
