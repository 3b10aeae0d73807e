"""Outbound messages of the sales domain: purchase orders to their vendor; what the selling
channel hears (fulfillments, returns, order states) its connector decides. Sales records events
while it works (`sales/events.py`); they become messages just before the commit, so a message
exists exactly when its change does."""

from collections.abc import Mapping
from functools import cache
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from dropwire.channels.connectors import ChannelConnector, OrderChanges
from dropwire.core.expressions import among_bound
from dropwire.core.unit_of_work import CommitStep
from dropwire.core.wiring import wiring_of
from dropwire.delivery import outbox
from dropwire.delivery.kinds import EventKind
from dropwire.sales import events
from dropwire.sales.models import Purchase
from dropwire.sales.payloads import purchase_body
from dropwire.vendors.models import DropshipProvider

PURCHASE_EVENTS = ("purchase.created", "purchase.updated", "purchase.cancelled")
EVENT_KINDS = tuple(EventKind(name) for name in PURCHASE_EVENTS)


def _purchase_changed(session: Session, event: events.SalesEvent, purchase: Purchase) -> None:
    """To the vendor named by the event (a re-routed order's old vendor), else the PO's."""
    vendor_id = event.vendor_id or purchase.dropship_provider_id
    vendor = session.get(DropshipProvider, vendor_id) if vendor_id else None
    if vendor is None or not vendor.order_endpoint:
        return
    outbox.record(
        session,
        event=f"purchase.{event.event}",
        url=vendor.order_endpoint,
        body=purchase_body(purchase, event.event),
        subject_type="purchase",
        subject_id=purchase.id,
        dropship_provider_id=vendor.id,
        channel_id=purchase.sale.channel_id,
        hash_header=vendor.webhook_secret,
    )


@cache
def _with_destination(dialect: str) -> Select[Purchase, DropshipProvider]:
    """The purchase orders bound as `named` whose vendor has an order endpoint, or bound as
    `rerouted` (their event names another vendor), read as they stand, with their vendors."""
    return (
        select(Purchase, DropshipProvider)
        .outerjoin(DropshipProvider, DropshipProvider.id == Purchase.dropship_provider_id)
        .where(
            among_bound(Purchase.id, "named", dialect),
            or_(
                DropshipProvider.order_endpoint.is_not(None),
                among_bound(Purchase.id, "rerouted", dialect),
            ),
        )
        .execution_options(populate_existing=True)
    )


def send_sales_events(session: Session, changes: Mapping[str, Any]) -> None:
    """Purchase orders to their vendors; then every channel connector hears what happened to
    its orders (`channels.connectors.OrderChanges`)."""
    recorded: list[events.SalesEvent] = changes.get(events.EVENTS_KEY) or []
    named = {event.id for event in recorded if event.subject == "purchase"}
    rerouted = {event.id for event in recorded if event.subject == "purchase" and event.vendor_id}
    # The purchase orders with somewhere to go (their vendor has an order endpoint, or the event
    # names another vendor), as they stand now, with their vendors, in one read. The rows are
    # held here: the session's weak identity map keeps both for the loop below.
    statement = _with_destination(session.get_bind().dialect.name)
    parameters = {"named": list(named), "rerouted": list(rerouted)}
    rows = session.execute(statement, parameters).all() if named else []
    held = {purchase.id: purchase for purchase, _vendor in rows}
    for event in recorded:
        if event.subject == "purchase" and (purchase := held.get(event.id)) is not None:
            _purchase_changed(session, event, purchase)
    orders = OrderChanges(
        purchase_ids=frozenset(named),
        fulfillment_ids=tuple(e.id for e in recorded if e.subject == "fulfillment"),
        return_ids=tuple(e.id for e in recorded if e.subject == "return"),
        cancelled_sale_ids=frozenset(changes.get(events.SALES_KEY) or ()),
    )
    for connector in wiring_of(session).every(ChannelConnector):
        connector.send_order_states(session, orders)


SEND_SALES_EVENTS = CommitStep(
    "sales.order_messages", frozenset({events.EVENTS_KEY, events.SALES_KEY}), send_sales_events
)
