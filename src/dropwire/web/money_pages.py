"""What the money pages read: amounts owed per vendor and currency, a sale's margin, and the
overview's money alerts. Read-only queries over the payments domain's tables; every figure is
per currency (never converted)."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from dropwire.payments.models import (
    InvoiceState,
    InvoiceType,
    Payment,
    PaymentState,
    VendorBalance,
    VendorInvoice,
    VendorInvoiceLine,
)
from dropwire.payments.payouts import payable_now
from dropwire.sales.models import PurchaseItem, Sale
from dropwire.vendors.models import DropshipProvider


@dataclass(frozen=True)
class Owed:
    vendor_id: int
    vendor: str
    currency: str
    pending: Decimal  # raised, inside the vendor's payment delay
    payable_now: Decimal  # open, unclaimed and due: what a payout run would pay
    balance: Decimal  # everything owed (negative: carried forward)
    paid: Decimal


def owed(session: Session, *, now: datetime, vendor_ids: Sequence[int] | None = None) -> list[Owed]:
    """Per vendor and currency with a balance, what is owed; by vendor name."""
    statement = (
        select(VendorBalance, DropshipProvider.name)
        .join(DropshipProvider, DropshipProvider.id == VendorBalance.dropship_provider_id)
        .order_by(DropshipProvider.name, VendorBalance.currency)
    )
    if vendor_ids is not None:
        statement = statement.where(VendorBalance.dropship_provider_id.in_(list(vendor_ids)))
    pending = {
        (vendor_id, currency): Decimal(total or 0)
        for vendor_id, currency, total in session.execute(
            select(
                VendorInvoice.dropship_provider_id,
                VendorInvoice.currency,
                func.sum(VendorInvoice.payable),
            )
            .where(
                VendorInvoice.status == InvoiceState.open,
                VendorInvoice.payment_id.is_(None),
                VendorInvoice.payable_at > now,
            )
            .group_by(VendorInvoice.dropship_provider_id, VendorInvoice.currency)
        )
    }
    due = {
        key: sum((payable for _id, payable in invoices), start=Decimal(0))
        for key, invoices in payable_now(session, vendor_ids=vendor_ids, now=now).items()
    }
    rows = []
    for balance, name in session.execute(statement):
        key = (balance.dropship_provider_id, balance.currency)
        if not balance.owed and not balance.paid and key not in due:
            continue
        rows.append(
            Owed(
                vendor_id=balance.dropship_provider_id,
                vendor=name,
                currency=balance.currency,
                pending=pending.get(key, Decimal(0)),
                payable_now=due.get(key, Decimal(0)),
                balance=balance.owed,
                paid=balance.paid,
            )
        )
    return rows


def totals_by_currency(rows: Sequence[Owed]) -> dict[str, Decimal]:
    """What paying these rows would pay, per currency (rows whose credits outweigh: nothing)."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        if row.payable_now > 0:
            totals[row.currency] += row.payable_now
    return dict(sorted(totals.items()))


def payments(vendor_id: int | None = None, run: str | None = None) -> Select[Payment, str]:
    """Payments, newest first, with their vendor's name."""
    statement = (
        select(Payment, DropshipProvider.name.label("vendor"))
        .join(DropshipProvider, DropshipProvider.id == Payment.dropship_provider_id)
        .order_by(Payment.id.desc())
    )
    if vendor_id is not None:
        statement = statement.where(Payment.dropship_provider_id == vendor_id)
    if run is not None:
        statement = statement.where(Payment.payout_run == run)
    return statement


def invoices(vendor_id: int) -> Select[Any]:
    """A vendor's invoices and credits, newest first."""
    return (
        select(VendorInvoice)
        .where(VendorInvoice.dropship_provider_id == vendor_id)
        .order_by(VendorInvoice.id.desc())
    )


@dataclass(frozen=True)
class Margin:
    """A sale's margin in its currency: what the customer pays (goods kept and shipping
    charged), less what its vendors are owed for the goods and their share of the shipping,
    as invoiced (credits subtract)."""

    currency: str
    retail: Decimal
    vendor_payable: Decimal
    shipping_share: Decimal
    units_not_invoiced: int  # dropship units kept but not invoiced yet (not in the figures)

    @property
    def margin(self) -> Decimal:
        return self.retail - self.vendor_payable - self.shipping_share


def margin(session: Session, *, sale: Sale) -> Margin | None:
    """The sale's margin; None for a sale without a dropship purchase order."""
    if not any(p.dropship_provider_id is not None for p in sale.purchases):
        return None
    goods = sum(
        (
            (line.price or Decimal(0))
            * (line.quantity - line.quantity_cancelled - line.quantity_returned)
            for line in sale.items
        ),
        start=Decimal(0),
    )
    charged = sum(
        (Decimal(str(s.get("price") or 0)) for s in sale.shipping),
        start=Decimal(0),
    )
    payable, shipping = session.execute(
        select(
            func.coalesce(func.sum(VendorInvoice.payable - VendorInvoice.shipping), 0),
            func.coalesce(func.sum(VendorInvoice.shipping), 0),
        ).where(VendorInvoice.sale_id == sale.id)
    ).one()
    waiting = sum(
        max(0, item.quantity - item.quantity_cancelled - item.quantity_invoiced)
        for purchase in sale.purchases
        if purchase.dropship_provider_id is not None
        for item in purchase.items
    )
    return Margin(sale.currency, goods + charged, Decimal(payable), Decimal(shipping), waiting)


@dataclass(frozen=True)
class LineAlert:
    invoice_id: int
    invoice: str
    vendor: str
    sale_id: int
    sku: str | None
    currency: str
    net: Decimal
    commission: Decimal
    problem: str


@dataclass
class MoneyAlerts:
    lines: list[LineAlert] = field(default_factory=list)
    lines_total: int = 0
    failed: list[Any] = field(default_factory=list)
    failed_total: int = 0

    def __bool__(self) -> bool:
        return bool(self.lines_total or self.failed_total)


ALERTS_SHOWN = 10


def alerts(session: Session) -> MoneyAlerts:
    """Invoiced lines with no cost price or a margin (their commission) of zero or less, and
    failed payments: a few of each, newest first, with how many there are."""
    no_cost = PurchaseItem.cost_price.is_(None)
    no_margin = VendorInvoiceLine.commission <= 0
    problem_lines = (
        select(
            VendorInvoice.id,
            VendorInvoice.reference,
            DropshipProvider.name,
            VendorInvoice.sale_id,
            VendorInvoiceLine.sku,
            VendorInvoice.currency,
            VendorInvoiceLine.net,
            VendorInvoiceLine.commission,
            no_cost.label("no_cost"),
        )
        .join(VendorInvoice, VendorInvoice.id == VendorInvoiceLine.invoice_id)
        .join(PurchaseItem, PurchaseItem.id == VendorInvoiceLine.purchase_item_id)
        .join(DropshipProvider, DropshipProvider.id == VendorInvoice.dropship_provider_id)
        .where(
            VendorInvoice.type == InvoiceType.invoice,
            VendorInvoiceLine.credited_line_id.is_(None),
            or_(no_cost, no_margin),
        )
    )
    found = MoneyAlerts()
    found.lines_total = (
        session.scalar(select(func.count()).select_from(problem_lines.subquery())) or 0
    )
    for row in session.execute(
        problem_lines.order_by(VendorInvoiceLine.id.desc()).limit(ALERTS_SHOWN)
    ):
        problems = []
        if row.no_cost:
            problems.append("no cost price")
        if row.commission <= 0:
            problems.append("zero margin" if row.commission == 0 else "negative margin")
        found.lines.append(
            LineAlert(
                row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], ", ".join(problems)
            )
        )
    failed = select(Payment.id).where(Payment.status == PaymentState.error)
    found.failed_total = session.scalar(select(func.count()).select_from(failed.subquery())) or 0
    if found.failed_total:
        found.failed = list(
            session.execute(
                payments().where(Payment.status == PaymentState.error).limit(ALERTS_SHOWN)
            )
        )
    return found
