"""Commission rules, invoices and balances as the API reads and changes them."""

import csv
import io
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from dropwire.auth.scope import one_visible, visible_to
from dropwire.auth.service import Principal
from dropwire.channels.models import Channel
from dropwire.core.errors import Invalid, NotFound
from dropwire.core.time import utcnow
from dropwire.payments.errors import NothingToInvoice
from dropwire.payments.invoicing import invoice_purchases
from dropwire.payments.models import (
    CommissionRule,
    InvoiceState,
    Payment,
    PaymentMethod,
    VendorBalance,
    VendorInvoice,
)
from dropwire.payments.schemas import (
    CommissionRuleCreate,
    CommissionRuleUpdate,
    PaymentMethodCreate,
    PaymentMethodUpdate,
)
from dropwire.payments.webhooks import invoices_created
from dropwire.sales.models import Purchase
from dropwire.vendors.models import DropshipProvider, RateType

# Commission rules


def _check_rule(session: Session, rule: CommissionRule) -> None:
    with session.no_autoflush:  # an edited rule naming a missing record must not flush first
        _check_references(session, rule)


def _check_references(session: Session, rule: CommissionRule) -> None:
    if rule.dropship_provider_id is not None and (
        session.get(DropshipProvider, rule.dropship_provider_id) is None
    ):
        raise Invalid(
            "dropshipProviderId", f"dropship provider {rule.dropship_provider_id} does not exist"
        )
    if rule.channel_id is not None and session.get(Channel, rule.channel_id) is None:
        raise Invalid("channelId", f"channel {rule.channel_id} does not exist")
    if rule.dropship_provider_id is None and rule.channel_id is None and rule.tag is None:
        raise Invalid("tag", "a rule names a tag, a channel or a dropshipProviderId")


def create_rule(session: Session, *, data: CommissionRuleCreate) -> CommissionRule:
    rule = CommissionRule(**data.model_dump(exclude_none=True))
    rule.commission_rate_type = data.commission_rate_type or RateType.percentage
    _check_rule(session, rule)
    session.add(rule)
    session.flush()
    return rule


def get_rule(session: Session, *, rule_id: int) -> CommissionRule:
    rule = session.get(CommissionRule, rule_id)
    if rule is None:
        raise NotFound("Commission rule", rule_id)
    return rule


def update_rule(
    session: Session, *, rule: CommissionRule, data: CommissionRuleUpdate
) -> CommissionRule:
    """A changed rule applies to lines invoiced from now on; invoiced lines keep their rate."""
    for name, value in data.changes().items():
        if value is None and name in ("commission_rate", "commission_rate_type"):
            continue
        setattr(rule, name, value)
    _check_rule(session, rule)
    session.flush()
    return rule


def delete_rule(session: Session, *, rule: CommissionRule) -> None:
    session.delete(rule)
    session.flush()


# Invoices


def invoices_visible(principal: Principal | None) -> Select[VendorInvoice]:
    return visible_to(select(VendorInvoice), principal, VendorInvoice.dropship_provider_id)


def get_invoice(
    session: Session, *, invoice_id: int, principal: Principal | None = None
) -> VendorInvoice:
    statement = invoices_visible(principal).where(VendorInvoice.id == invoice_id)
    return one_visible(session, statement=statement, what="Purchase invoice", record_id=invoice_id)


def invoice_on_request(session: Session, *, purchase: Purchase) -> list[VendorInvoice]:
    """`POST /purchases/{id}/invoice.json`: the shipped units not yet invoiced, now."""
    if purchase.dropship_provider_id is None:
        raise Invalid("purchaseId", "an in-house purchase order has no vendor to invoice")
    raised = invoice_purchases(session, purchase_ids=[purchase.id], on_request=True)
    if not raised:
        raise NothingToInvoice()
    invoices_created(session, invoices=raised)
    return raised


# Balances


def balances(
    session: Session, *, vendor_id: int, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Per currency: pending (open, inside the delay), payable (the rest of what is owed, which
    may be negative and is carried forward) and paid."""
    now = now or utcnow()
    pending = dict(
        session.execute(
            select(VendorInvoice.currency, func.sum(VendorInvoice.payable))
            .where(
                VendorInvoice.dropship_provider_id == vendor_id,
                VendorInvoice.status == InvoiceState.open,
                VendorInvoice.payment_id.is_(None),
                VendorInvoice.payable_at > now,
            )
            .group_by(VendorInvoice.currency)
        ).all()
    )
    rows = session.scalars(
        select(VendorBalance)
        .where(VendorBalance.dropship_provider_id == vendor_id)
        .order_by(VendorBalance.currency)
    )
    result = []
    for row in rows:
        waiting = Decimal(pending.get(row.currency) or 0)
        result.append(
            {
                "currency": row.currency,
                "pending": waiting,
                "payable": row.owed - waiting,
                "paid": row.paid,
            }
        )
    return result


# Payment methods


def create_method(session: Session, *, data: PaymentMethodCreate) -> PaymentMethod:
    method = PaymentMethod(name=data.name, source=data.source)
    session.add(method)
    session.flush()
    return method


def get_method(session: Session, *, method_id: int) -> PaymentMethod:
    method = session.get(PaymentMethod, method_id)
    if method is None:
        raise NotFound("Payment method", method_id)
    return method


def update_method(
    session: Session, *, method: PaymentMethod, data: PaymentMethodUpdate
) -> PaymentMethod:
    for name, value in data.changes().items():
        if value is not None:
            setattr(method, name, value)
    session.flush()
    return method


def delete_method(session: Session, *, method: PaymentMethod) -> None:
    session.delete(method)
    session.flush()


# Payments


def payments_visible(principal: Principal | None) -> Select[Payment]:
    return visible_to(select(Payment), principal, Payment.dropship_provider_id)


def get_payment(
    session: Session, *, payment_id: int, principal: Principal | None = None
) -> Payment:
    statement = payments_visible(principal).where(Payment.id == payment_id)
    return one_visible(session, statement=statement, what="Payment", record_id=payment_id)


def invoices_csv(session: Session, *, principal: Principal | None) -> str:
    """The caller's invoices and credits (a vendor: its own), newest first, as CSV."""
    rows = session.scalars(invoices_visible(principal).order_by(VendorInvoice.id.desc()))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "reference",
            "type",
            "status",
            "currency",
            "net",
            "commission",
            "shipping",
            "payable",
            "issuedAt",
            "payableAt",
            "paidAt",
            "paymentId",
        ]
    )
    for invoice in rows:
        writer.writerow(
            [
                invoice.reference,
                invoice.type,
                invoice.status,
                invoice.currency,
                f"{invoice.net:.2f}",
                f"{invoice.commission:.2f}",
                f"{invoice.shipping:.2f}",
                f"{invoice.payable:.2f}",
                invoice.issued_at.isoformat(),
                invoice.payable_at.isoformat(),
                invoice.paid_at.isoformat() if invoice.paid_at else "",
                invoice.payment_id or "",
            ]
        )
    return out.getvalue()


def payments_csv(session: Session, *, principal: Principal | None) -> str:
    """The caller's payments (a vendor: its own), newest first, as CSV."""
    rows = session.scalars(payments_visible(principal).order_by(Payment.id.desc()))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "status", "currency", "amount", "source", "externalId", "createdAt"])
    for payment in rows:
        writer.writerow(
            [
                payment.id,
                payment.status,
                payment.currency,
                f"{payment.amount:.2f}",
                payment.source,
                payment.external_id or "",
                payment.created_at.isoformat(),
            ]
        )
    return out.getvalue()
