"""What happened to purchase orders and fulfillments in this unit of work.

Sales records events here; the outbound delivery package turns them into webhook deliveries in
the same transaction (so sales never imports delivery).
"""

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

EVENTS_KEY = "sales.events"
SALES_KEY = "sales.changed_sales"  # sales whose lines changed with no purchase/fulfilment event
PurchaseEvent = Literal["created", "updated", "cancelled"]


@dataclass(frozen=True)
class SalesEvent:
    subject: Literal["purchase", "fulfillment"]
    id: int
    event: str
    vendor_id: int | None = None  # set when the event is for one vendor (a re-routed order)


def pending(session: Session) -> list[SalesEvent]:
    events: list[SalesEvent] = session.info.setdefault(EVENTS_KEY, [])
    return events


def purchase_changed(
    session: Session, purchase_id: int, event: PurchaseEvent, vendor_id: int | None = None
) -> None:
    """Record once per purchase (and vendor) per unit of work; created/cancelled beat updated."""
    events = pending(session)
    for index, existing in enumerate(events):
        if (existing.subject, existing.id, existing.vendor_id) == (
            "purchase",
            purchase_id,
            vendor_id,
        ):
            if existing.event == "updated" and event != "updated":
                events[index] = SalesEvent("purchase", purchase_id, event, vendor_id)
            return
    events.append(SalesEvent("purchase", purchase_id, event, vendor_id))


def fulfillment_created(session: Session, fulfillment_id: int) -> None:
    pending(session).append(SalesEvent("fulfillment", fulfillment_id, "created"))


def lines_cancelled(session: Session, sale_id: int) -> None:
    """A sale's lines lost units, possibly with no purchase order to tell (never routed, or
    in-house): channels that mirror line states (Elastic Path) read these sale ids."""
    changed: set[int] = session.info.setdefault(SALES_KEY, set())
    changed.add(sale_id)


def changed_sales(session: Session) -> set[int]:
    changed: set[int] = session.info.get(SALES_KEY) or set()
    return changed


@event.listens_for(Session, "after_commit")
def _forget_after_commit(session: Session) -> None:
    session.info.pop(SALES_KEY, None)


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(session: Session, previous_transaction: SessionTransaction) -> None:
    if previous_transaction.parent is None:  # a savepoint's rollback keeps the outer's record
        session.info.pop(SALES_KEY, None)
