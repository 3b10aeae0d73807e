"""Outbound messages of the sales domain: purchase orders to their vendor, fulfillments and
returns to the selling channel. Sales records events while it works (`sales/events.py`); they
become messages just before the commit, so a message exists exactly when its change does."""

from collections.abc import Mapping
from functools import cache
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from dropwire.channels.models import CustomChannel
from dropwire.core.expressions import among_bound
from dropwire.core.unit_of_work import CommitStep
from dropwire.delivery import outbox
from dropwire.delivery.kinds import EventKind
from dropwire.sales import events
from dropwire.sales.models import Fulfillment, Purchase, Sale, SaleReturn
from dropwire.sales.payloads import fulfillment_body, purchase_body, return_body
from dropwire.vendors.models import DropshipProvider

FULFILLMENT = "fulfillment"
RETURN_CREATED = "return.created"
PURCHASE_EVENTS = ("purchase.created", "purchase.updated", "purchase.cancelled")
EVENT_KINDS = tuple(EventKind(name) for name in (FULFILLMENT, RETURN_CREATED, *PURCHASE_EVENTS))


def _selling_channel(session: Session, channel_id: int) -> CustomChannel | None:
    return session.scalar(
        select(CustomChannel).where(CustomChannel.channel_id == channel_id, CustomChannel.enabled)
    )


def return_created(session: Session, sale_return: SaleReturn, sale: Sale) -> None:
    """`return.created` to the channel's fulfillment endpoint, written with the return."""
    custom = _selling_channel(session, sale.channel_id)
    if custom is None or not custom.fulfillment_endpoint:
        return
    outbox.record(
        session,
        event=RETURN_CREATED,
        url=custom.fulfillment_endpoint,
        body=return_body(sale_return, sale),
        subject_type="sale_return",
        subject_id=sale_return.id,
        channel_id=sale.channel_id,
        hash_header=custom.webhook_hash,
    )


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


def _fulfillment_created(session: Session, event: events.SalesEvent) -> None:
    fulfillment = session.get(Fulfillment, event.id)
    if fulfillment is None:
        return
    purchase = session.get(Purchase, fulfillment.purchase_id)
    assert purchase is not None
    custom = _selling_channel(session, purchase.sale.channel_id)
    if custom is None or not custom.fulfillment_endpoint:
        return
    outbox.record(
        session,
        event=FULFILLMENT,
        url=custom.fulfillment_endpoint,
        body=fulfillment_body(fulfillment, purchase),
        subject_type="fulfillment",
        subject_id=fulfillment.id,
        channel_id=purchase.sale.channel_id,
        hash_header=custom.webhook_hash,
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
    recorded: list[events.SalesEvent] = changes[events.EVENTS_KEY]
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
        if event.subject != "purchase":
            _fulfillment_created(session, event)
        elif (purchase := held.get(event.id)) is not None:
            _purchase_changed(session, event, purchase)


SEND_SALES_EVENTS = CommitStep("sales.webhooks", frozenset({events.EVENTS_KEY}), send_sales_events)
