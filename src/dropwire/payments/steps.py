"""Where money hooks into the sales flow: a commit step that reads what sales recorded in this
unit of work (purchase orders created, changed or cancelled, fulfillments, returns) and brings
those orders' vendor invoices in line before the transaction commits. Sales knows nothing of
payments; payments reads the sales records (the import goes one way: payments → sales)."""

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dropwire.core.expressions import among
from dropwire.core.unit_of_work import CommitStep
from dropwire.payments.invoicing import invoice_purchases, loaded_or_fetched
from dropwire.payments.tasks import schedule_payout
from dropwire.payments.webhooks import invoices_created
from dropwire.sales import events
from dropwire.sales.models import Fulfillment, Purchase
from dropwire.vendors.models import DropshipProvider, PaymentSchedule, PaymentTrigger


def touched_purchases(session: Session, *, changes: Mapping[str, Any]) -> set[int]:
    recorded: list[events.SalesEvent] = changes.get(events.EVENTS_KEY) or []
    purchase_ids = {event.id for event in recorded if event.subject == "purchase"}
    purchase_ids.update(
        e.purchase_id for e in recorded if e.subject == "fulfillment" and e.purchase_id
    )
    fulfillment_ids = set(changes.get(events.DELIVERED_KEY) or ())
    if fulfillment_ids:
        fulfillments = loaded_or_fetched(session, model=Fulfillment, ids=fulfillment_ids)
        purchase_ids.update(f.purchase_id for f in fulfillments.values())
    sale_ids = set(changes.get(events.RETURNS_KEY) or ()) | set(changes.get(events.SALES_KEY) or ())
    if sale_ids:
        purchase_ids.update(
            session.scalars(
                select(Purchase.id).where(among(session, column=Purchase.sale_id, values=sale_ids))
            )
        )
    return purchase_ids


def nothing_to_invoice_yet(session: Session, *, recorded: list[events.SalesEvent]) -> set[int]:
    """Orders created in this unit of work, and not shipped in it, whose vendor is invoiced on
    shipment, on delivery or on request: what should stand invoiced is nothing, as it stands.
    One indexed read names them, where invoicing them would read the orders, their sales and
    lines back (a tenth of a batch of new sales' time); a `beforeShipping` vendor's new orders
    are invoiced as ever."""
    created = {e.id for e in recorded if e.subject == "purchase" and e.event == "created"}
    created -= {e.id for e in recorded if e.subject == "purchase" and e.vendor_id is not None}
    created -= {e.purchase_id for e in recorded if e.subject == "fulfillment"}
    if not created:
        return set()
    return set(
        session.scalars(
            select(Purchase.id)
            .join(DropshipProvider, DropshipProvider.id == Purchase.dropship_provider_id)
            .where(among(session, column=Purchase.id, values=created))
            .where(DropshipProvider.payment_trigger != PaymentTrigger.before_shipping)
        )
    )


def invoice_what_changed(session: Session, changes: Mapping[str, Any]) -> None:
    recorded: list[events.SalesEvent] = changes.get(events.EVENTS_KEY) or []
    purchase_ids = touched_purchases(session, changes=changes)
    purchase_ids -= nothing_to_invoice_yet(session, recorded=recorded)
    rerouted = {e.id for e in recorded if e.subject == "purchase" and e.vendor_id is not None}
    raised = invoice_purchases(session, purchase_ids=purchase_ids, rerouted=rerouted)
    invoices_created(session, invoices=raised)
    vendors = loaded_or_fetched(
        session, model=DropshipProvider, ids={i.dropship_provider_id for i in raised}
    )
    for vendor in vendors.values():
        if vendor.payment_schedule != PaymentSchedule.manual:
            schedule_payout(session, vendor=vendor)


INVOICE_WHAT_CHANGED = CommitStep(
    "payments.invoices",
    frozenset({events.EVENTS_KEY, events.RETURNS_KEY, events.SALES_KEY, events.DELIVERED_KEY}),
    invoice_what_changed,
    after=("sales.order_messages",),  # a purchase order's message goes out before its invoice's
)
