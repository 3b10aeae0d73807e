"""Routing a line's units to a source: allocate there and put them on a purchase order.

Invariant, per line: ordered = shipped + cancelled + open, and every open routed unit is held by
an allocation (the inventory core's guarded allocate, so two sales never take the last unit)."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from dropwire.catalog.models import InventoryPolicy, Variant
from dropwire.core.inserts import insert_all, new_row, update_rows
from dropwire.core.time import utcnow
from dropwire.inventory import service as inventory
from dropwire.inventory.errors import InsufficientStock
from dropwire.inventory.models import MovementCause
from dropwire.inventory.service import AllocationRequest, KnownLevel, NewAllocation
from dropwire.sales import events
from dropwire.sales.events import PurchaseEvent
from dropwire.sales.models import (
    CancellationStatus,
    Purchase,
    PurchaseInventoryStatus,
    PurchaseItem,
    Sale,
    SaleItem,
)
from dropwire.sales.routing import Source, candidate_sources_by_country, default_strategy
from dropwire.sales.splitting import strategy_for
from dropwire.sales.tallies import assign, refresh_purchase

SALES = cast(Table, Sale.__table__)


@dataclass(frozen=True)
class LineToRoute:
    """Units of one sale line to put at a source; `field` names the line in an error."""

    item: SaleItem
    variant: Variant
    quantity: int
    field: str
    exclude_locations: frozenset[int] = frozenset()


def route(
    session: Session,
    *,
    sale: Sale,
    item: SaleItem,
    variant: Variant,
    quantity: int,
    field: str,
    actor: str | None,
    exclude_locations: frozenset[int] = frozenset(),
) -> None:
    """Allocate `quantity` units of the line at the best source and put them on a purchase order."""
    route_lines(
        session,
        sale=sale,
        lines=[LineToRoute(item, variant, quantity, field, exclude_locations)],
        actor=actor,
    )


@dataclass
class _Plan:
    sale: Sale
    line: LineToRoute
    sources: list[Source]  # ranked, only those worth trying
    tried: int = 0
    allocations: list[NewAllocation] = field(default_factory=list)

    @property
    def source(self) -> Source:
        return self.sources[self.tried]


def route_lines(
    session: Session, *, sale: Sale, lines: Sequence[LineToRoute], actor: str | None
) -> None:
    """Route many lines of one sale with a constant number of statements (`route_sales`)."""
    route_sales(session, sales=[(sale, lines)], actor=actor)


def route_sales(
    session: Session,
    *,
    sales: Sequence[tuple[Sale, Sequence[LineToRoute]]],
    actor: str | None,
) -> None:
    """Route the lines of many sales with a constant number of statements.

    The outcome is that of routing each sale's lines in turn, sale after sale: every line ranks
    its sources by what is available after the lines before it (of its sale and of the sales
    before) took their share, and tries them best first. All lines are allocated together
    (`inventory.allocate_each`: one guarded UPDATE); a line refused at a source (another
    transaction took the units meanwhile) tries its next source in the next round. Purchase
    orders and their items are then written with one INSERT each, numbered in line order.
    """
    lines = [(sale, line) for sale, routed in sales for line in routed]
    if not lines:
        return
    with session.no_autoflush:  # reads stock levels, which only change through Core updates
        candidates = candidate_sources_by_country(
            session,
            variants=list({line.variant.id: line.variant for _, line in lines}.values()),
            countries={sale.receiver_country for sale, _ in lines},
        )
    strategy = default_strategy()
    taken: dict[tuple[int, int], int] = defaultdict(int)  # what earlier lines take, by level
    plans: list[_Plan] = []
    for sale, line in lines:
        backorder = line.variant.inventory_policy == InventoryPolicy.continue_
        sources = [
            replace(
                source, available=source.available - taken[(line.variant.id, source.location_id)]
            )
            for source in candidates[sale.receiver_country][line.variant.id]
            if source.location_id not in line.exclude_locations
        ]
        ranked = [
            source
            for source in strategy.rank(sources, line.quantity)
            if backorder or source.available >= line.quantity
        ]
        plans.append(_Plan(sale, line, ranked))
        if ranked:
            taken[(line.variant.id, ranked[0].location_id)] += line.quantity
    pending = [plan for plan in plans if plan.sources]
    while pending:
        outcomes = inventory.allocate_each(
            session, groups=[_requests(plan) for plan in pending], actor=actor
        )
        still = []
        for plan, outcome in zip(pending, outcomes, strict=True):
            if isinstance(outcome, InsufficientStock):
                plan.tried += 1  # another sale took it meanwhile: try the next source
                if plan.tried < len(plan.sources):
                    still.append(plan)
            else:
                plan.allocations = outcome
        pending = still
    _write_purchases(session, plans)


def _write_purchases(session: Session, plans: list[_Plan]) -> None:
    """Put the allocated lines on purchase orders, numbered in line order within each sale; one
    INSERT for the new orders of every sale and one for all their items."""
    announced: list[tuple[Purchase, PurchaseEvent]] = []
    created: dict[int, list[Purchase]] = defaultdict(list)  # by id() of the sale
    added: dict[int, list[PurchaseItem]] = defaultdict(list)  # by id() of the purchase
    new_items: list[tuple[Purchase, PurchaseItem]] = []
    for plan in plans:
        item, variant = plan.line.item, plan.line.variant
        if not plan.allocations:
            item.problem = f"no source can supply {plan.line.quantity} of {variant.sku}"
            continue
        source = plan.source
        splitting = strategy_for(source.vendor.order_splitting if source.vendor else None)
        for allocation in plan.allocations:
            purchase = _purchase_for(
                plan.sale,
                source,
                joins=splitting.joins_open_purchase(),
                created=created[id(plan.sale)],
                announced=announced,
            )
            line = new_row(
                PurchaseItem,
                sale_item_id=item.id,
                variant_id=variant.id,
                allocation_id=allocation.id,
                name=item.name or variant.name,
                quantity=allocation.quantity,
                quantity_shipped=0,
                quantity_cancelled=0,
                cost_price=source.cost_price,
            )
            added[id(purchase)].append(line)
            new_items.append((purchase, line))
        assign(item, problem=None)  # only when it had one: a clean new line stays unchanged
    insert_all(session, objects=[purchase for made in created.values() for purchase in made])
    numbered = [
        sale for sale in {id(plan.sale): plan.sale for plan in plans}.values() if created[id(sale)]
    ]
    for sale in numbered:
        set_committed_value(sale, "purchases", [*sale.purchases, *created[id(sale)]])
    _count_purchases(session, [(sale, len(created[id(sale)])) for sale in numbered])
    for purchase, line in new_items:
        line.purchase_id = purchase.id
    insert_all(session, objects=[line for _, line in new_items])
    fresh = {id(purchase) for made in created.values() for purchase in made}
    touched = {id(purchase): purchase for purchase, _ in new_items}
    for key, purchase in touched.items():
        before = [] if key in fresh else list(purchase.items)
        set_committed_value(purchase, "items", [*before, *added[key]])
        refresh_purchase(purchase)
    for purchase, event in announced:
        events.purchase_changed(session, purchase_id=purchase.id, event=event)


def _count_purchases(session: Session, sales: list[tuple[Sale, int]]) -> None:
    """Each sale's purchase-order count goes up by its new orders, in one UPDATE for all (not
    one per sale from the flush), and is stored on the objects as what the row holds."""
    now = utcnow()
    update_rows(
        session.connection(),
        SALES,
        [
            {
                "id": sale.id,
                "last_purchase_number": sale.last_purchase_number + made,
                "updated_at": now,
            }
            for sale, made in sales
        ],
    )
    for sale, made in sales:
        set_committed_value(sale, "last_purchase_number", sale.last_purchase_number + made)
        set_committed_value(sale, "updated_at", now)


def _requests(plan: _Plan) -> list[AllocationRequest]:
    source = plan.source
    splitting = strategy_for(source.vendor.order_splitting if source.vendor else None)
    return [
        AllocationRequest(
            plan.line.variant.id,
            source.location_id,
            units,
            sale_id=plan.sale.id,
            sale_item_id=plan.line.item.id,
            field=plan.line.field,
            level=None
            if source.level_id is None
            else KnownLevel(source.level_id, plan.line.variant.inventory_policy),
        )
        for units in splitting.parcels(plan.line.quantity)
    ]


def _purchase_for(
    sale: Sale,
    source: Source,
    *,
    joins: bool,
    created: list[Purchase],
    announced: list[tuple[Purchase, PurchaseEvent]],
) -> Purchase:
    """The open purchase order of this source to join, or a new one (in `created`)."""
    vendor_id = source.vendor.id if source.vendor else None
    if joins:
        for purchase in [*sale.purchases, *created]:
            if (
                purchase.dropship_provider_id == vendor_id
                and purchase.warehouse_id == source.warehouse_id
                and purchase.inventory_status == PurchaseInventoryStatus.not_received
                and purchase.cancellation_status != CancellationStatus.full
            ):
                if purchase.is_dropship:
                    announced.append((purchase, "updated"))
                return purchase
    number = sale.last_purchase_number + len(created) + 1  # the sale's count: `_count_purchases`
    purchase = new_row(
        Purchase,
        sale_id=sale.id,
        dropship_provider_id=vendor_id,
        warehouse_id=source.warehouse_id,
        external_reference=f"{sale.reference}-{number:02d}",
        order_splitting=str(source.vendor.order_splitting) if source.vendor else "group",
        inventory_status=PurchaseInventoryStatus.not_received,
        cancellation_status=CancellationStatus.none,
        last_fulfillment_number=0,
        purchase_status_id=None,
        order_splitting_key=None,
        cancelled_at=None,
    )
    created.append(purchase)
    if purchase.is_dropship:
        announced.append((purchase, "created"))
    return purchase


def take_back_units(
    session: Session, *, item: SaleItem, quantity: int, cancel_units: bool, actor: str | None
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
        cancel_purchase_units(session, purchase_item=purchase_item, quantity=take, actor=actor)
        remaining -= take
        purchase = purchase_item.purchase
        refresh_purchase(purchase)
        announce_cancellation(session, purchase=purchase)
    if cancel_units:
        item.quantity_cancelled += quantity
        events.lines_cancelled(session, sale_id=item.sale_id)
    if item.quantity_open - (0 if cancel_units else quantity) <= 0:
        item.problem = None


def cancel_purchase_units(
    session: Session, *, purchase_item: PurchaseItem, quantity: int, actor: str | None
) -> None:
    """Units leave a purchase-order line cancelled: its allocation gives them back."""
    inventory.release(
        session,
        allocation_id=purchase_item.allocation_id,
        quantity=quantity,
        cause=MovementCause.cancellation,
        actor=actor,
    )
    purchase_item.quantity_cancelled += quantity


def announce_cancellation(session: Session, *, purchase: Purchase) -> None:
    """Tell the vendor its purchase order lost units (`cancelled` once none are left)."""
    if purchase.is_dropship:
        full = purchase.cancellation_status == CancellationStatus.full
        events.purchase_changed(
            session, purchase_id=purchase.id, event="cancelled" if full else "updated"
        )


def _purchase_items(session: Session, item: SaleItem) -> list[PurchaseItem]:
    return list(
        session.scalars(
            select(PurchaseItem)
            .where(PurchaseItem.sale_item_id == item.id)
            .order_by(PurchaseItem.id)
        )
    )
