"""Editing a sale's header."""

from sqlalchemy.orm import Session

from dropwire.sales.cancelling import cancel
from dropwire.sales.models import (
    CancelReason,
    Sale,
)
from dropwire.sales.references import change_reference
from dropwire.sales.schemas import (
    CancelRequest,
    SaleDefaults,
    SaleUpdate,
)

_SALE_COLUMNS = {"payment_status", "date_ordered"}
_NOT_STORED = {"customer", "sale_defaults", "options", "cancelled", "cancel_reason"}


def update_sale(
    session: Session, *, sale: Sale, data: SaleUpdate, actor: str | None = None
) -> Sale:
    """`PUT /sales/{id}.json`: change the header (addresses, customer, payment status, notes)."""
    nested = data.sale_defaults
    changes = data.model_dump(exclude_unset=True, exclude=_NOT_STORED)
    if nested is not None:
        changes = nested.model_dump(exclude_unset=True, exclude=_NOT_STORED) | changes
    if reference := changes.get("reference"):
        change_reference(session, sale=sale, reference=reference, field="reference")
    for name in _SALE_COLUMNS & set(changes):
        if changes[name] is not None:
            setattr(sale, name, changes[name])
    if "receiver_country" in changes:
        sale.receiver_country = (changes["receiver_country"] or "").upper() or None
    wire = SaleDefaults.model_validate(changes).model_dump(
        mode="json", by_alias=True, include=set(changes)
    )
    sale.sale_defaults = {**sale.sale_defaults, **wire}
    if data.customer is not None:
        customer = data.customer.model_dump(mode="json", exclude_unset=True, by_alias=True)
        sale.customer = {**sale.customer, **customer}
    if data.options is not None:
        sale.options = data.options
    cancelled = data.cancelled if data.cancelled is not None else (nested and nested.cancelled)
    if cancelled and any(item.quantity_open > 0 for item in sale.items):
        reason = data.cancel_reason or (nested and nested.cancel_reason) or CancelReason.customer
        cancel(session, sale=sale, request=CancelRequest(cancel_reason=reason), actor=actor)
    session.flush()
    return sale
