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
from dropwire.vendors.models import DropshipProvider, PaymentSchedule


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


def invoice_what_changed(session: Session, changes: Mapping[str, Any]) -> None:
    purchase_ids = touched_purchases(session, changes=changes)
    recorded: list[events.SalesEvent] = changes.get(events.EVENTS_KEY) or []
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
