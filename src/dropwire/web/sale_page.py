"""What the sale page shows beyond the stored sale: names the store left out, the money, and a
timeline of what happened, all read from the records Dropwire already keeps."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dropwire.catalog.models import Variant
from dropwire.delivery.models import Delivery, DeliveryState
from dropwire.sales.models import Sale, SaleReturn
from dropwire.web.formatting import label


@dataclass(frozen=True)
class Totals:
    ordered: Decimal
    cancelled: Decimal
    shipping: Decimal

    @property
    def total(self) -> Decimal:
        return self.ordered - self.cancelled + self.shipping


def totals(sale: Sale) -> Totals:
    """Lines at their unit price; cancelled units come off; shipping as the store charged it."""
    ordered = sum((i.price * i.quantity for i in sale.items if i.price is not None), Decimal(0))
    cancelled = sum(
        (i.price * i.quantity_cancelled for i in sale.items if i.price is not None), Decimal(0)
    )
    shipping = sum(
        (Decimal(str(line["price"])) for line in sale.shipping if line.get("price") is not None),
        Decimal(0),
    )
    return Totals(ordered, cancelled, shipping)


def line_names(session: Session, *, sale: Sale) -> dict[int, str]:
    """Each line's name: as the store sent it, else its variant's (stores often send none)."""
    unnamed = {i.variant_id for i in sale.items if not i.name and i.variant_id is not None}
    variant_names: dict[int, str] = {}
    if unnamed:
        rows = session.execute(select(Variant.id, Variant.name).where(Variant.id.in_(unnamed)))
        variant_names = {int(v): str(n) for v, n in rows if n}
    return {
        i.id: i.name or variant_names.get(i.variant_id or 0) or i.sku or "—" for i in sale.items
    }


@dataclass(frozen=True)
class Moment:
    at: datetime
    what: str
    detail: str = ""
    href: str | None = None


def timeline(
    session: Session, *, sale: Sale, vendors: dict[int, str], channel_name: str | None
) -> list[Moment]:
    """Created, routed, purchase orders sent, shipped, cancelled, returned, webhooks delivered:
    oldest first."""
    moments = [Moment(sale.created_at, "Received", f"from {channel_name or 'its channel'}")]
    for purchase in sale.purchases:
        source = vendors.get(purchase.dropship_provider_id or 0, "the in-house warehouse")
        moments.append(
            Moment(
                purchase.created_at,
                f"Purchase order {purchase.external_reference}",
                f"routed to {source}",
                f"/purchases/{purchase.id}",
            )
        )
        if purchase.cancelled_at:
            moments.append(
                Moment(
                    purchase.cancelled_at,
                    f"Purchase order {purchase.external_reference}",
                    "cancelled",
                )
            )
    for fulfillment in sale.fulfillments:
        carrier = " ".join(
            filter(None, [fulfillment.tracking_company, fulfillment.tracking_number])
        )
        moments.append(Moment(fulfillment.shipped_at, f"Shipped {fulfillment.reference}", carrier))
    if sale.cancelled_at:
        reason = f"reason: {sale.cancel_reason}" if sale.cancel_reason else ""
        moments.append(Moment(sale.cancelled_at, "Cancelled", reason))
    returns = list(session.scalars(select(SaleReturn).where(SaleReturn.sale_id == sale.id)))
    for sale_return in returns:
        moments.append(
            Moment(
                sale_return.created_at, f"Return {sale_return.reference}", sale_return.reason or ""
            )
        )
    moments.extend(_deliveries(session, sale, [r.id for r in returns]))
    return sorted(moments, key=lambda m: m.at)


def _deliveries(session: Session, sale: Sale, return_ids: list[int]) -> list[Moment]:
    subjects: list[tuple[str, list[int]]] = [
        ("sale", [sale.id]),
        ("purchase", [p.id for p in sale.purchases]),
        ("fulfillment", [f.id for f in sale.fulfillments]),
        ("sale_return", return_ids),
    ]
    about = [
        (Delivery.subject_type == kind) & Delivery.subject_id.in_(ids)
        for kind, ids in subjects
        if ids
    ]
    rows: list[Any] = list(
        session.execute(
            select(
                Delivery.id,
                Delivery.event,
                Delivery.state,
                Delivery.delivered_at,
                Delivery.updated_at,
            )
            .where(or_(*about))
            .order_by(Delivery.id)
        )
    )
    moments = []
    for row in rows:
        delivered = row.state == DeliveryState.delivered
        moments.append(
            Moment(
                row.delivered_at if delivered and row.delivered_at else row.updated_at,
                f"Webhook {row.event}",
                "delivered" if delivered else label(row.state).lower(),
                f"/deliveries/{row.id}",
            )
        )
    return moments
