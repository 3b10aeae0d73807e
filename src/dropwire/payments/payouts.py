"""Payout runs: every chosen vendor is paid its open, payable invoices and credits, one payment
per vendor and currency, by the vendor's payment method. Used by the payout-run endpoint and by
vendors' own `paymentSchedule`. A vendor whose credits outweigh its invoices is skipped: the
negative balance carries forward and is netted by a later run."""

import csv
import io
import uuid
from collections import defaultdict
from collections.abc import Collection
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from dropwire.core.errors import DomainError
from dropwire.core.expressions import among
from dropwire.core.time import utcnow
from dropwire.payments.models import InvoiceState, Payment, VendorInvoice
from dropwire.payments.settling import claim, method_for
from dropwire.vendors.models import DropshipProvider, PaymentSchedule


def payable_now(
    session: Session, vendor_ids: Collection[int] | None, now: datetime
) -> dict[tuple[int, str], list[tuple[int, Decimal]]]:
    """Per (vendor, currency) its open, unclaimed invoices and credits payable by `now`."""
    statement = (
        select(
            VendorInvoice.dropship_provider_id,
            VendorInvoice.currency,
            VendorInvoice.id,
            VendorInvoice.payable,
        )
        .where(
            VendorInvoice.status == InvoiceState.open,
            VendorInvoice.payment_id.is_(None),
            VendorInvoice.payable_at <= now,
        )
        .order_by(VendorInvoice.dropship_provider_id, VendorInvoice.id)
    )
    if vendor_ids is not None:
        statement = statement.where(among(session, VendorInvoice.dropship_provider_id, vendor_ids))
    grouped: dict[tuple[int, str], list[tuple[int, Decimal]]] = defaultdict(list)
    for vendor_id, currency, invoice_id, payable in session.execute(statement):
        grouped[(vendor_id, currency)].append((invoice_id, payable))
    return grouped


def run_payouts(
    session: Session, *, vendor_ids: Collection[int] | None = None, run: str | None = None
) -> tuple[str, list[Payment]]:
    """Pay every vendor (or those named) what is payable now; returns the run's id and its
    payments. Invoices another payer took meanwhile are left to it (the claim re-checks)."""
    run = run or uuid.uuid4().hex[:16]
    now = utcnow()
    grouped = payable_now(session, vendor_ids, now)
    vendors = {
        v.id: v
        for v in session.scalars(
            select(DropshipProvider).where(
                among(session, DropshipProvider.id, {vendor for vendor, _ in grouped})
            )
        )
    }
    payments = []
    for (vendor_id, _currency), invoices in sorted(grouped.items()):
        if sum((payable for _, payable in invoices), start=Decimal(0)) <= 0:
            continue  # credits outweigh: carried forward
        vendor = vendors[vendor_id]
        try:
            with session.begin_nested():
                payment = claim(
                    session,
                    vendor=vendor,
                    invoice_ids=[invoice_id for invoice_id, _ in invoices],
                    method=method_for(session, None, vendor),
                    name=f"Payout {run}",
                    payout_run=run,
                )
        except DomainError:
            continue  # taken by a concurrent payer, or the vendor cannot be paid this way
        payments.append(payment)
    return run, payments


def run_csv(session: Session, run: str) -> str:
    """The run's payments for a bank upload: vendor, bank reference, amount, currency."""
    rows = session.execute(
        select(Payment, DropshipProvider.name, DropshipProvider.external_id)
        .join(DropshipProvider, DropshipProvider.id == Payment.dropship_provider_id)
        .where(Payment.payout_run == run)
        .order_by(Payment.id)
    ).all()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["vendor", "vendorExternalId", "reference", "amount", "currency", "status"])
    for payment, name, external_id in rows:
        writer.writerow(
            [
                name,
                external_id or "",
                f"DW-{payment.id}",
                f"{payment.amount:.2f}",
                payment.currency,
                payment.status,
            ]
        )
    return out.getvalue()


def next_payout(schedule: PaymentSchedule, after: datetime) -> datetime | None:
    """When a vendor on `schedule` is next paid: the next midnight UTC, Monday, other Monday
    (even ISO weeks) or first of the month after `after`; None for manual."""
    midnight = after.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    if schedule == PaymentSchedule.daily:
        return midnight
    if schedule in (PaymentSchedule.weekly, PaymentSchedule.biweekly):
        monday = midnight + timedelta(days=(7 - midnight.weekday()) % 7)
        if schedule == PaymentSchedule.biweekly and monday.isocalendar().week % 2:
            monday += timedelta(days=7)
        return monday
    if schedule == PaymentSchedule.monthly:
        first = after.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        return (first + timedelta(days=32)).replace(day=1)
    return None
