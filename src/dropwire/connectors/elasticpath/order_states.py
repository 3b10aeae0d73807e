"""What an Elastic Path order must hear about its sale: fulfilments, cancellations, each item's
state and the order's own state, each told once (`ElasticPathOrder.pushed` remembers what was).

Every change becomes a delivery recorded in the caller's transaction; the relay sends it to the
store after commit (`transport.py`).
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from dropwire.connectors.elasticpath import mapping
from dropwire.connectors.elasticpath.models import (
    ENTRIES,
    ITEM,
    ORDER,
    TRANSPORT,
    ElasticPathOrder,
    ElasticPathStore,
)
from dropwire.delivery import outbox
from dropwire.sales.models import Sale, SaleItem


@dataclass
class _Order:
    """One sync of one order: where to send, and what was told so far (updated as it goes)."""

    session: Session
    store: ElasticPathStore
    sale: Sale
    record: ElasticPathOrder
    pushed: dict[str, Any]
    queued: int = 0

    @property
    def relationships(self) -> str:
        return f"/v2/flows/orders/entries/{self.record.order_id}/relationships"

    def queue(self, event: str, body: dict[str, Any], coalesce: str | None = None) -> None:
        outbox.record(
            self.session,
            event=event,
            url=self.store.base_url,
            body=body,
            subject_type="sale",
            subject_id=self.sale.id,
            channel_id=self.store.channel_id,
            coalesce_key=coalesce,
            transport=TRANSPORT,
        )
        self.queued += 1


def _store_items(sale: Sale, order_id: str) -> dict[str, SaleItem]:
    items: dict[str, SaleItem] = {}
    for item in sale.items:
        item_id = mapping.item_id_of(item.external_id, order_id)
        if item_id is not None:
            items[item_id] = item
    return items


def _status(done: int, total: int, full: str, partial: str, none: str) -> str:
    return full if total and done >= total else partial if done else none


ORDER_FLAGS = ("partially_fulfilled", "partially_cancelled")
"""Custom fields of the store's order flow (written as its entry, not by the order update)."""


def order_fields(sale_items: list[SaleItem], paid: bool) -> dict[str, Any]:
    """The order's state per the Onport integration's rules.

    All shipped → `shipping: fulfilled` (only once paid); all cancelled → `status: cancelled`;
    shipped and the rest cancelled, nothing pending → fulfilled with `partially_cancelled`;
    anything still pending → only the `partially_*` flags.
    """
    ordered = sum(i.quantity for i in sale_items)
    shipped = sum(i.quantity_shipped for i in sale_items)
    cancelled = sum(i.quantity_cancelled for i in sale_items)
    pending = ordered - shipped - cancelled
    fields: dict[str, Any] = {
        "partially_fulfilled": shipped > 0 and pending > 0,
        "partially_cancelled": 0 < cancelled < ordered,
    }
    if ordered and pending <= 0:
        if shipped and paid:
            fields["shipping"] = "fulfilled"
        elif not shipped:
            fields["status"] = "cancelled"
    return fields


def _fulfilment_entries(order: _Order, fulfillment: Any) -> list[dict[str, Any]]:
    entries = []
    for line in fulfillment.items:
        sale_item = order.session.get(SaleItem, line.sale_item_id)
        order_id = order.record.order_id
        item_id = mapping.item_id_of(sale_item.external_id, order_id) if sale_item else None
        if sale_item is None or item_id is None:
            continue
        entries.append(
            {
                "key": f"fulfilment:{fulfillment.id}:{item_id}",
                "orderitem_id": item_id,
                "fulfilled_quantity": line.quantity,
                "fulfilled_sku": sale_item.sku,
                "total_quantity": sale_item.quantity,
                "tracking_url": fulfillment.tracking_url,
                "label_url": None,
                "tracking_number": fulfillment.tracking_number,
                "instance_id": fulfillment.reference,
                "fulfilment_id": str(fulfillment.id),
            }
        )
    return entries


def _tell_fulfilments(order: _Order) -> None:
    """Each fulfilment not told yet, as `fulfilment_items` entries related to the order."""
    sent = set(order.pushed.get("fulfillments", []))
    for fulfillment in order.sale.fulfillments:
        if fulfillment.id in sent:
            continue
        entries = _fulfilment_entries(order, fulfillment)
        sent.add(fulfillment.id)
        if entries:
            relationship = f"{order.relationships}/fulfilments"
            flow = {"flow": "fulfilment_items", "entries": entries, "relationship": relationship}
            order.queue(ENTRIES, flow)
    order.pushed["fulfillments"] = sorted(sent)


def _tell_cancellations(order: _Order, items: dict[str, SaleItem]) -> None:
    """Units cancelled since the last time, as `cancelled_items` entries."""
    sent: dict[str, int] = dict(order.pushed.get("cancelled", {}))
    entries = []
    for item_id, item in items.items():
        newly = item.quantity_cancelled - sent.get(item_id, 0)
        if newly > 0:
            entries.append(
                {
                    "key": f"cancellation:{order.sale.id}:{item_id}:{item.quantity_cancelled}",
                    "orderitem_id": item_id,
                    "cancelled_quantity": newly,
                    "total_quantity": item.quantity,
                    "instance_id": order.sale.reference,
                    "sale_return_id": None,
                    "refund_amount": None,
                }
            )
            sent[item_id] = item.quantity_cancelled
    if entries:
        relationship = f"{order.relationships}/cancellations"
        order.queue(
            ENTRIES, {"flow": "cancelled_items", "entries": entries, "relationship": relationship}
        )
    order.pushed["cancelled"] = sent


def _item_fields(item_id: str, item: SaleItem) -> dict[str, Any]:
    return {
        "type": "entry",
        "id": item_id,
        "fulfilled_quantity": item.quantity_shipped,
        "fulfilment_status": _status(
            item.quantity_shipped,
            item.quantity - item.quantity_cancelled,
            "fulfilled",
            "partially_fulfilled",
            "unfulfilled",
        ),
        "cancelled_quantity": item.quantity_cancelled,
        "cancellation_status": _status(
            item.quantity_cancelled, item.quantity, "cancelled", "partially_cancelled", "none"
        ),
    }


def _tell_items(order: _Order, items: dict[str, SaleItem]) -> None:
    """Each item whose shipped or cancelled units changed: its order-item entry."""
    sent: dict[str, list[int]] = dict(order.pushed.get("items", {}))
    for item_id, item in items.items():
        state = [item.quantity_shipped, item.quantity_cancelled]
        if sent.get(item_id, [0, 0]) == state:
            continue
        sent[item_id] = state
        order.queue(
            ITEM,
            {
                "method": "PUT",
                "path": f"/v2/flows/order_items/entries/{item_id}",
                "json": {"data": _item_fields(item_id, item)},
            },
            coalesce=f"{ITEM}:{order.store.channel_id}:{item_id}",
        )
    order.pushed["items"] = sent


def _tell_order(order: _Order, items: dict[str, SaleItem]) -> None:
    """The order's own state (`order_fields`), when it differs from what was told."""
    # a new order is neither partially fulfilled nor cancelled: nothing to say until that changes
    told: dict[str, Any] = {"partially_fulfilled": False, "partially_cancelled": False}
    told.update(order.pushed.get("order", {}))
    record = order.record
    wanted = order_fields(list(items.values()), paid=record.payment == "paid")
    if record.shipping == "fulfilled":
        wanted.pop("shipping", None)  # the store got there itself
    flags = {key: wanted[key] for key in ORDER_FLAGS}
    if any(told.get(key) != value for key, value in flags.items()):
        # custom fields of the order's flow: the order update takes only a state change
        order.queue(
            ORDER,
            {
                "method": "PUT",
                "path": f"/v2/flows/orders/entries/{record.order_id}",
                "json": {"data": {"type": "entry", "id": record.order_id, **flags}},
            },
            coalesce=f"{ORDER}-fields:{order.store.channel_id}:{record.order_id}",
        )
        told.update(flags)
    change = {key: value for key, value in wanted.items() if key not in ORDER_FLAGS}
    if any(told.get(key) != value for key, value in change.items()):
        # one of the request's shapes (OrdersFulfilledData, OrdersCancelData): type + one field
        order.queue(
            ORDER,
            {
                "method": "PUT",
                "path": f"/v2/orders/{record.order_id}",
                "json": {"data": {"type": "order", **change}},
            },
            coalesce=f"{ORDER}:{order.store.channel_id}:{record.order_id}",
        )
        told.update(change)
    order.pushed["order"] = told


def sync_order(
    session: Session, *, store: ElasticPathStore, sale: Sale, record: ElasticPathOrder
) -> int:
    """Queue the calls that bring the store's order up to date; returns how many."""
    if record.status == "cancelled":
        return 0  # the store cancelled it: nothing more to tell it
    order = _Order(session, store, sale, record, dict(record.pushed or {}))
    items = _store_items(sale, record.order_id)
    _tell_fulfilments(order)
    _tell_cancellations(order, items)
    _tell_items(order, items)
    _tell_order(order, items)
    record.pushed = order.pushed
    return order.queued
