"""Payment statuses of purchase orders and their items, from the invoices that cover them."""

from collections.abc import Collection
from typing import Any

from sqlalchemy import Subquery, case, func, or_, select, update
from sqlalchemy.orm import Session

from dropwire.core.expressions import among
from dropwire.payments.models import InvoiceState, InvoiceType, VendorInvoice, VendorInvoiceLine
from dropwire.sales.models import PaymentStatus, Purchase, PurchaseItem


def _statuses(by: Any, purchases: Any) -> Subquery:
    """Per `by` (an item's or an order's id), the payment status of its invoice lines (of
    invoices, not credits) on the orders `purchases` selects: paid when every unit stands on
    a paid invoice, not paid when none does."""
    paid = func.sum(
        case((VendorInvoice.status == InvoiceState.paid, VendorInvoiceLine.quantity), else_=0)
    )
    total = func.sum(VendorInvoiceLine.quantity)
    return (
        select(
            by.label("id"),
            case(
                (or_(total == 0, paid == 0), PaymentStatus.not_paid.value),
                (paid >= total, PaymentStatus.paid.value),
                else_=PaymentStatus.partially_paid.value,
            ).label("status"),
        )
        .join(VendorInvoice, VendorInvoice.id == VendorInvoiceLine.invoice_id)
        .where(VendorInvoice.type == InvoiceType.invoice, VendorInvoice.purchase_id.in_(purchases))
        .group_by(by)
        .subquery()
    )


def refresh_payment_status(session: Session, *, invoice_ids: Collection[int]) -> None:
    """Recompute `paymentStatus` of the purchase orders these invoices belong to, and of their
    items: one statement per table for any number, writing only the rows that change (a
    payout run completes a thousand vendors' payments at once; object by object, that was
    most of its time). The session's objects of those tables read their status again."""
    if not invoice_ids:
        return
    purchases = select(VendorInvoice.purchase_id).where(
        among(session, column=VendorInvoice.id, values=invoice_ids)
    )
    for model, by in (
        (PurchaseItem, VendorInvoiceLine.purchase_item_id),
        (Purchase, VendorInvoice.purchase_id),
    ):
        computed = _statuses(by, purchases)
        session.execute(
            update(model)
            .where(model.id == computed.c.id, model.vendor_payment_status != computed.c.status)
            .values(vendor_payment_status=computed.c.status)
            .execution_options(synchronize_session=False)
        )
    for held in list(session.identity_map.values()):
        if isinstance(held, Purchase | PurchaseItem):
            session.expire(held, ["vendor_payment_status"])
