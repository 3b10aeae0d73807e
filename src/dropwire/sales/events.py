"""What happened to purchase orders and fulfillments in this unit of work.

Recorded as unit-of-work changes: just before the commit, `sales/webhooks.py` turns them into
messages to vendors and hands them to every channel connector (`channels.connectors`).
"""

from dataclasses import dataclass
from typing import Literal

from sqlalchemy.orm import Session

from dropwire.core.unit_of_work import changes

EVENTS_KEY = "sales.events"
SALES_KEY = "sales.changed_sales"  # sales whose lines changed with no purchase/fulfilment event
RETURNS_KEY = "sales.returned_sales"  # sales with units that came back
DELIVERED_KEY = "sales.delivered_fulfillments"  # fulfillments marked delivered
PurchaseEvent = Literal["created", "updated", "cancelled"]


@dataclass(frozen=True)
class SalesEvent:
    subject: Literal["purchase", "fulfillment", "return"]
    id: int
    event: str
    vendor_id: int | None = None  # set when the event is for one vendor (a re-routed order)
    purchase_id: int | None = None  # a fulfillment's order (its readers need no query for it)


class _Recorded(list[SalesEvent]):
    """The unit of work's events in the order they happened, with where each purchase order's
    (and vendor's) event stands: a batch of new sales records hundreds, and looking each one up
    by a scan made recording them quadratic."""

    def __init__(self) -> None:
        super().__init__()
        self.purchase_at: dict[tuple[int, int | None], int] = {}


def pending(session: Session) -> list[SalesEvent]:
    return changes(session, topic=EVENTS_KEY, empty=_Recorded)


def purchase_changed(
    session: Session, *, purchase_id: int, event: PurchaseEvent, vendor_id: int | None = None
) -> None:
    """Record once per purchase (and vendor) per unit of work; created/cancelled beat updated."""
    events = changes(session, topic=EVENTS_KEY, empty=_Recorded)
    index = events.purchase_at.get((purchase_id, vendor_id))
    if index is None:
        events.purchase_at[(purchase_id, vendor_id)] = len(events)
        events.append(SalesEvent("purchase", purchase_id, event, vendor_id))
    elif events[index].event == "updated" and event != "updated":
        events[index] = SalesEvent("purchase", purchase_id, event, vendor_id)


def fulfillment_created(session: Session, *, fulfillment_id: int, purchase_id: int) -> None:
    pending(session).append(
        SalesEvent("fulfillment", fulfillment_id, "created", purchase_id=purchase_id)
    )


def return_created(session: Session, *, return_id: int) -> None:
    pending(session).append(SalesEvent("return", return_id, "created"))


def lines_cancelled(session: Session, *, sale_id: int) -> None:
    """A sale's lines lost units, possibly with no purchase order to tell (never routed, or
    in-house): channels that mirror line states (Elastic Path) read these sale ids."""
    changed: set[int] = changes(session, topic=SALES_KEY, empty=set)
    changed.add(sale_id)


def units_returned(session: Session, *, sale_id: int) -> None:
    """Shipped units of a sale came back (whoever settles money for them reads these ids)."""
    returned: set[int] = changes(session, topic=RETURNS_KEY, empty=set)
    returned.add(sale_id)


def fulfillment_delivered(session: Session, *, fulfillment_id: int) -> None:
    """A shipment reached the customer (whatever waits for delivery reads these ids)."""
    delivered: set[int] = changes(session, topic=DELIVERED_KEY, empty=set)
    delivered.add(fulfillment_id)
