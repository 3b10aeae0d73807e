"""Cloning a sale: Onport's exchange (or new order) made from an existing sale.

The clone is a new sale of the same channel, through the manual-sale path (so it is routed,
allocated and sent to vendors like any sale): externalId `{original}-clone-{n}`, a new
reference, the original's customer and addresses, the chosen lines (all by default) and, with
`cloneShippingRates`, its shipping lines. It records `cloneReason` and `clonedFromSaleId`.
"""

from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dropwire.channels.models import Channel
from dropwire.core.errors import Invalid
from dropwire.sales.manual import upsert_manual_sale
from dropwire.sales.models import Sale, SaleItem
from dropwire.sales.schemas import CloneRequest, ManualSale

MAX_EXTERNAL_ID = 255
_NOT_CLONED = ("reference", "cancelled", "cancelReason", "paymentStatus")


def clone_sale(
    session: Session, *, sale: Sale, request: CloneRequest, actor: str | None = None
) -> Sale:
    chosen = _chosen_lines(sale, request)
    body: dict[str, Any] = {
        "externalId": _free_external_id(session, sale=sale),
        "saleDefaults": {k: v for k, v in sale.sale_defaults.items() if k not in _NOT_CLONED},
        "customer": sale.customer,
        "lineItems": [_line(item, quantity) for item, quantity in chosen],
        "shipping": sale.shipping if request.clone_shipping_rates else [],
        "options": sale.options,
    }
    channel = session.get(Channel, sale.channel_id)
    assert channel is not None  # a sale's channel can't be deleted (RESTRICT)
    try:
        data = ManualSale.model_validate(body)
    except ValidationError as exc:  # a sale another channel stored may not fit a manual one
        problem = exc.errors()[0]
        field = ".".join(str(part) for part in problem["loc"])
        raise Invalid(field, f"the sale can't be cloned: {problem['msg']}") from None
    clone, _ = upsert_manual_sale(session, channel=channel, data=data, actor=actor)
    clone.clone_reason = request.clone_reason
    clone.cloned_from_sale_id = sale.id
    session.flush()
    return clone


def _free_external_id(session: Session, *, sale: Sale) -> str:
    """`{original}-clone-{n}` for the first n no sale of the channel holds (a clone must never
    update a sale through the manual-sale upsert), the original cut to fit 255 characters."""
    n = 1 + (session.scalar(select(func.count()).where(Sale.cloned_from_sale_id == sale.id)) or 0)
    while True:
        suffix = f"-clone-{n}"
        candidate = sale.external_id[: MAX_EXTERNAL_ID - len(suffix)] + suffix
        taken = select(Sale.id).where(
            Sale.channel_id == sale.channel_id, Sale.external_id == candidate
        )
        if session.scalar(taken) is None:
            return candidate
        n += 1


def _chosen_lines(sale: Sale, request: CloneRequest) -> list[tuple[SaleItem, int]]:
    if request.sale_items is None:
        return [(item, item.quantity) for item in sale.items]
    by_id = {item.id: item for item in sale.items}
    chosen = []
    for index, line in enumerate(request.sale_items):
        item = by_id.get(line.id)
        if item is None:
            raise Invalid(f"saleItems[{index}].id", f"sale item {line.id} is not in this sale")
        if line.quantity > item.quantity:
            raise Invalid(
                f"saleItems[{index}].quantity", f"the line has {item.quantity} units, not more"
            )
        chosen.append((item, line.quantity))
    return chosen


def _line(item: SaleItem, quantity: int) -> dict[str, Any]:
    variant = {"sku": item.sku} if item.sku else {"externalId": item.external_variant_id}
    return {
        "externalId": item.external_id,
        "name": item.name,
        "quantity": quantity,
        "price": item.price,
        "taxable": item.taxable,
        "variant": variant,
        "properties": item.properties,
    }
