"""Sale returns: shipped units coming back (restocked through the ledger, or not).

A return line may also name units that never shipped: those are cancelled like any other
cancellation (their allocation is released). Each return is `{sale}-R{NN}` and tells the channel
(`return.created` to its fulfillment endpoint) in the same transaction.
"""

from sqlalchemy.orm import Session

from dropwire.inventory import service as inventory
from dropwire.inventory.locations import location_for_warehouse
from dropwire.inventory.models import MovementCause
from dropwire.inventory.warehouses import ensure_default_warehouse, get_or_invalid
from dropwire.sales import cancelling, events, tallies
from dropwire.sales.errors import ReturnLineNotOnSale, ReturnLineRepeated, ReturnQuantityTooHigh
from dropwire.sales.models import Sale, SaleItem, SaleReturn, SaleReturnItem
from dropwire.sales.schemas import SaleReturnCreate


def create_return(
    session: Session, *, sale: Sale, data: SaleReturnCreate, actor: str | None = None
) -> SaleReturn:
    items = {item.id: item for item in sale.items}
    plan: list[tuple[SaleItem, int, int]] = []  # (line, shipped units back, open units cancelled)
    seen: set[int] = set()
    for index, line in enumerate(data.items):
        item = items.get(line.sale_item_id)
        if item is None:
            raise ReturnLineNotOnSale(
                f"items[{index}].saleItemId", f"{line.sale_item_id} is not on this sale"
            )
        if item.id in seen:
            raise ReturnLineRepeated(f"items[{index}].saleItemId", "each sale item may appear once")
        seen.add(item.id)
        returnable = item.quantity_shipped - item.quantity_returned
        if line.quantity > returnable + item.quantity_open:
            raise ReturnQuantityTooHigh(
                f"items[{index}].quantity",
                f"only {returnable} shipped and not yet returned and {item.quantity_open} open;"
                f" {line.quantity} given",
            )
        back = min(line.quantity, returnable)
        plan.append((item, back, line.quantity - back))
    location_id = None
    if data.restock:
        warehouse = (
            get_or_invalid(session, warehouse_id=data.warehouse_id)
            if data.warehouse_id is not None
            else ensure_default_warehouse(session)
        )
        location_id = location_for_warehouse(session, warehouse_id=warehouse.id).id
    sale.last_return_number += 1
    sale_return = SaleReturn(
        sale_id=sale.id,
        reference=f"{sale.reference}-R{sale.last_return_number:02d}",
        reason=data.reason,
        restock=data.restock,
        location_id=location_id,
        refund_amount=data.refund_amount,
    )
    session.add(sale_return)
    session.flush()
    for item, back, cancelled in plan:
        restocked = 0
        if back and location_id is not None and item.variant_id is not None:
            inventory.adjust_stocked(
                session,
                variant_id=item.variant_id,
                location_id=location_id,
                delta=back,
                cause=MovementCause.return_,
                reference_type="sale_return",
                reference_id=sale_return.id,
                reason=data.reason,
                actor=actor,
            )
            restocked = back
        if cancelled:
            cancelling.take_back(session, item=item, quantity=cancelled, actor=actor)
        item.quantity_returned += back
        sale_return.items.append(
            SaleReturnItem(
                sale_return_id=sale_return.id,
                sale_item_id=item.id,
                variant_id=item.variant_id,
                quantity=back + cancelled,
                quantity_returned=back,
                quantity_cancelled=cancelled,
                quantity_restocked=restocked,
            )
        )
    tallies.refresh_statuses(sale)
    session.flush()
    events.units_returned(session, sale_id=sale.id)
    events.return_created(session, return_id=sale_return.id)
    return sale_return
