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
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from dropwire.core.expressions import among
from dropwire.core.inserts import insert_all, new_row, update_rows
from dropwire.core.time import utcnow
from dropwire.core.unit_of_work import call_after_commit
from dropwire.jobs import wakeup
from dropwire.payments.invoicing import loaded_or_fetched
from dropwire.payments.ledger import lock_balances, post
from dropwire.payments.models import (
    EntryKind,
    InvoiceState,
    LedgerEntry,
    Payment,
    PaymentMethod,
    PaymentSource,
    PaymentState,
    VendorInvoice,
)
from dropwire.payments.settling import complete_all, lock_purchases
from dropwire.vendors.models import DropshipProvider, PaymentSchedule

INVOICES = cast(Table, VendorInvoice.__table__)


def payable_now(
    session: Session, *, vendor_ids: Collection[int] | None, now: datetime
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
        statement = statement.where(
            among(session, column=VendorInvoice.dropship_provider_id, values=vendor_ids)
        )
    grouped: dict[tuple[int, str], list[tuple[int, Decimal]]] = defaultdict(list)
    for vendor_id, currency, invoice_id, payable in session.execute(statement):
        grouped[(vendor_id, currency)].append((invoice_id, payable))
    return grouped


def run_payouts(
    session: Session, *, vendor_ids: Collection[int] | None = None, run: str | None = None
) -> tuple[str, list[Payment]]:
    """Pay every vendor (or those named) what is payable now; returns the run's id and its
    payments. Set-based: the orders, balances and invoices of every vendor are locked with one
    statement each (in the order every payer takes them), the invoices read again under the
    lock (those another payer took meanwhile are left to it), and the payments, the invoices'
    claims and the ledger entries written with one statement each."""
    run = run or uuid.uuid4().hex[:16]
    now = utcnow()
    grouped = payable_now(session, vendor_ids=vendor_ids, now=now)
    invoice_ids = [invoice_id for invoices in grouped.values() for invoice_id, _ in invoices]
    if not invoice_ids:
        return run, []
    lock_purchases(session, column=VendorInvoice.id, values=invoice_ids)
    lock_balances(session, keys=grouped)
    still = {
        row.id: row.payable
        for row in session.execute(
            select(VendorInvoice.id, VendorInvoice.payable)
            .where(among(session, column=VendorInvoice.id, values=invoice_ids))
            .where(VendorInvoice.status == InvoiceState.open, VendorInvoice.payment_id.is_(None))
            .order_by(VendorInvoice.id)
            .with_for_update()
        )
    }
    vendors = loaded_or_fetched(
        session, model=DropshipProvider, ids={vendor for vendor, _ in grouped}
    )
    methods = loaded_or_fetched(
        session,
        model=PaymentMethod,
        ids={v.payment_method_id for v in vendors.values() if v.payment_method_id is not None},
    )
    payments = []
    for (vendor_id, currency), invoices in sorted(grouped.items()):
        taken = [invoice_id for invoice_id, _ in invoices if invoice_id in still]
        amount = sum((still[invoice_id] for invoice_id in taken), start=Decimal(0))
        if amount <= 0:
            continue  # credits outweigh: carried forward (or another payer took them)
        vendor = vendors[vendor_id]
        method = methods.get(vendor.payment_method_id) if vendor.payment_method_id else None
        source = method.source if method is not None else PaymentSource.manual
        if source == PaymentSource.stripe and not vendor.stripe_id:
            continue  # cannot be paid this way: left for a payment it can take
        payments.append(
            new_row(
                Payment,
                dropship_provider_id=vendor_id,
                payment_method_id=method.id if method is not None else None,
                source=source,
                name=f"Payout {run}",
                status=PaymentState.pending,
                currency=currency,
                amount=amount,
                additional_amount=Decimal(0),
                invoice_ids=taken,
                payout_run=run,
                transfer_due_at=now if source == PaymentSource.stripe else None,
                transfer_attempts=0,
            )
        )
    if not payments:
        return run, []
    insert_all(session, objects=payments)
    update_rows(
        session.connection(),
        INVOICES,
        [{"id": i, "payment_id": p.id} for p in payments for i in p.invoice_ids],
    )
    post(
        session,
        entries=[
            new_row(
                LedgerEntry,
                dropship_provider_id=p.dropship_provider_id,
                currency=p.currency,
                kind=EntryKind.payment,
                amount=-p.amount,
                payment_id=p.id,
                created_at=now,
            )
            for p in payments
        ],
    )
    complete_all(session, made=[(p, None) for p in payments if p.source != PaymentSource.stripe])
    if any(p.source == PaymentSource.stripe for p in payments):
        call_after_commit(session, key="payments.transfers", callback=wakeup.notify)
    return run, payments


def run_csv(session: Session, *, run: str) -> str:
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
