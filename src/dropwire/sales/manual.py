"""Manual-sale upserts: new sales are created set-based, a batch at a time; a stored sale takes
the differences between what the channel sends and what it has."""

from collections import defaultdict, deque
from collections.abc import Sequence
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from dropwire.catalog.models import ChannelVariant, Variant
from dropwire.catalog.service import find_variants_by_sku
from dropwire.channels.models import Channel
from dropwire.core.db import settings_of
from dropwire.core.errors import DomainError
from dropwire.core.expressions import among_bound
from dropwire.core.inserts import insert_all, insert_each_unless_taken, new_row
from dropwire.sales.cancelling import cancel
from dropwire.sales.errors import SaleBeingCreated, SaleQuantityBelowShipped
from dropwire.sales.models import (
    CancelReason,
    Sale,
    SaleItem,
)
from dropwire.sales.purchasing import LineToRoute, route_lines, route_sales, take_back_units
from dropwire.sales.references import (
    change_reference,
    fresh_references,
    reference_taken,
    used_among,
)
from dropwire.sales.schemas import (
    CancelRequest,
    LineItem,
    ManualSale,
)
from dropwire.sales.tallies import assign, note_problems, refresh_statuses


def _variants_for(
    session: Session, channel: Channel, lines: list[LineItem]
) -> list[Variant | None]:
    """The variant of each line: by SKU, else by the channel's listing id (`externalId`), else
    by the listing's SKU (`externalSku`: the channel's listing, else a catalog variant with that
    SKU). At most three queries whatever the count."""
    skus = {ref.sku for ref in (line.variant for line in lines) if ref.sku}
    skus |= {ref.external_sku for ref in (line.variant for line in lines) if ref.external_sku}
    by_sku = find_variants_by_sku(session, skus=skus)
    unresolved = [line.variant for line in lines if by_sku.get(line.variant.sku or "") is None]
    by_listing = _listed(
        session, channel, ChannelVariant.external_id, [r.external_id for r in unresolved]
    )
    by_listing_sku = _listed(
        session, channel, ChannelVariant.external_sku, [r.external_sku for r in unresolved]
    )
    return [
        by_sku.get(ref.sku or "")
        or by_listing.get(ref.external_id or "")
        or by_listing_sku.get(ref.external_sku or "")
        or by_sku.get(ref.external_sku or "")
        for ref in (line.variant for line in lines)
    ]


def _listed(
    session: Session, channel: Channel, key: Any, values: list[str | None]
) -> dict[str, Variant]:
    """The variants of the channel's listings whose `key` column is one of `values`."""
    wanted = {value for value in values if value}
    found: dict[str, Variant] = {}
    if wanted:
        for value, variant in session.execute(
            select(key, Variant)
            .join(ChannelVariant, ChannelVariant.variant_id == Variant.id)
            .where(ChannelVariant.channel_id == channel.id, key.in_(wanted))
            .order_by(ChannelVariant.id)
        ):
            found.setdefault(value or "", variant)
    return found


Outcome = tuple[Sale, bool] | DomainError
"""What became of one sale of a batch: (the sale, whether anything changed), or why it failed."""


def upsert_manual_sale(
    session: Session, *, channel: Channel, data: ManualSale, actor: str | None = None
) -> tuple[Sale, bool]:
    """Create or update the sale keyed by (channel, externalId); returns (sale, changed)."""
    (outcome,) = upsert_manual_sales(session, channel=channel, sales=[data], actor=actor)
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


def upsert_manual_sales(
    session: Session,
    *,
    channel: Channel,
    sales: Sequence[ManualSale],
    actor: str | None = None,
    stored: dict[str, Sale] | None = None,
) -> list[Outcome]:
    """Upsert sales of one channel in order, ending as if they were upserted one at a time.

    The stored sales are read in one statement. Each run of sales that create their record (up
    to one whose sale is stored, or was created earlier in the run) is created set-based, for a
    constant number of statements (`_create_sales`). A sale that changes a stored one is applied
    on its own, in a savepoint when the batch has others, so it fails alone (a batch of one,
    the sync endpoint, needs none: its failure rolls back the caller's unit of work). Outcomes
    come in the order of `sales`. `stored`: the caller already read them (`stored_sales`).
    """
    if stored is None:
        stored = stored_sales(
            session, channel=channel, external_ids={data.external_id for data in sales}
        )
    alone = len(sales) == 1
    outcomes: list[Outcome] = []
    index = 0
    while index < len(sales):
        sale = stored.get(sales[index].external_id)
        if sale is not None:
            outcomes.append(_update_one(session, channel, sale, sales[index], actor, alone))
            index += 1
            continue
        run: list[ManualSale] = []
        named: set[str] = set()
        while index < len(sales):
            data = sales[index]
            if data.external_id in stored or data.external_id in named:
                break
            run.append(data)
            named.add(data.external_id)
            index += 1
            if _cancelling(channel, data):  # gives units back: later sales must see them free
                break
        for data, outcome in zip(run, _create_sales(session, channel, run, actor), strict=True):
            if not isinstance(outcome, DomainError):
                stored[data.external_id] = outcome[0]
            outcomes.append(outcome)
    return outcomes


def stored_sales(session: Session, *, channel: Channel, external_ids: set[str]) -> dict[str, Sale]:
    """The channel's stored sales with these external ids, locked (PostgreSQL), by external id."""
    statement = _stored_sales(session.get_bind().dialect.name)
    parameters = {"channel_id": channel.id, "external_ids": list(external_ids)}
    return {sale.external_id: sale for sale in session.scalars(statement, parameters)}


@cache
def _stored_sales(dialect: str) -> Select[Sale]:
    return (
        select(Sale)
        .where(
            Sale.channel_id == bindparam("channel_id"),
            among_bound(Sale.external_id, "external_ids", dialect),
        )
        .with_for_update(of=Sale)
    )


def _header(data: ManualSale) -> dict[str, Any]:
    """The sale's own fields as the channel sends them."""
    header = {
        "date_ordered": data.sale_defaults.date_ordered,
        "customer": data.customer.model_dump(mode="json", exclude_none=True, by_alias=True),
        "sale_defaults": data.sale_defaults.model_dump(
            mode="json", exclude_none=True, by_alias=True
        ),
        "receiver_country": (data.sale_defaults.receiver_country or "").upper() or None,
        "shipping": [
            s.model_dump(mode="json", exclude_none=True, by_alias=True) for s in data.shipping
        ],
        "options": data.options,
    }
    if data.sale_defaults.payment_status is not None:
        header["payment_status"] = data.sale_defaults.payment_status
    if data.source is not None:
        header["source"] = data.source
    if data.currency is not None:
        header["currency"] = data.currency
    return header


def _cancelling(channel: Channel, data: ManualSale) -> bool:
    return bool(data.sale_defaults.cancelled and channel.automatically_cancel_sales)


def _cancel_if_asked(
    session: Session, channel: Channel, sale: Sale, data: ManualSale, actor: str | None
) -> bool:
    """The channel says the sale is cancelled and lets us cancel it: cancel what is open."""
    if not _cancelling(channel, data) or not any(item.quantity_open > 0 for item in sale.items):
        return False  # shipped units stay shipped
    reason = data.sale_defaults.cancel_reason or CancelReason.customer
    cancel(session, sale=sale, request=CancelRequest(cancel_reason=reason), actor=actor)
    return True


def _update_one(
    session: Session,
    channel: Channel,
    sale: Sale,
    data: ManualSale,
    actor: str | None,
    alone: bool,
) -> Outcome:
    if alone:
        return _update_sale(session, channel, sale, data, actor)
    try:
        with session.begin_nested():
            return _update_sale(session, channel, sale, data, actor)
    except DomainError as exc:
        return exc


def _update_sale(
    session: Session, channel: Channel, sale: Sale, data: ManualSale, actor: str | None
) -> tuple[Sale, bool]:
    """A stored sale takes the differences: its fields, its lines, a cancellation."""
    changed = assign(sale, **_header(data))
    if requested := data.sale_defaults.reference:
        changed |= change_reference(
            session, sale=sale, reference=requested, field="saleDefaults.reference"
        )
    changed |= _apply_lines(session, channel, sale, data.line_items, actor)
    changed |= _cancel_if_asked(session, channel, sale, data, actor)
    if changed:
        refresh_statuses(sale)
        session.flush()
    return sale, changed


def _create_sales(
    session: Session, channel: Channel, run: Sequence[ManualSale], actor: str | None
) -> list[Outcome]:
    """New sales (none stored, no two alike) with a constant number of statements.

    References are taken in order; one INSERT each for the sales (a sale a concurrent request
    just created is left out, failing alone), their lines, and through `route_sales` the
    allocations, ledger rows, purchase orders and their items.
    """
    outcomes: list[Outcome] = []
    new: list[tuple[Sale, ManualSale]] = []
    positions: list[int] = []
    default_currency = channel.currency or settings_of(session).default_currency
    for data, reference in zip(run, _references(session, run), strict=True):
        if isinstance(reference, DomainError):
            outcomes.append(reference)
            continue
        sale = _new_sale(channel, data, reference, default_currency)
        new.append((sale, data))
        positions.append(len(outcomes))
        outcomes.append((sale, True))
    key = ["channel_id", "external_id"]
    inserted = insert_each_unless_taken(session, objects=[sale for sale, _ in new], key=key)
    for position, done in zip(positions, inserted, strict=True):
        if not done:
            outcomes[position] = SaleBeingCreated()
    new = [pair for pair, done in zip(new, inserted, strict=True) if done]
    lines = [(sale, line) for sale, data in new for line in data.line_items]
    with session.no_autoflush:  # the catalog is not what this unit of work changes
        variants = _variants_for(session, channel, [line for _, line in lines])
    items = [
        _new_item(sale.id, line, variant)
        for (sale, line), variant in zip(lines, variants, strict=True)
    ]
    insert_all(session, objects=items)
    by_sale: dict[int, list[SaleItem]] = defaultdict(list)
    to_route: dict[int, list[LineToRoute]] = defaultdict(list)
    for (sale, line), variant, item in zip(lines, variants, items, strict=True):
        by_sale[sale.id].append(item)
        if variant is not None:
            index = len(by_sale[sale.id]) - 1
            to_route[sale.id].append(
                LineToRoute(item, variant, line.quantity, f"lineItems[{index}].quantity")
            )
    for sale, _ in new:
        set_committed_value(sale, "items", by_sale[sale.id])
    route_sales(session, sales=[(sale, to_route[sale.id]) for sale, _ in new], actor=actor)
    for sale, data in new:
        note_problems(sale)
        _cancel_if_asked(session, channel, sale, data, actor)
        refresh_statuses(sale)
    session.flush()
    return outcomes


def _new_sale(channel: Channel, data: ManualSale, reference: str, currency: str) -> Sale:
    """A sale to insert. It has no lines, orders or fulfillments yet: they are set as loaded
    (no query to find out), without the events of collections given to the constructor.
    Its currency is the body's, else `currency` (the channel's, else the default)."""
    sale = new_row(
        Sale,
        channel_id=channel.id,
        external_id=data.external_id,
        reference=reference,
        **{"currency": currency, **_header(data)},
    )
    for relation in ("items", "purchases", "fulfillments"):
        set_committed_value(sale, relation, [])
    return sale


def _references(session: Session, run: Sequence[ManualSale]) -> list[str | DomainError]:
    """Each new sale's reference, as taking them one at a time would: the one it asks for
    unless a sale has or had it (or an earlier sale of the run asked for it), else the next
    free number (a channel may have chosen one of ours itself)."""
    asked = [data.sale_defaults.reference for data in run]
    numbers, used = fresh_references(session, count=asked.count(None) + asked.count(""))
    fresh = deque(numbers)
    used |= used_among(session, references=set(filter(None, asked)))
    references: list[str | DomainError] = []
    for position, reference in enumerate(asked):
        if reference:
            references.append(reference_taken(reference) if reference in used else reference)
            used.add(reference)
            continue
        while True:
            if not fresh:  # every number taken was used: as many more as sales still need
                more, taken = fresh_references(
                    session, count=sum(1 for r in asked[position:] if not r)
                )
                used |= taken
                fresh.extend(more)
            number = fresh.popleft()
            if number not in used:
                used.add(number)
                references.append(number)
                break
    return references


def _line_fields(line: LineItem) -> dict[str, Any]:
    return {
        "name": line.name,
        "price": line.price,
        "discount": line.discount or Decimal(0),
        "taxable": line.taxable,
        "properties": [p.model_dump(exclude_none=True) for p in line.properties],
        "sku": line.variant.sku or line.variant.external_sku,
        "external_variant_id": line.variant.external_id,
    }


def _named(line: LineItem) -> str | None:
    return line.variant.sku or line.variant.external_sku or line.variant.external_id


def _new_item(sale_id: int, line: LineItem, variant: Variant | None) -> SaleItem:
    """A line the sale didn't have; without a variant it stays unrouted, with its problem."""
    return new_row(
        SaleItem,
        sale_id=sale_id,
        external_id=line.external_id,
        quantity=line.quantity,
        variant_id=variant.id if variant else None,
        quantity_shipped=0,
        quantity_cancelled=0,
        quantity_returned=0,
        problem=None if variant else f"no variant with SKU '{_named(line)}'",
        **_line_fields(line),
    )


def _apply_lines(
    session: Session,
    channel: Channel,
    sale: Sale,
    lines: list[LineItem],
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
        fields = _line_fields(line)
        if item is None:
            variant = found[line.external_id]
            item = _new_item(sale.id, line, variant)
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
                raise SaleQuantityBelowShipped(
                    field, shipped=item.quantity_shipped, cancelled=item.quantity_cancelled
                )
            take_back_units(session, item=item, quantity=removed, cancel_units=False, actor=actor)
            item.quantity = line.quantity
            changed = True
    if created_items:  # one INSERT for the new lines; their ids go on allocations
        insert_all(session, objects=created_items)
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
    if changed:
        note_problems(sale)
    return changed
