"""Manual-sale upserts, applied as differences against the stored sale."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dropwire.catalog.models import ChannelVariant, Variant
from dropwire.catalog.service import find_variant_by_sku
from dropwire.channels.models import Channel
from dropwire.core.errors import Conflict, Invalid
from dropwire.sales.cancelling import cancel
from dropwire.sales.models import (
    CancelReason,
    Sale,
    SaleItem,
)
from dropwire.sales.purchasing import route, take_back_units
from dropwire.sales.references import is_used, next_reference, require_unused
from dropwire.sales.schemas import (
    CancelRequest,
    LineItem,
    ManualSale,
)
from dropwire.sales.tallies import assign, note_problems, refresh_statuses


def _variant_for(session: Session, channel: Channel, line: LineItem) -> Variant | None:
    if line.variant.sku:
        variant = find_variant_by_sku(session, line.variant.sku)
        if variant is not None:
            return variant
    if line.variant.external_id:
        return session.scalar(
            select(Variant)
            .join(ChannelVariant, ChannelVariant.variant_id == Variant.id)
            .where(
                ChannelVariant.channel_id == channel.id,
                ChannelVariant.external_id == line.variant.external_id,
            )
        )
    return None


def upsert_manual_sale(
    session: Session, *, channel: Channel, data: ManualSale, actor: str | None = None
) -> tuple[Sale, bool]:
    """Create or update the sale keyed by (channel, externalId); returns (sale, changed)."""
    sale = session.scalar(
        select(Sale)
        .where(Sale.channel_id == channel.id, Sale.external_id == data.external_id)
        .with_for_update(of=Sale)
    )
    defaults = data.sale_defaults.model_dump(mode="json", exclude_none=True, by_alias=True)
    header = {
        "date_ordered": data.sale_defaults.date_ordered,
        "customer": data.customer.model_dump(mode="json", exclude_none=True, by_alias=True),
        "sale_defaults": defaults,
        "receiver_country": (data.sale_defaults.receiver_country or "").upper() or None,
        "shipping": [
            s.model_dump(mode="json", exclude_none=True, by_alias=True) for s in data.shipping
        ],
        "options": data.options,
    }
    if data.sale_defaults.payment_status is not None:
        header["payment_status"] = data.sale_defaults.payment_status
    created = sale is None
    if sale is None:
        sale = _create_sale(session, channel, data, header)
        changed = True
    else:
        changed = assign(sale, **header)
        requested = data.sale_defaults.reference
        if requested and requested != sale.reference:
            require_unused(session, requested)
            changed |= assign(sale, reference=requested)
    changed |= _apply_lines(session, channel, sale, data.line_items, created, actor)
    if (
        data.sale_defaults.cancelled
        and channel.automatically_cancel_sales
        and any(item.quantity_open > 0 for item in sale.items)  # shipped units stay shipped
    ):
        reason = data.sale_defaults.cancel_reason or CancelReason.customer
        cancel(session, sale=sale, request=CancelRequest(cancel_reason=reason), actor=actor)
        changed = True
    if changed:
        refresh_statuses(sale)
        session.flush()
    return sale, changed


def _create_sale(
    session: Session, channel: Channel, data: ManualSale, header: dict[str, Any]
) -> Sale:
    reference = data.sale_defaults.reference
    if reference:
        require_unused(session, reference)
    else:
        reference = next_reference(session)
        while is_used(session, reference):  # a channel chose this number itself
            reference = next_reference(session)
    sale = Sale(channel_id=channel.id, external_id=data.external_id, reference=reference, **header)
    session.add(sale)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict(
            "this sale is being created by another request; send it again", "externalId"
        ) from exc
    return sale


def _apply_lines(
    session: Session,
    channel: Channel,
    sale: Sale,
    lines: list[LineItem],
    created: bool,
    actor: str | None,
) -> bool:
    existing = {item.external_id: item for item in sale.items}
    changed = False
    for index, line in enumerate(lines):
        item = existing.pop(line.external_id, None)
        fields = {
            "name": line.name,
            "price": line.price,
            "taxable": line.taxable,
            "properties": [p.model_dump(exclude_none=True) for p in line.properties],
            "sku": line.variant.sku,
            "external_variant_id": line.variant.external_id,
        }
        if item is None:
            with session.no_autoflush:  # the catalog is not what this unit of work changes
                variant = _variant_for(session, channel, line)
            item = SaleItem(
                sale_id=sale.id,
                external_id=line.external_id,
                quantity=line.quantity,
                variant_id=variant.id if variant else None,
                **fields,
            )
            session.add(item)
            session.flush()
            sale.items.append(item)
            if variant is None:
                item.problem = (
                    f"no variant with SKU '{line.variant.sku or line.variant.external_id}'"
                )
            else:
                route(
                    session,
                    sale=sale,
                    item=item,
                    variant=variant,
                    quantity=line.quantity,
                    field=f"lineItems[{index}].quantity",
                    actor=actor,
                )
            changed = True
            continue
        changed |= assign(item, **fields)
        if line.quantity > item.quantity:
            added = line.quantity - item.quantity
            item.quantity = line.quantity
            variant = session.get(Variant, item.variant_id) if item.variant_id else None
            if variant is not None:
                route(
                    session,
                    sale=sale,
                    item=item,
                    variant=variant,
                    quantity=added,
                    field=f"lineItems[{index}].quantity",
                    actor=actor,
                )
            changed = True
        elif line.quantity < item.quantity:
            removed = item.quantity - line.quantity
            if removed > item.quantity_open:
                floor = item.quantity_shipped + item.quantity_cancelled
                raise Invalid(
                    f"lineItems[{index}].quantity",
                    f"{item.quantity_shipped} shipped and {item.quantity_cancelled} cancelled;"
                    f" the quantity can't go below {floor}",
                )
            take_back_units(session, item=item, quantity=removed, cancel_units=False, actor=actor)
            item.quantity = line.quantity
            changed = True
    for item in existing.values():  # lines the channel no longer sends: cancel what's open
        if item.quantity_open > 0:
            take_back_units(
                session, item=item, quantity=item.quantity_open, cancel_units=True, actor=actor
            )
            changed = True
    if changed or created:
        note_problems(sale)
    return changed
