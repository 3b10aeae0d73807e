"""Sales: manual-sale upserts applied as differences, routing, purchase orders, shipments.

Invariant, per line: ordered = shipped + cancelled + open, and every open routed unit is held by
an allocation (the inventory core's guarded allocate, so two sales never take the last unit).
"""

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dropwire.auth.service import Principal
from dropwire.catalog.models import ChannelVariant, InventoryPolicy, Variant
from dropwire.catalog.service import find_variant_by_sku
from dropwire.channels.models import Channel
from dropwire.core.errors import Conflict, Invalid, NotFound
from dropwire.core.time import utcnow
from dropwire.inventory import service as inventory
from dropwire.inventory.errors import InsufficientStock
from dropwire.inventory.locations import location_for_feed
from dropwire.inventory.locking import insert_ignoring_conflict
from dropwire.inventory.models import Allocation, MovementCause
from dropwire.inventory.service import AllocationRequest
from dropwire.sales import events
from dropwire.sales.models import (
    CancellationStatus,
    CancelReason,
    Counter,
    Fulfillment,
    FulfillmentItem,
    Purchase,
    PurchaseInventoryStatus,
    PurchaseItem,
    ReturnStatus,
    Sale,
    SaleInventoryStatus,
    SaleItem,
)
from dropwire.sales.routing import Source, candidate_sources, default_strategy
from dropwire.sales.schemas import (
    CancelRequest,
    LineItem,
    LineQuantity,
    ManualSale,
    PurchaseCancel,
    SaleDefaults,
    SaleUpdate,
    ShipRequest,
)
from dropwire.sales.splitting import strategy_for
from dropwire.vendors.models import DropshipProvider, VendorStatus

FIRST_REFERENCE = 10001

# --- references ----------------------------------------------------------------------------


def _reference_used(session: Session, reference: str) -> bool:
    return session.scalar(select(Sale.id).where(Sale.reference == reference)) is not None


def _require_unused_reference(session: Session, reference: str) -> None:
    if _reference_used(session, reference):
        raise Conflict(f"sale reference '{reference}' is already used", "saleDefaults.reference")


def next_reference(session: Session) -> str:
    """The next sale reference (10001, 10002, ...), unique however many sales race.

    PostgreSQL uses a sequence (it never makes concurrent sales wait on each other); SQLite, whose
    writers are serial anyway, a guarded counter row.
    """
    if session.get_bind().dialect.name == "postgresql":
        return str(session.execute(text("SELECT nextval('sale_reference_seq')")).scalar_one())
    insert_ignoring_conflict(
        session, Counter, {"name": "sale_reference", "value": FIRST_REFERENCE - 1}, ["name"]
    )
    value = session.execute(
        update(Counter)
        .where(Counter.name == "sale_reference")
        .values(value=Counter.value + 1)
        .returning(Counter.value)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    return str(value)


# --- manual sale ---------------------------------------------------------------------------


def _assign(target: Any, **values: Any) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(target, name) != value:
            setattr(target, name, value)
            changed = True
    return changed


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
    session: Session, channel: Channel, data: ManualSale, actor: str | None = None
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
        changed = _assign(sale, **header)
        requested = data.sale_defaults.reference
        if requested and requested != sale.reference:
            _require_unused_reference(session, requested)
            changed |= _assign(sale, reference=requested)
    changed |= _apply_lines(session, channel, sale, data.line_items, created, actor)
    if (
        data.sale_defaults.cancelled
        and channel.automatically_cancel_sales
        and any(item.quantity_open > 0 for item in sale.items)  # shipped units stay shipped
    ):
        reason = data.sale_defaults.cancel_reason or CancelReason.customer
        cancel(session, sale, CancelRequest(cancel_reason=reason), actor)
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
        _require_unused_reference(session, reference)
    else:
        reference = next_reference(session)
        while _reference_used(session, reference):  # a channel chose this number itself
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
                _route(
                    session,
                    sale,
                    item,
                    variant,
                    line.quantity,
                    f"lineItems[{index}].quantity",
                    actor,
                )
            changed = True
            continue
        changed |= _assign(item, **fields)
        if line.quantity > item.quantity:
            added = line.quantity - item.quantity
            item.quantity = line.quantity
            variant = session.get(Variant, item.variant_id) if item.variant_id else None
            if variant is not None:
                _route(session, sale, item, variant, added, f"lineItems[{index}].quantity", actor)
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
            _take_back(session, item, removed, cancel_units=False, actor=actor)
            item.quantity = line.quantity
            changed = True
    for item in existing.values():  # lines the channel no longer sends: cancel what's open
        if item.quantity_open > 0:
            _take_back(session, item, item.quantity_open, cancel_units=True, actor=actor)
            changed = True
    if changed or created:
        _note_problems(sale)
    return changed


def _note_problems(sale: Sale) -> None:
    sale.dropship_problems = [
        f"{item.external_id}: {item.problem}" for item in sale.items if item.problem
    ]


# --- routing and purchase orders -----------------------------------------------------------


def _route(
    session: Session,
    sale: Sale,
    item: SaleItem,
    variant: Variant,
    quantity: int,
    field: str,
    actor: str | None,
    exclude_locations: frozenset[int] = frozenset(),
) -> None:
    """Allocate `quantity` units of the line at the best source and put them on a purchase order."""
    with session.no_autoflush:  # reads stock levels, which only change through Core updates
        sources = candidate_sources(session, variant, sale.receiver_country)
    sources = [s for s in sources if s.location_id not in exclude_locations]
    sources = default_strategy().rank(sources, quantity)
    backorder = variant.inventory_policy == InventoryPolicy.continue_
    for source in sources:
        if source.available < quantity and not backorder:
            continue
        splitting = strategy_for(source.vendor.order_splitting if source.vendor else None)
        parcels = splitting.parcels(quantity)
        requests = [
            AllocationRequest(
                variant.id,
                source.location_id,
                units,
                sale_id=sale.id,
                sale_item_id=item.id,
                field=field,
            )
            for units in parcels
        ]
        try:
            allocations = inventory.allocate(session, requests, actor=actor)
        except InsufficientStock:
            continue  # another sale took it meanwhile: try the next source
        for allocation in allocations:
            purchase = _purchase_for(session, sale, source, joins=splitting.joins_open_purchase())
            purchase.items.append(
                PurchaseItem(
                    purchase_id=purchase.id,
                    sale_item_id=item.id,
                    variant_id=variant.id,
                    allocation_id=allocation.id,
                    name=item.name or variant.name,
                    quantity=allocation.quantity,
                    quantity_shipped=0,
                    quantity_cancelled=0,
                    cost_price=source.cost_price,
                )
            )
            refresh_purchase(purchase)
        item.problem = None
        return
    item.problem = f"no source can supply {quantity} of {variant.sku}"


def _purchase_for(session: Session, sale: Sale, source: Source, *, joins: bool) -> Purchase:
    vendor_id = source.vendor.id if source.vendor else None
    if joins:
        for purchase in sale.purchases:
            if (
                purchase.dropship_provider_id == vendor_id
                and purchase.warehouse_id == source.warehouse_id
                and purchase.inventory_status == PurchaseInventoryStatus.not_received
                and purchase.cancellation_status != CancellationStatus.full
            ):
                if purchase.is_dropship:
                    events.purchase_changed(session, purchase.id, "updated")
                return purchase
    sale.last_purchase_number += 1
    purchase = Purchase(
        sale_id=sale.id,
        dropship_provider_id=vendor_id,
        warehouse_id=source.warehouse_id,
        external_reference=f"{sale.reference}-{sale.last_purchase_number:02d}",
        order_splitting=str(source.vendor.order_splitting) if source.vendor else "group",
    )
    session.add(purchase)
    session.flush()
    sale.purchases.append(purchase)
    if purchase.is_dropship:
        events.purchase_changed(session, purchase.id, "created")
    return purchase


def _take_back(
    session: Session, item: SaleItem, quantity: int, *, cancel_units: bool, actor: str | None
) -> None:
    """Release `quantity` open units of a line: unrouted ones first, then newest PO items."""
    routed_open = sum(pi.quantity_open for pi in _purchase_items(session, item))
    unrouted = item.quantity_open - routed_open
    remaining = quantity - min(unrouted, quantity)
    for purchase_item in reversed(_purchase_items(session, item)):
        if remaining == 0:
            break
        take = min(purchase_item.quantity_open, remaining)
        if take == 0:
            continue
        inventory.release(
            session,
            allocation_id=purchase_item.allocation_id,
            quantity=take,
            cause=MovementCause.cancellation,
            actor=actor,
        )
        purchase_item.quantity_cancelled += take
        remaining -= take
        purchase = purchase_item.purchase
        refresh_purchase(purchase)
        _announce_cancellation(session, purchase)
    if cancel_units:
        item.quantity_cancelled += quantity
        events.lines_cancelled(session, item.sale_id)
    if item.quantity_open - (0 if cancel_units else quantity) <= 0:
        item.problem = None


def _announce_cancellation(session: Session, purchase: Purchase) -> None:
    """Tell the vendor its purchase order lost units (`cancelled` once none are left)."""
    if purchase.is_dropship:
        full = purchase.cancellation_status == CancellationStatus.full
        events.purchase_changed(session, purchase.id, "cancelled" if full else "updated")


def _purchase_items(session: Session, item: SaleItem) -> list[PurchaseItem]:
    return list(
        session.scalars(
            select(PurchaseItem)
            .where(PurchaseItem.sale_item_id == item.id)
            .order_by(PurchaseItem.id)
        )
    )


def _tally(items: Sequence[SaleItem] | Sequence[PurchaseItem]) -> tuple[str, CancellationStatus]:
    """How far shipping got ("none" | "partial" | "all") and the cancellation status of lines."""
    ordered = sum(i.quantity for i in items)
    cancelled = sum(i.quantity_cancelled for i in items)
    shipped = sum(i.quantity_shipped for i in items)
    shipping = "none" if shipped == 0 else "all" if shipped >= ordered - cancelled else "partial"
    if cancelled == 0:
        return shipping, CancellationStatus.none
    return shipping, CancellationStatus.full if cancelled >= ordered else CancellationStatus.partial


_PURCHASE_SHIPPING = {
    "none": PurchaseInventoryStatus.not_received,
    "partial": PurchaseInventoryStatus.partially_received,
    "all": PurchaseInventoryStatus.received,
}
_SALE_SHIPPING = {
    "none": SaleInventoryStatus.not_fulfilled,
    "partial": SaleInventoryStatus.partially_fulfilled,
    "all": SaleInventoryStatus.fulfilled,
}


def _set_cancellation(target: Sale | Purchase, status: CancellationStatus) -> None:
    if status != target.cancellation_status:
        target.cancellation_status = status
        target.cancelled_at = utcnow() if status == CancellationStatus.full else None


def refresh_purchase(purchase: Purchase) -> None:
    shipping, cancellation = _tally(purchase.items)
    _assign(purchase, inventory_status=_PURCHASE_SHIPPING[shipping])
    _set_cancellation(purchase, cancellation)


def refresh_statuses(sale: Sale) -> None:
    shipping, cancellation = _tally(sale.items)
    _assign(sale, inventory_status=_SALE_SHIPPING[shipping])
    _set_cancellation(sale, cancellation)
    returned = sum(item.quantity_returned for item in sale.items)
    kept = sum(item.quantity - item.quantity_cancelled for item in sale.items)
    status = (
        ReturnStatus.not_returned
        if returned == 0
        else ReturnStatus.returned
        if returned >= kept
        else ReturnStatus.partially_returned
    )
    _assign(sale, return_status=status)


# --- reads with scope ----------------------------------------------------------------------


def get_sale(session: Session, sale_id: int) -> Sale:
    sale = session.get(Sale, sale_id)
    if sale is None:
        raise NotFound("Sale", sale_id)
    return sale


def get_purchase(
    session: Session, purchase_id: int, principal: Principal | None = None
) -> Purchase:
    """A purchase order; a vendor-scoped caller only finds its own vendor's."""
    purchase = session.get(Purchase, purchase_id)
    if purchase is None or (
        principal is not None
        and not principal.is_admin
        and purchase.dropship_provider_id != principal.dropship_provider_id
    ):
        raise NotFound("Purchase", purchase_id)
    return purchase


def get_fulfillment(
    session: Session, fulfillment_id: int, principal: Principal | None = None
) -> Fulfillment:
    """A fulfillment; a vendor-scoped caller only finds those of its own purchase orders (and the
    answer names only the id asked for, never the purchase order behind it)."""
    fulfillment = session.get(Fulfillment, fulfillment_id)
    if fulfillment is None:
        raise NotFound("Fulfillment", fulfillment_id)
    purchase = session.get(Purchase, fulfillment.purchase_id)
    if purchase is None or (
        principal is not None
        and not principal.is_admin
        and purchase.dropship_provider_id != principal.dropship_provider_id
    ):
        raise NotFound("Fulfillment", fulfillment_id)
    return fulfillment


# --- cancelling ----------------------------------------------------------------------------


Line = TypeVar("Line", SaleItem, PurchaseItem)


def _requested(
    lines: Sequence[Line],
    requested: Sequence[LineQuantity] | None,
    field: str,
    doing: str,
    ids: Sequence[int] | None = None,
) -> list[tuple[Line, int]]:
    """(line, quantity) pairs for a cancel or ship request; none given = everything still open.

    `ids` (Onport's form) names lines by id, each with all its open units.
    """
    if ids:
        open_units = {line.id: line.quantity_open for line in lines}
        requested = []
        for index, line_id in enumerate(ids):
            if not open_units.get(line_id):
                raise Invalid(
                    f"ids[{index}]", f"{line_id} is not one of these lines with units open"
                )
            requested.append(LineQuantity(id=line_id, quantity=open_units[line_id]))
    if requested is not None and not requested:
        raise Invalid(field, f"name at least one line, or leave {field} out to {doing} all")
    if requested is None:
        wanted = [(line, line.quantity_open) for line in lines if line.quantity_open > 0]
        if not wanted:
            raise Invalid(field, f"nothing left to {doing}")
        return wanted
    by_id = {line.id: line for line in lines}
    wanted = []
    for index, entry in enumerate(requested):
        line = by_id.get(entry.id)
        if line is None:
            raise Invalid(f"{field}[{index}].id", f"{entry.id} is not one of these lines")
        if entry.quantity > line.quantity_open:
            raise Invalid(
                f"{field}[{index}].quantity",
                f"only {line.quantity_open} left to {doing} ({line.quantity_shipped} shipped, "
                f"{line.quantity_cancelled} cancelled); {entry.quantity} given",
            )
        wanted.append((line, entry.quantity))
    return wanted


def take_back(session: Session, item: SaleItem, quantity: int, actor: str | None = None) -> None:
    """Cancel `quantity` open units of a line (a return of units that never shipped)."""
    _take_back(session, item, quantity, cancel_units=True, actor=actor)


def cancel(session: Session, sale: Sale, request: CancelRequest, actor: str | None = None) -> Sale:
    """Cancel open units of given lines (or of every line); shipped units can't be cancelled."""
    for item, quantity in _requested(sale.items, request.sale_items, "saleItems", "cancel"):
        _take_back(session, item, quantity, cancel_units=True, actor=actor)
    sale.cancel_reason = request.cancel_reason
    refresh_statuses(sale)
    session.flush()
    return sale


# --- shipping ------------------------------------------------------------------------------


def ship(
    session: Session, purchase: Purchase, request: ShipRequest, actor: str | None = None
) -> Fulfillment:
    """The source shipped: a fulfillment `{PO ref}-{NN}`; stocked and allocated go down."""
    if purchase.cancellation_status == CancellationStatus.full:
        raise Invalid("purchaseItems", "this purchase order is cancelled")
    wanted = _requested(
        purchase.items, request.purchase_items, "purchaseItems", "ship", request.ids
    )
    purchase.last_fulfillment_number += 1
    fulfillment = Fulfillment(
        sale_id=purchase.sale_id,
        purchase_id=purchase.id,
        reference=f"{purchase.external_reference}-{purchase.last_fulfillment_number:02d}",
        tracking_number=request.tracking_number,
        tracking_company=request.tracking_company,
        tracking_url=request.tracking_url,
        service_level=request.service_level,
        shipped_at=utcnow(),
    )
    session.add(fulfillment)
    session.flush()
    for item, quantity in wanted:
        inventory.ship(session, allocation_id=item.allocation_id, quantity=quantity, actor=actor)
        item.quantity_shipped += quantity
        sale_item = session.get(SaleItem, item.sale_item_id)
        assert sale_item is not None
        sale_item.quantity_shipped += quantity
        fulfillment.items.append(
            FulfillmentItem(
                fulfillment_id=fulfillment.id,
                purchase_item_id=item.id,
                sale_item_id=item.sale_item_id,
                quantity=quantity,
            )
        )
    refresh_purchase(purchase)
    sale = purchase.sale
    sale.fulfillments.append(fulfillment)
    refresh_statuses(sale)
    events.fulfillment_created(session, fulfillment.id)
    session.flush()
    return fulfillment


# --- re-routing ----------------------------------------------------------------------------


def move_to_vendor(
    session: Session, purchase: Purchase, vendor_id: int, actor: str | None = None
) -> Purchase:
    """Re-route an unshipped purchase order: release at the old source, allocate at the new one."""
    vendor = session.get(DropshipProvider, vendor_id)
    if vendor is None or vendor.status != VendorStatus.accepted:
        raise Invalid(
            "dropshipProviderId", f"dropship provider {vendor_id} does not exist or is not accepted"
        )
    if vendor.id == purchase.dropship_provider_id:
        return purchase
    if any(item.quantity_shipped for item in purchase.items):
        raise Invalid("dropshipProviderId", "part of this purchase order is already shipped")
    if purchase.cancellation_status == CancellationStatus.full:
        raise Invalid("dropshipProviderId", "this purchase order is cancelled")
    from dropwire.feeds.models import InventoryFeed, InventoryFeedVariant

    for index, item in enumerate(purchase.items):
        if item.quantity_open == 0:
            continue
        feed_id = session.scalar(
            select(InventoryFeed.id)
            .join(InventoryFeedVariant, InventoryFeedVariant.inventory_feed_id == InventoryFeed.id)
            .where(
                InventoryFeed.dropship_provider_id == vendor.id,
                InventoryFeedVariant.variant_id == item.variant_id,
            )
            .order_by(InventoryFeed.id)
        )
        if feed_id is None:
            raise Invalid(
                f"purchaseItems[{index}]", f"vendor {vendor.id} has no feed item for this variant"
            )
        location = location_for_feed(session, feed_id)
        (allocation,) = inventory.allocate(
            session,
            [
                AllocationRequest(
                    item.variant_id or 0,
                    location.id,
                    item.quantity_open,
                    sale_id=purchase.sale_id,
                    sale_item_id=item.sale_item_id,
                    field=f"purchaseItems[{index}].quantity",
                )
            ],
            actor=actor,
        )
        old = session.get(Allocation, item.allocation_id)
        assert old is not None
        if old.open_quantity:
            inventory.release(
                session, allocation_id=old.id, quantity=old.open_quantity, actor=actor
            )
        item.allocation_id = allocation.id
    if purchase.dropship_provider_id is not None:
        events.purchase_changed(session, purchase.id, "cancelled", purchase.dropship_provider_id)
    purchase.dropship_provider_id = vendor.id
    purchase.warehouse_id = None
    events.purchase_changed(session, purchase.id, "created", vendor.id)
    session.flush()
    return purchase


# --- a vendor rejects a purchase order -----------------------------------------------------


def cancel_purchase(
    session: Session, purchase: Purchase, request: PurchaseCancel, actor: str | None = None
) -> Purchase:
    """Take open units off this purchase order and route them again, never back to a source
    that gave units of the line back before.

    Units no other source can supply stay open on their sale line with a dropship problem.
    """
    if purchase.cancellation_status == CancellationStatus.full:
        raise Invalid("purchaseItems", "this purchase order is already cancelled")
    wanted = _requested(
        purchase.items, request.purchase_items, "purchaseItems", "cancel", request.ids
    )
    sale = purchase.sale
    for item, quantity in wanted:
        inventory.release(
            session,
            allocation_id=item.allocation_id,
            quantity=quantity,
            cause=MovementCause.cancellation,
            actor=actor,
        )
        item.quantity_cancelled += quantity
        sale_item = session.get(SaleItem, item.sale_item_id)
        variant = session.get(Variant, item.variant_id) if item.variant_id else None
        if sale_item is None or variant is None:
            continue
        _route(
            session,
            sale,
            sale_item,
            variant,
            quantity,
            f"purchaseItems[{item.id}]",
            actor,
            exclude_locations=_rejected_locations(session, sale_item.id),
        )
    refresh_purchase(purchase)
    _announce_cancellation(session, purchase)
    _note_problems(sale)
    refresh_statuses(sale)
    session.flush()
    return purchase


def _rejected_locations(session: Session, sale_item_id: int) -> frozenset[int]:
    """Locations that released units of this line: they are not asked again."""
    rows = session.scalars(
        select(Allocation.location_id).where(
            Allocation.sale_item_id == sale_item_id, Allocation.released > 0
        )
    )
    return frozenset(rows)


# --- editing a sale ------------------------------------------------------------------------

_SALE_COLUMNS = {"payment_status", "date_ordered", "reference"}
_NOT_STORED = {"customer", "sale_defaults", "options", "cancelled", "cancel_reason"}


def update_sale(session: Session, sale: Sale, data: SaleUpdate, actor: str | None = None) -> Sale:
    """`PUT /sales/{id}.json`: change the header (addresses, customer, payment status, notes)."""
    nested = data.sale_defaults
    changes = data.model_dump(exclude_unset=True, exclude=_NOT_STORED)
    if nested is not None:
        changes = nested.model_dump(exclude_unset=True, exclude=_NOT_STORED) | changes
    reference = changes.get("reference")
    if reference and reference != sale.reference:
        taken = session.scalar(select(Sale.id).where(Sale.reference == reference))
        if taken is not None:
            raise Conflict(f"sale reference '{reference}' is already used", "reference")
    for name in _SALE_COLUMNS & set(changes):
        if changes[name] is not None:
            setattr(sale, name, changes[name])
    if "receiver_country" in changes:
        sale.receiver_country = (changes["receiver_country"] or "").upper() or None
    wire = SaleDefaults.model_validate(changes).model_dump(
        mode="json", by_alias=True, include=set(changes)
    )
    sale.sale_defaults = {**sale.sale_defaults, **wire}
    if data.customer is not None:
        customer = data.customer.model_dump(mode="json", exclude_unset=True, by_alias=True)
        sale.customer = {**sale.customer, **customer}
    if data.options is not None:
        sale.options = data.options
    cancelled = data.cancelled if data.cancelled is not None else (nested and nested.cancelled)
    if cancelled and any(item.quantity_open > 0 for item in sale.items):
        reason = data.cancel_reason or (nested and nested.cancel_reason) or CancelReason.customer
        cancel(session, sale, CancelRequest(cancel_reason=reason), actor)
    session.flush()
    return sale
