"""Manual-sale upserts, applied as differences against the stored sale."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from dropwire.catalog.models import ChannelVariant, Variant
from dropwire.catalog.service import find_variants_by_sku
from dropwire.channels.models import Channel
from dropwire.core.errors import Conflict, Invalid
from dropwire.core.inserts import insert_all, insert_unless_taken
from dropwire.sales.cancelling import cancel
from dropwire.sales.models import (
    CancelReason,
    Sale,
    SaleItem,
)
from dropwire.sales.purchasing import LineToRoute, route_lines, take_back_units
from dropwire.sales.references import is_used, next_reference, require_unused
from dropwire.sales.schemas import (
    CancelRequest,
    LineItem,
    ManualSale,
)
from dropwire.sales.tallies import assign, note_problems, refresh_statuses


def _variants_for(
    session: Session, channel: Channel, lines: list[LineItem]
) -> list[Variant | None]:
    """The variant of each line (by SKU, else by the channel's listing id), in two queries."""
    by_sku = find_variants_by_sku(session, {line.variant.sku for line in lines if line.variant.sku})
    listings = {
        line.variant.external_id
        for line in lines
        if line.variant.external_id and by_sku.get(line.variant.sku or "") is None
    }
    by_listing: dict[str, Variant] = {}
    if listings:
        for external_id, variant in session.execute(
            select(ChannelVariant.external_id, Variant)
            .join(ChannelVariant, ChannelVariant.variant_id == Variant.id)
            .where(
                ChannelVariant.channel_id == channel.id,
                ChannelVariant.external_id.in_(listings),
            )
            .order_by(ChannelVariant.id)
        ):
            by_listing.setdefault(external_id or "", variant)
    return [
        by_sku.get(line.variant.sku or "") or by_listing.get(line.variant.external_id or "")
        for line in lines
    ]


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
    sale = Sale(
        channel_id=channel.id,
        external_id=data.external_id,
        reference=reference,
        items=[],  # a new sale has none: no query to find out
        purchases=[],
        fulfillments=[],
        **header,
    )
    if not insert_unless_taken(session, sale):
        raise Conflict("this sale is being created by another request; send it again", "externalId")
    return sale


def _apply_lines(
    session: Session,
    channel: Channel,
    sale: Sale,
    lines: list[LineItem],
    created: bool,
    actor: str | None,
) -> bool:
    """Create, grow, shrink and drop lines; every line that gains units is routed in one batch.

    Shrinking lines give their units back first (which can only help the lines routed after),
    then new and grown lines are routed together in line order (`route_lines`), then lines the
    channel no longer sends are cancelled.
    """
    existing = {item.external_id: item for item in sale.items}
    new_lines = [line for line in lines if line.external_id not in existing]
    with session.no_autoflush:  # the catalog is not what this unit of work changes
        found = dict(
            zip(
                [line.external_id for line in new_lines],
                _variants_for(session, channel, new_lines),
                strict=True,
            )
        )
        grown = [
            existing[line.external_id].variant_id
            for line in lines
            if line.external_id in existing and line.quantity > existing[line.external_id].quantity
        ]
        variants = (
            {
                variant.id: variant
                for variant in session.scalars(
                    select(Variant).where(Variant.id.in_({v for v in grown if v is not None}))
                )
            }
            if any(v is not None for v in grown)
            else {}
        )
    changed = False
    to_route: list[tuple[SaleItem, Variant, int, str]] = []
    created_items: list[SaleItem] = []
    for index, line in enumerate(lines):
        item = existing.pop(line.external_id, None)
        field = f"lineItems[{index}].quantity"
        fields = {
            "name": line.name,
            "price": line.price,
            "taxable": line.taxable,
            "properties": [p.model_dump(exclude_none=True) for p in line.properties],
            "sku": line.variant.sku,
            "external_variant_id": line.variant.external_id,
        }
        if item is None:
            variant = found[line.external_id]
            item = SaleItem(
                sale_id=sale.id,
                external_id=line.external_id,
                quantity=line.quantity,
                variant_id=variant.id if variant else None,
                quantity_shipped=0,
                quantity_cancelled=0,
                quantity_returned=0,
                problem=None
                if variant
                else f"no variant with SKU '{line.variant.sku or line.variant.external_id}'",
                **fields,
            )
            created_items.append(item)
            if variant is not None:
                to_route.append((item, variant, line.quantity, field))
            changed = True
            continue
        changed |= assign(item, **fields)
        if line.quantity > item.quantity:
            added = line.quantity - item.quantity
            item.quantity = line.quantity
            grown_variant = variants.get(item.variant_id) if item.variant_id else None
            if grown_variant is not None:
                to_route.append((item, grown_variant, added, field))
            changed = True
        elif line.quantity < item.quantity:
            removed = item.quantity - line.quantity
            if removed > item.quantity_open:
                floor = item.quantity_shipped + item.quantity_cancelled
                raise Invalid(
                    field,
                    f"{item.quantity_shipped} shipped and {item.quantity_cancelled} cancelled;"
                    f" the quantity can't go below {floor}",
                )
            take_back_units(session, item=item, quantity=removed, cancel_units=False, actor=actor)
            item.quantity = line.quantity
            changed = True
    if created_items:  # one INSERT for the new lines; their ids go on allocations
        insert_all(session, created_items)
        set_committed_value(sale, "items", [*sale.items, *created_items])
    if to_route:
        route_lines(
            session,
            sale=sale,
            lines=[
                LineToRoute(item, variant, units, field) for item, variant, units, field in to_route
            ],
            actor=actor,
        )
    for item in existing.values():  # lines the channel no longer sends: cancel what's open
        if item.quantity_open > 0:
            take_back_units(
                session, item=item, quantity=item.quantity_open, cancel_units=True, actor=actor
            )
            changed = True
    if changed or created:
        note_problems(sale)
    return changed
