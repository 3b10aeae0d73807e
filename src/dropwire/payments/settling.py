"""Paying vendors: a payment takes a vendor's open, payable invoices and credits of one currency
and is recorded in the ledger at once; the money moves by its method's source.

Claiming is the guard against paying twice: the vendor's balance row in that currency is locked
first (every payer of that vendor and currency queues there), then the invoices are read again
and must still be open with no payment. A Stripe payment stays `pending` until its transfer is
answered; the transfer is made by the worker's poller (`payments.transfers`), with the
payment's id as Stripe's Idempotency-Key, so a retry after a crash finds the transfer already
made instead of making a second one.
"""

from collections.abc import Collection, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dropwire.core.errors import Invalid
from dropwire.core.expressions import among
from dropwire.core.inserts import new_row
from dropwire.core.time import utcnow
from dropwire.core.unit_of_work import call_after_commit
from dropwire.jobs import wakeup
from dropwire.payments.errors import InvoicesNotPayable, NotPositive, PaymentMethodUnusable
from dropwire.payments.invoicing import loaded_or_fetched
from dropwire.payments.ledger import lock_balance, post
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
from dropwire.payments.status import refresh_payment_status
from dropwire.payments.webhooks import payment_settled
from dropwire.sales.models import Purchase
from dropwire.vendors.models import DropshipProvider


def _payable_invoices(
    session: Session, *, vendor: DropshipProvider, invoice_ids: Sequence[int], field: str
) -> list[VendorInvoice]:
    """The named invoices, locked, after checking each may be paid now by this vendor."""
    wanted = sorted(set(invoice_ids))
    found = {
        invoice.id: invoice
        for invoice in session.scalars(
            select(VendorInvoice)
            .where(among(session, column=VendorInvoice.id, values=wanted))
            .order_by(VendorInvoice.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    }
    now = utcnow()
    problems = []
    for invoice_id in wanted:
        invoice = found.get(invoice_id)
        if invoice is None or invoice.dropship_provider_id != vendor.id:
            problems.append(f"invoice {invoice_id} is not this vendor's")
        elif invoice.status != InvoiceState.open or invoice.payment_id is not None:
            problems.append(f"invoice {invoice_id} is not open (already paid or being paid)")
        elif invoice.payable_at > now:
            problems.append(
                f"invoice {invoice_id} is not payable before {invoice.payable_at:%Y-%m-%d}"
            )
    if problems:
        raise InvoicesNotPayable(field, problems)
    currencies = {invoice.currency for invoice in found.values()}
    if len(currencies) > 1:
        raise InvoicesNotPayable(field, [f"the invoices mix currencies {sorted(currencies)}"])
    return [found[invoice_id] for invoice_id in wanted]


def claim(
    session: Session,
    *,
    vendor: DropshipProvider,
    invoice_ids: Sequence[int],
    additional_amount: Decimal = Decimal(0),
    method: PaymentMethod | None = None,
    source: PaymentSource | None = None,
    name: str | None = None,
    reference: str | None = None,
    payout_run: str | None = None,
    field: str = "toPay",
) -> Payment:
    """A payment of these invoices, recorded now: pending for Stripe (its transfer is queued),
    complete for any other source (the money moved outside Dropwire)."""
    first = session.scalar(
        select(VendorInvoice.currency).where(
            among(session, column=VendorInvoice.id, values=invoice_ids)
        )
    )
    if first is None:
        raise InvoicesNotPayable(field, [f"no invoice {sorted(set(invoice_ids))} exists"])
    lock_purchases(session, column=VendorInvoice.id, values=invoice_ids)
    lock_balance(session, vendor_id=vendor.id, currency=first)
    invoices = _payable_invoices(session, vendor=vendor, invoice_ids=invoice_ids, field=field)
    source = source or (method.source if method is not None else PaymentSource.manual)
    if source == PaymentSource.stripe and not vendor.stripe_id:
        raise PaymentMethodUnusable("paymentMethodId", "the vendor has no stripeId to pay into")
    amount = sum((invoice.payable for invoice in invoices), start=Decimal(0)) + additional_amount
    if amount <= 0:
        raise NotPositive(
            field, f"the amount would be {amount}: credits exceed the invoices (carried forward)"
        )
    payment = Payment(
        dropship_provider_id=vendor.id,
        payment_method_id=method.id if method is not None else None,
        source=source,
        name=name,
        status=PaymentState.pending,
        currency=first,
        amount=amount,
        additional_amount=additional_amount,
        invoice_ids=[invoice.id for invoice in invoices],
        reference=reference,
        payout_run=payout_run,
    )
    session.add(payment)
    session.flush()
    session.execute(
        update(VendorInvoice)
        .where(among(session, column=VendorInvoice.id, values=payment.invoice_ids))
        .values(payment_id=payment.id)
        .execution_options(synchronize_session="fetch")
    )
    post(
        session,
        entries=[
            new_row(
                LedgerEntry,
                dropship_provider_id=vendor.id,
                currency=payment.currency,
                kind=EntryKind.payment,
                amount=-amount,
                payment_id=payment.id,
                created_at=utcnow(),
            )
        ],
    )
    if source == PaymentSource.stripe:
        queue_transfer(session, payment=payment)
    else:
        complete(session, payment=payment, external_id=reference)
    return payment


def lock_purchases(session: Session, *, column: Any, values: Collection[int]) -> None:
    """Lock the purchase orders of the invoices whose `column` (id or payment) is among
    `values`, in id order. Purchase orders first, then balances and invoices: the order a
    shipment takes them in (it changes its order, then invoices it into the balance), so the
    two never wait on each other."""
    session.execute(
        select(Purchase.id)
        .where(
            Purchase.id.in_(
                select(VendorInvoice.purchase_id).where(
                    among(session, column=column, values=list(values))
                )
            )
        )
        .order_by(Purchase.id)
        .with_for_update()
    ).all()


def queue_transfer(session: Session, *, payment: Payment) -> None:
    """A new Stripe payment is due now (`payments.transfers` sends it); this process's
    workers look once it commits."""
    payment.transfer_due_at = utcnow()
    call_after_commit(session, key="payments.transfers", callback=wakeup.notify)


def complete(session: Session, *, payment: Payment, external_id: str | None) -> None:
    """The money reached the vendor: the invoices are paid."""
    complete_all(session, made=[(payment, external_id)])


def complete_all(session: Session, *, made: Sequence[tuple[Payment, str | None]]) -> None:
    """`complete` for many payments, with one statement per table."""
    if not made:
        return
    now = utcnow()
    for payment, external_id in made:
        payment.status = PaymentState.complete
        payment.external_id = external_id
        payment.completed_at = now
        payment.transfer_due_at = None
        payment.error = None
    session.execute(
        update(VendorInvoice)
        .where(among(session, column=VendorInvoice.payment_id, values=[p.id for p, _ in made]))
        .values(status=InvoiceState.paid, paid_at=now)
        .execution_options(synchronize_session="fetch")
    )
    session.flush()
    refresh_payment_status(
        session, invoice_ids=[i for payment, _ in made for i in payment.invoice_ids]
    )
    loaded_or_fetched(
        session, model=DropshipProvider, ids={p.dropship_provider_id for p, _ in made}
    )
    for payment, _ in made:
        payment_settled(session, payment=payment)


def fail(session: Session, *, payment: Payment, error: str) -> None:
    """The money did not move: the ledger gets the amount back and the invoices are open to be
    paid again (by another payment, with another id)."""
    payment.status = PaymentState.error
    payment.error = error[:2000]
    payment.transfer_due_at = None
    session.execute(
        update(VendorInvoice)
        .where(VendorInvoice.payment_id == payment.id)
        .values(payment_id=None)
        .execution_options(synchronize_session="fetch")
    )
    post(
        session,
        entries=[
            new_row(
                LedgerEntry,
                dropship_provider_id=payment.dropship_provider_id,
                currency=payment.currency,
                kind=EntryKind.payment_failed,
                amount=payment.amount,
                payment_id=payment.id,
                note=payment.error,
                created_at=utcnow(),
            )
        ],
    )
    session.flush()
    payment_settled(session, payment=payment)


def settle_invoices(
    session: Session, *, vendor: DropshipProvider, invoice_ids: Sequence[int], reference: str | None
) -> Payment:
    """Invoices paid outside Dropwire: recorded as one complete manual payment."""
    return claim(
        session,
        vendor=vendor,
        invoice_ids=invoice_ids,
        source=PaymentSource.manual,
        reference=reference,
        name=reference,
        field="invoiceIds",
    )


def method_for(
    session: Session, *, method_id: int | None, vendor: DropshipProvider
) -> PaymentMethod | None:
    """The method named in the request, else the vendor's own, else none (recorded manual)."""
    chosen = method_id if method_id is not None else vendor.payment_method_id
    if chosen is None:
        return None
    method = session.get(PaymentMethod, chosen)
    if method is None:
        raise Invalid("paymentMethodId", f"payment method {chosen} does not exist")
    return method
