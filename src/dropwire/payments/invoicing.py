"""Raising vendor invoices and credits from what happened to purchase orders.

One rule, applied to any set of purchase orders at once: each purchase item has a number of
units that should stand invoiced now (its vendor's `paymentTrigger` decides: ordered units for
beforeShipping, shipped units for afterShipping, and for manual what was invoiced on request),
never more than were shipped (ordered, for beforeShipping), less what came back. The difference
from what stands invoiced becomes an invoice line (rate frozen as it applies now) or credit lines
(each pointing at the invoice line it credits, newest first, at that line's frozen amounts).
Running it twice changes nothing; so it can run before every commit that touched an order.
"""

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any, TypeVar, cast

from sqlalchemy import Select, Table, func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from dropwire.catalog.models import CommissionRateRouting, Variant
from dropwire.core.expressions import among, among_bound
from dropwire.core.inserts import (
    Write,
    insert_all,
    insert_rows,
    insert_write,
    new_row,
    update_rows,
    update_write,
)
from dropwire.core.time import utcnow
from dropwire.payments.commission import (
    HUNDRED,
    AppliedRate,
    LineAmounts,
    LineTerms,
    line_amounts,
    round_money,
)
from dropwire.payments.ledger import ENTRIES_WITH_MOVES, post
from dropwire.payments.models import (
    CreditReason,
    EntryKind,
    InvoiceType,
    LedgerEntry,
    VendorInvoice,
    VendorInvoiceLine,
)
from dropwire.payments.rules import Rules
from dropwire.sales.models import (
    Fulfillment,
    FulfillmentItem,
    InvoiceStatus,
    Purchase,
    PurchaseItem,
    Sale,
    SaleItem,
)
from dropwire.vendors.models import (
    CommissionMethod,
    DropshipProvider,
    PaymentTrigger,
    RateType,
    ReturnPenalty,
)

T = TypeVar("T")
PURCHASES = cast(Table, Purchase.__table__)
PURCHASE_ITEMS = cast(Table, PurchaseItem.__table__)
LINES = cast(Table, VendorInvoiceLine.__table__)


@dataclass
class _Standing:
    """The invoice lines of one purchase item (with the vendor each was invoiced to) and the
    credits against each."""

    lines: list[VendorInvoiceLine] = field(default_factory=list)
    credited: dict[int, int] = field(default_factory=lambda: defaultdict(int))  # line → units
    credited_for_returns: int = 0
    vendor_of: dict[int, int] = field(default_factory=dict)  # line → vendor

    def remaining(self, *, exclude_vendor: int | None) -> int:
        """Units still invoiced on lines of any vendor but `exclude_vendor`."""
        return sum(
            line.quantity - self.credited[line.id]
            for line in self.lines
            if self.vendor_of.get(line.id) != exclude_vendor
        )

    def only(self, vendor_id: int) -> "_Standing":
        """The same standing limited to one vendor's lines (sharing the credit counts)."""
        if all(self.vendor_of.get(line.id, vendor_id) == vendor_id for line in self.lines):
            return self
        return _Standing(
            [line for line in self.lines if self.vendor_of.get(line.id) == vendor_id],
            self.credited,
            self.credited_for_returns,
            self.vendor_of,
        )


@dataclass
class _Draft:
    purchase: "_Purchase"
    sale: "_Sale"
    vendor: DropshipProvider
    type: InvoiceType
    lines: list[dict[str, Any]] = field(default_factory=list)  # rows of vendor_invoice_lines
    shipping: Decimal = Decimal(0)
    credited_invoice_id: int | None = None


def loaded_or_fetched(session: Session, *, model: type[T], ids: Collection[int]) -> dict[int, T]:
    """The rows of these ids: those the session holds already, the rest in one query."""
    found: dict[int, T] = {}
    missing = []
    for row_id in ids:
        held = session.identity_map.get(identity_key(model, row_id))
        if held is not None:
            found[row_id] = held
        else:
            missing.append(row_id)
    if missing:
        statement = _by_ids(cast(Any, model), session.get_bind().dialect.name)
        for row in session.scalars(statement, {"ids": missing}):
            found[row.id] = row
        # The identity map holds objects weakly: keep these for the rest of the session, so
        # the unit of work's next reads of them (events, schedules) cost no query.
        session.info.setdefault("payments.loaded", []).append(found)
    return found


@cache
def _by_ids(model: Any, dialect: str) -> Select[Any]:
    """Built once per model and dialect: a shipment's invoice reads a few rows by id, and
    building the select cost more than PostgreSQL took to run it."""
    return select(model).where(among_bound(model.id, "ids", dialect))


@dataclass(slots=True)
class _SaleLine:
    """What invoicing reads of a sale line."""

    id: int
    sku: str | None
    quantity: int
    price: Decimal | None
    discount: Decimal
    quantity_returned: int


@dataclass(slots=True)
class _Sale:
    id: int
    channel_id: int
    currency: str
    shipping: list[dict[str, Any]]
    items: list[_SaleLine] = field(default_factory=list)


@dataclass(slots=True)
class _Item:
    """What invoicing reads (and writes: units invoiced, status) of a purchase item."""

    id: int
    sale_item_id: int
    variant_id: int | None
    quantity: int
    quantity_shipped: int
    quantity_cancelled: int
    cost_price: Decimal | None
    quantity_invoiced: int
    invoice_status: InvoiceStatus


@dataclass(slots=True)
class _Purchase:
    id: int
    dropship_provider_id: int
    external_reference: str
    invoice_status: InvoiceStatus
    invoices_so_far: int  # invoices and credits it has: the next one's number follows
    sale: _Sale
    items: list[_Item] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Variant:
    """What a rate reads of a variant (`rules.RatedVariant`)."""

    id: int
    tags: list[str]
    commission_rate: Decimal | None
    commission_rate_type: RateType
    commission_rate_routing: CommissionRateRouting


_HEAD = (
    Purchase.id,
    Purchase.dropship_provider_id,
    Purchase.external_reference,
    Purchase.invoice_status,
    select(func.count())
    .where(VendorInvoice.purchase_id == Purchase.id)
    .correlate(Purchase)
    .scalar_subquery(),
)
_SALE = (Sale.id, Sale.channel_id, Sale.currency, Sale.shipping)
_SALE_LINE = (
    SaleItem.id,
    SaleItem.sku,
    SaleItem.quantity,
    SaleItem.price,
    SaleItem.discount,
    SaleItem.quantity_returned,
)
_ITEM = (
    PurchaseItem.id,
    PurchaseItem.sale_item_id,
    PurchaseItem.variant_id,
    PurchaseItem.quantity,
    PurchaseItem.quantity_shipped,
    PurchaseItem.quantity_cancelled,
    PurchaseItem.cost_price,
    PurchaseItem.quantity_invoiced,
    PurchaseItem.invoice_status,
)
_VARIANT = (
    Variant.id,
    Variant.tags,
    Variant.commission_rate,
    Variant.commission_rate_type,
    Variant.commission_rate_routing,
)
_JOINED_UP_TO = 50  # orders read in one joined statement (a shipment's); more in four


def _purchases(
    session: Session, purchase_ids: Collection[int]
) -> tuple[list[_Purchase], dict[int, _Variant] | None]:
    """The dropship purchase orders, with their sales, lines and (for a few orders) the
    variants of their items, as plain rows: making ORM objects of a batch's rows was most of
    its time. A few orders (a shipment's) come in one joined statement, the variants with
    them; a batch in four, its variants left for `_variants` (None)."""
    if len(purchase_ids) <= _JOINED_UP_TO:
        return _purchases_joined(session, purchase_ids)
    heads = session.execute(
        select(*_HEAD, Purchase.sale_id)
        .where(among(session, column=Purchase.id, values=purchase_ids))
        .where(Purchase.dropship_provider_id.is_not(None))
        .order_by(Purchase.id)
    ).all()
    if not heads:
        return [], None
    sale_ids = {head.sale_id for head in heads}
    sales = {
        row[0]: _sale(row)
        for row in session.execute(
            select(*_SALE).where(among(session, column=Sale.id, values=sale_ids))
        )
    }
    for row in session.execute(
        select(SaleItem.sale_id, *_SALE_LINE)
        .where(among(session, column=SaleItem.sale_id, values=sale_ids))
        .order_by(SaleItem.id)
    ):
        sales[row[0]].items.append(_SaleLine(*row[1:]))
    purchases = {head[0]: _purchase(head, sales[head.sale_id]) for head in heads}
    for item_row in session.execute(
        select(PurchaseItem.purchase_id, *_ITEM)
        .where(among(session, column=PurchaseItem.purchase_id, values=list(purchases)))
        .order_by(PurchaseItem.id)
    ):
        purchases[item_row[0]].items.append(_Item(*cast(tuple[Any, ...], item_row)[1:]))
    return list(purchases.values()), None


def _purchases_joined(
    session: Session, purchase_ids: Collection[int]
) -> tuple[list[_Purchase], dict[int, _Variant]]:
    """`_purchases` of a few orders: a row per sale line, with the order's item for it (if
    any) and that item's variant."""
    statement = _joined(session.get_bind().dialect.name)
    rows: Sequence[tuple[Any, ...]] = session.execute(statement, {"ids": list(purchase_ids)}).all()
    heads, sale_end = len(_HEAD), len(_HEAD) + len(_SALE)
    line_end = sale_end + len(_SALE_LINE)
    item_end = line_end + len(_ITEM)
    purchases: dict[int, _Purchase] = {}
    sales: dict[int, _Sale] = {}
    variants: dict[int, _Variant] = {}
    lines_read: set[int] = set()
    for row in rows:
        sale = sales.get(row[heads])
        if sale is None:
            sale = sales[row[heads]] = _sale(row[heads:sale_end])
        purchase = purchases.get(row[0])
        if purchase is None:
            purchase = purchases[row[0]] = _purchase(row, sale)
        if row[sale_end] not in lines_read:  # else read with another order of the sale
            lines_read.add(row[sale_end])
            sale.items.append(_SaleLine(*row[sale_end:line_end]))
        if row[line_end] is not None:
            purchase.items.append(_Item(*row[line_end:item_end]))
        if row[item_end] is not None:
            variants[row[item_end]] = _Variant(*row[item_end:])
    for purchase in purchases.values():
        purchase.items.sort(key=lambda item: item.id)
    return list(purchases.values()), variants


@cache
def _joined(dialect: str) -> Select[tuple[Any, ...]]:
    """The statement of `_purchases_joined`, built once per dialect (a third of a shipment's
    invoicing went to building it)."""
    return (
        select(*_HEAD, *_SALE, *_SALE_LINE, *_ITEM, *_VARIANT)
        .join(Sale, Sale.id == Purchase.sale_id)
        .join(SaleItem, SaleItem.sale_id == Sale.id)
        .outerjoin(
            PurchaseItem,
            (PurchaseItem.purchase_id == Purchase.id) & (PurchaseItem.sale_item_id == SaleItem.id),
        )
        .outerjoin(Variant, Variant.id == PurchaseItem.variant_id)
        .where(among_bound(Purchase.id, "ids", dialect))
        .where(Purchase.dropship_provider_id.is_not(None))
        .order_by(Purchase.id, SaleItem.id, PurchaseItem.id)
    )


def _sale(row: Sequence[Any]) -> _Sale:
    return _Sale(row[0], row[1], row[2], row[3] or [])


def _purchase(row: Sequence[Any], sale: _Sale) -> _Purchase:
    return _Purchase(row[0], row[1], row[2], row[3], row[4], sale)


def _variants(session: Session, variant_ids: Collection[int]) -> dict[int, _Variant]:
    if not variant_ids:
        return {}
    rows = session.execute(
        select(*_VARIANT).where(among(session, column=Variant.id, values=variant_ids))
    )
    return {row[0]: _Variant(*row) for row in rows}


def invoice_purchases(
    session: Session,
    *,
    purchase_ids: Collection[int],
    on_request: bool = False,
    rerouted: Collection[int] = (),
) -> list[VendorInvoice]:
    """Bring the invoices of these purchase orders in line with their units (see the module
    docstring); `on_request` invoices shipped units of manual-trigger vendors too. Orders in
    `rerouted` moved to another vendor: what their earlier vendors were invoiced is credited to
    those vendors first."""
    if not purchase_ids:
        return []
    purchases, variants = _purchases(session, purchase_ids)
    if not purchases:
        return []
    vendors = loaded_or_fetched(
        session,
        model=DropshipProvider,
        ids={p.dropship_provider_id for p in purchases},
    )
    sale_items = {line.id: line for p in purchases for line in p.sale.items}
    returned = _returned_per_item(session, sale_items)
    delivered = _delivered_per_item(
        session,
        [
            item.id
            for p in purchases
            if vendors[p.dropship_provider_id].payment_trigger == PaymentTrigger.on_delivery
            for item in p.items
        ],
    )
    moved = [p for p in purchases if p.id in rerouted]
    earlier = _standing(session, [item.id for p in moved for item in p.items])
    foreign = {  # per item, units still invoiced to a vendor the order no longer has
        item.id: earlier[item.id].remaining(exclude_vendor=p.dropship_provider_id)
        for p in moved
        for item in p.items
    }
    changes: dict[int, int] = {}
    targets: dict[int, int] = {}
    wanted: dict[int, int] = {}
    for purchase in purchases:
        trigger = vendors[purchase.dropship_provider_id].payment_trigger
        wanted[purchase.id] = 0
        for item in purchase.items:
            here = item.quantity_invoiced - foreign.get(item.id, 0)
            target = _target(
                trigger, item, here, returned.get(item.id, 0), delivered.get(item.id, 0), on_request
            )
            targets[item.id] = target
            wanted[purchase.id] += target
            if target != here:
                changes[item.id] = target - here
    if not changes and not any(foreign.values()):
        return []
    adding = [i for p in purchases for i in p.items if changes.get(i.id, 0) > 0]
    pricing = None
    if adding:
        if variants is None:
            variants = _variants(session, {i.variant_id for i in adding if i.variant_id})
        pricing = _Pricing(Rules.load(session), variants)
    standing = _standing(session, [item_id for item_id, c in changes.items() if c < 0])
    drafts: list[_Draft] = []
    for purchase in moved:
        drafts.extend(_credit_earlier_vendors(session, purchase, earlier))
    shipping_due = _uncredited_shipping(
        session,
        [
            p.id
            for p in purchases
            if any(i.id in changes for i in p.items)
            and any(s.get("price") for s in p.sale.shipping)
        ],
    )
    now = utcnow()
    for purchase in purchases:
        vendor = vendors[purchase.dropship_provider_id]
        sale = purchase.sale
        invoice = _Draft(purchase, sale, vendor, InvoiceType.invoice)
        credit = _Draft(purchase, sale, vendor, InvoiceType.credit)
        for item in purchase.items:
            change = changes.get(item.id, 0)
            if change > 0:
                assert pricing is not None
                invoice.lines.append(
                    _invoice_line(
                        item, sale_items[item.sale_item_id], change, vendor, sale, pricing
                    )
                )
            elif change < 0:
                back = returned.get(item.id, 0)
                state = standing[item.id].only(vendor.id)
                for_returns = min(-change, max(0, back - state.credited_for_returns))
                credit.lines.extend(
                    _credit_lines(item, state, -change, for_returns, vendor, sale.currency)
                )
        shipping_invoice = next(
            ((i, s) for i, s, v in shipping_due.get(purchase.id, []) if v == vendor.id), None
        )
        if invoice.lines and shipping_invoice is None:
            invoice.shipping = _shipping_share(sale, purchase, vendor)
        elif wanted[purchase.id] == 0 and shipping_invoice is not None:
            credit.shipping = -shipping_invoice[1]
            credit.credited_invoice_id = shipping_invoice[0]
        drafts.extend(d for d in (invoice, credit) if d.lines or d.shipping)
    return _write(session, drafts, now, updates=_refresh_items(session, purchases, targets))


def _credit_earlier_vendors(
    session: Session, purchase: _Purchase, earlier: dict[int, _Standing]
) -> list[_Draft]:
    """Credits, one per earlier vendor, of every unit (and shipping) the order's earlier
    vendors were invoiced for and not yet credited."""
    current = purchase.dropship_provider_id
    others = {
        vendor_id
        for item in purchase.items
        for vendor_id in earlier[item.id].vendor_of.values()
        if vendor_id != current
    }
    shipped = [
        due
        for due in _uncredited_shipping(session, [purchase.id]).get(purchase.id, [])
        if due[2] != current
    ]
    others |= {vendor_id for _i, _s, vendor_id in shipped}
    drafts = []
    for vendor in loaded_or_fetched(session, model=DropshipProvider, ids=others).values():
        credit = _Draft(purchase, purchase.sale, vendor, InvoiceType.credit)
        for item in purchase.items:
            state = earlier[item.id].only(vendor.id)
            units = state.remaining(exclude_vendor=None) if state.lines else 0
            if units > 0:
                credit.lines.extend(
                    _credit_lines(item, state, units, 0, vendor, purchase.sale.currency)
                )
        for invoice_id, shipping, vendor_id in shipped:
            if vendor_id == vendor.id:
                credit.shipping = -shipping
                credit.credited_invoice_id = invoice_id
        if credit.lines or credit.shipping:
            drafts.append(credit)
    return drafts


def _target(
    trigger: str, item: _Item, invoiced: int, back: int, delivered: int, on_request: bool
) -> int:
    """How many units of `item` should stand invoiced now (`invoiced` stand so far)."""
    kept = item.quantity_shipped - back
    if trigger == PaymentTrigger.before_shipping:
        return item.quantity - item.quantity_cancelled - back
    if trigger == PaymentTrigger.on_delivery and not on_request:
        return max(0, min(delivered, item.quantity_shipped) - back)
    if trigger == PaymentTrigger.manual and not on_request:
        return min(invoiced, kept)
    return kept


def _delivered_per_item(session: Session, item_ids: Sequence[int]) -> dict[int, int]:
    """Units of these purchase items on fulfillments marked delivered."""
    if not item_ids:
        return {}
    rows = session.execute(
        select(FulfillmentItem.purchase_item_id, func.sum(FulfillmentItem.quantity))
        .join(Fulfillment, Fulfillment.id == FulfillmentItem.fulfillment_id)
        .where(
            among(session, column=FulfillmentItem.purchase_item_id, values=item_ids),
            Fulfillment.delivered_at.is_not(None),
        )
        .group_by(FulfillmentItem.purchase_item_id)
    )
    return {item_id: int(units) for item_id, units in rows}


def _returned_per_item(session: Session, sale_items: dict[int, _SaleLine]) -> dict[int, int]:
    """A line's returned units, spread over its purchase items in id order by units shipped
    (a line split between sources comes back from the first ones first)."""
    with_returns = [s.id for s in sale_items.values() if s.quantity_returned]
    if not with_returns:
        return {}
    spread: dict[int, int] = {}
    left = {
        sale_item_id: sale_items[sale_item_id].quantity_returned for sale_item_id in with_returns
    }
    for item in session.execute(
        select(PurchaseItem.id, PurchaseItem.sale_item_id, PurchaseItem.quantity_shipped)
        .where(among(session, column=PurchaseItem.sale_item_id, values=with_returns))
        .order_by(PurchaseItem.id)
    ):
        take = min(left[item.sale_item_id], item.quantity_shipped)
        spread[item.id] = take
        left[item.sale_item_id] -= take
    return spread


def _standing(session: Session, item_ids: Sequence[int]) -> dict[int, _Standing]:
    standing: dict[int, _Standing] = defaultdict(_Standing)
    if not item_ids:
        return standing
    lines = session.execute(
        select(VendorInvoiceLine, VendorInvoice.dropship_provider_id)
        .join(VendorInvoice, VendorInvoice.id == VendorInvoiceLine.invoice_id)
        .where(among(session, column=VendorInvoiceLine.purchase_item_id, values=item_ids))
        .order_by(VendorInvoiceLine.id)
    ).all()
    for line, vendor_id in lines:
        state = standing[line.purchase_item_id]
        if line.credited_line_id is None:
            state.lines.append(line)
            state.vendor_of[line.id] = vendor_id
        else:
            state.credited[line.credited_line_id] += -line.quantity
            if line.credit_reason == CreditReason.return_:
                state.credited_for_returns += -line.quantity
    return standing


def _uncredited_shipping(
    session: Session, purchase_ids: Sequence[int]
) -> dict[int, list[tuple[int, Decimal, int]]]:
    """Per purchase order, the invoices (id, shipping, vendor) that charged its shipping and
    that no credit took back yet."""
    if not purchase_ids:
        return {}
    rows = session.execute(
        select(
            VendorInvoice.purchase_id,
            VendorInvoice.id,
            VendorInvoice.shipping,
            VendorInvoice.dropship_provider_id,
        )
        .where(among(session, column=VendorInvoice.purchase_id, values=purchase_ids))
        .where(VendorInvoice.type == InvoiceType.invoice, VendorInvoice.shipping != 0)
    ).all()
    credited = set(
        session.scalars(
            select(VendorInvoice.credited_invoice_id).where(
                among(session, column=VendorInvoice.purchase_id, values=purchase_ids),
                VendorInvoice.credited_invoice_id.is_not(None),
            )
        )
    )
    due: dict[int, list[tuple[int, Decimal, int]]] = defaultdict(list)
    for purchase_id, invoice_id, shipping, vendor_id in rows:
        if invoice_id not in credited:
            due[purchase_id].append((invoice_id, shipping, vendor_id))
    return due


@dataclass
class _Pricing:
    """The rates and terms of a batch's lines, each worked out once per vendor (and channel
    and variant) rather than per line: reading them off the ORM objects line by line was a
    good part of invoicing's CPU."""

    rules: Rules
    variants: dict[int, _Variant]
    terms: dict[int, LineTerms] = field(default_factory=dict)
    rates: dict[tuple[int, int, int | None], AppliedRate] = field(default_factory=dict)

    def rate(
        self, vendor: DropshipProvider, channel_id: int, variant_id: int | None
    ) -> AppliedRate:
        key = (vendor.id, channel_id, variant_id)
        rate = self.rates.get(key)
        if rate is None:
            variant = self.variants.get(variant_id) if variant_id else None
            rate = self.rates[key] = self.rules.rate_for(
                vendor=vendor, channel_id=channel_id, variant=variant
            )
        return rate

    def terms_of(self, vendor: DropshipProvider) -> LineTerms:
        terms = self.terms.get(vendor.id)
        if terms is None:
            terms = self.terms[vendor.id] = LineTerms(
                method=vendor.commission_method,
                base=vendor.commission_rate_base,
                discount_split=vendor.commission_rate_discount_split,
            )
        return terms


def _invoice_line(
    item: _Item,
    sale_item: _SaleLine,
    quantity: int,
    vendor: DropshipProvider,
    sale: _Sale,
    pricing: _Pricing,
) -> dict[str, Any]:
    rate = pricing.rate(vendor, sale.channel_id, item.variant_id)
    terms = pricing.terms_of(vendor)
    price = sale_item.price or Decimal(0)
    discount = sale_item.discount * quantity / sale_item.quantity
    amounts = line_amounts(
        price=price,
        quantity=quantity,
        discount=discount,
        cost_price=item.cost_price,
        rate=rate,
        terms=terms,
        currency=sale.currency,
    )
    return {
        "purchase_item_id": item.id,
        "sale_item_id": sale_item.id,
        "sku": sale_item.sku,
        "quantity": quantity,
        "price": price,
        "net": amounts.net,
        "commission": amounts.commission,
        "payable": amounts.payable,
        "rate": rate.rate,
        "rate_type": rate.rate_type,
        "rate_base": terms.base,
        "rate_source": rate.source,
        "commission_method": terms.method,
        "credited_line_id": None,
        "credit_reason": None,
    }


def _cumulative(amount: Decimal, done: int, more: int, whole: int, currency: str) -> Decimal:
    """The share of `amount` that `more` units carry after `done` of `whole` were taken:
    shares rounded cumulatively, so crediting every unit gives back exactly `amount`."""
    after = (
        amount if done + more >= whole else round_money(amount * (done + more) / whole, currency)
    )
    before = round_money(amount * done / whole, currency) if done else Decimal(0)
    return after - before


def _credit_lines(
    item: _Item,
    standing: _Standing,
    units: int,
    for_returns: int,
    vendor: DropshipProvider,
    currency: str,
) -> Iterable[dict[str, Any]]:
    """Credit `units` of `item`, newest invoice line first; the first `for_returns` are returns
    (with the return penalty on, the merchant keeps their commission)."""
    penalty = vendor.apply_return_penalty == ReturnPenalty.enabled
    for line in reversed(standing.lines):
        if units == 0:
            return
        done = standing.credited[line.id]
        take = min(units, line.quantity - done)
        if take <= 0:
            continue
        returns_here = min(take, for_returns)
        for count, reason in ((returns_here, CreditReason.return_), (take - returns_here, None)):
            if count == 0:
                continue
            net = _cumulative(line.net, done, count, line.quantity, currency)
            commission = _cumulative(line.commission, done, count, line.quantity, currency)
            payable = _cumulative(line.payable, done, count, line.quantity, currency)
            if penalty and reason == CreditReason.return_:
                commission = Decimal(0)
                payable = Decimal(0) if line.commission_method == CommissionMethod.reverse else net
            yield {
                "purchase_item_id": item.id,
                "sale_item_id": line.sale_item_id,
                "sku": line.sku,
                "quantity": -count,
                "price": line.price,
                "net": -net,
                "commission": -commission,
                "payable": -payable,
                "rate": line.rate,
                "rate_type": line.rate_type,
                "rate_base": line.rate_base,
                "rate_source": line.rate_source,
                "commission_method": line.commission_method,
                "credited_line_id": line.id,
                "credit_reason": reason or CreditReason.cancellation,
            }
            done += count
        standing.credited[line.id] = done
        units -= take
        for_returns -= returns_here
        if returns_here:
            standing.credited_for_returns += returns_here


def _shipping_share(sale: _Sale, purchase: _Purchase, vendor: DropshipProvider) -> Decimal:
    """The vendor's part of the shipping charged for its lines (their share of the sale's
    goods), less what the merchant keeps; under the reverse method, minus the merchant's part."""
    total = sum((Decimal(str(line.get("price") or 0)) for line in sale.shipping), start=Decimal(0))
    if not total:
        return Decimal(0)
    goods = sum(((i.price or Decimal(0)) * i.quantity for i in sale.items), start=Decimal(0))
    own_ids = {item.sale_item_id for item in purchase.items}
    own = sum(
        ((i.price or Decimal(0)) * i.quantity for i in sale.items if i.id in own_ids),
        start=Decimal(0),
    )
    charged = total * own / goods if goods else total
    kept = charged * vendor.commission_rate_shipping / HUNDRED
    if vendor.commission_method == CommissionMethod.reverse:
        return -round_money(kept, sale.currency)
    return round_money(charged - kept, sale.currency)


def _refresh_items(
    session: Session, purchases: Sequence[_Purchase], targets: dict[int, int]
) -> list[tuple[Table, list[dict[str, Any]]]]:
    """Units invoiced and invoice statuses of the purchase items and orders that change, as
    rows per table for `_write`; the session's objects of those rows, if it holds any, learn
    the new values as committed."""
    item_rows = []
    purchase_rows = []
    for purchase in purchases:
        invoiced = due = 0
        for item in purchase.items:
            quantity = targets.get(item.id, item.quantity_invoiced)
            status = _status(quantity, item.quantity - item.quantity_cancelled)
            if (quantity, status) != (item.quantity_invoiced, item.invoice_status):
                item_rows.append(
                    {"id": item.id, "quantity_invoiced": quantity, "invoice_status": status}
                )
                item.quantity_invoiced, item.invoice_status = quantity, status
            invoiced += quantity
            due += item.quantity - item.quantity_cancelled
        status = _status(invoiced, due)
        if status != purchase.invoice_status:
            purchase_rows.append({"id": purchase.id, "invoice_status": status})
            purchase.invoice_status = status
    written = {
        (model, row["id"]): row
        for model, rows in ((PurchaseItem, item_rows), (Purchase, purchase_rows))
        for row in rows
    }
    for key in list(session.identity_map.keys()) if written else ():
        row = written.get((key[0], key[1][0]))
        held = session.identity_map.get(key) if row is not None else None
        if row is not None and held is not None:
            for name, value in row.items():
                set_committed_value(held, name, value)
    updates = ((PURCHASE_ITEMS, item_rows), (PURCHASES, purchase_rows))
    return [(table, rows) for table, rows in updates if rows]


def _status(invoiced: int, due: int) -> InvoiceStatus:
    if invoiced <= 0:
        return InvoiceStatus.not_invoiced
    return InvoiceStatus.invoiced if invoiced >= due else InvoiceStatus.partially_invoiced


def _write(
    session: Session,
    drafts: Sequence[_Draft],
    now: datetime,
    *,
    updates: Sequence[tuple[Table, list[dict[str, Any]]]],
) -> list[VendorInvoice]:
    """Insert the drafts as invoices with their lines, post each to the ledger, and make the
    `updates` (rows by id). On PostgreSQL the lines and updates ride in the ledger's statement
    (`ledger.post`): a shipment's invoicing writes with two statements."""
    ride = (
        session.get_bind().dialect.name == "postgresql"
        and 0 < len(drafts) <= ENTRIES_WITH_MOVES
        and sum(len(draft.lines) for draft in drafts) <= _LINES_RIDING
    )
    if not ride:
        for table, rows in updates:
            update_rows(session.connection(), table, rows)
    if not drafts:
        return []
    invoices = []
    for draft in drafts:
        draft.purchase.invoices_so_far += 1
        letter = "I" if draft.type == InvoiceType.invoice else "C"
        amounts = LineAmounts(
            net=sum((line["net"] for line in draft.lines), start=Decimal(0)),
            commission=sum((line["commission"] for line in draft.lines), start=Decimal(0)),
            payable=sum((line["payable"] for line in draft.lines), start=Decimal(0))
            + draft.shipping,
        )
        invoices.append(
            new_row(
                VendorInvoice,
                reference=f"{draft.purchase.external_reference}-{letter}{draft.purchase.invoices_so_far:02d}",
                dropship_provider_id=draft.vendor.id,
                purchase_id=draft.purchase.id,
                sale_id=draft.sale.id,
                type=draft.type,
                currency=draft.sale.currency,
                net=amounts.net,
                commission=amounts.commission,
                shipping=draft.shipping,
                payable=amounts.payable,
                issued_at=now,
                payable_at=now + timedelta(days=draft.vendor.payment_delay_days),
                credited_invoice_id=draft.credited_invoice_id,
            )
        )
    insert_all(session, objects=invoices)
    lines = []
    for draft, invoice in zip(drafts, invoices, strict=True):
        for line in draft.lines:
            line["invoice_id"] = invoice.id
            lines.append(line)
    riders: list[Write] = []
    if ride:
        dialect = session.get_bind().dialect
        riders = [
            update_write(dialect, table, rows, prefix=f"update{n}_")
            for n, (table, rows) in enumerate(updates)
        ]
        riders += [insert_write(dialect, LINES, lines, prefix="line_")] if lines else []
    else:
        insert_rows(session.connection(), LINES, lines)
    post(
        session,
        entries=[
            new_row(
                LedgerEntry,
                dropship_provider_id=invoice.dropship_provider_id,
                currency=invoice.currency,
                kind=EntryKind.invoice if invoice.type == InvoiceType.invoice else EntryKind.credit,
                amount=invoice.payable,
                invoice_id=invoice.id,
                created_at=now,
            )
            for invoice in invoices
        ],
        riders=riders,
    )
    return invoices


_LINES_RIDING = 100  # more go in their own statement (`insert_rows`: one text for any count)
