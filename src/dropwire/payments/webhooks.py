"""Outbound events of the money domain, to the vendor's endpoint (its `orderEndpoint`), written
in the transaction that raises the invoice or settles the payment; a vendor that takes its
purchase orders by email gets them as emails too (`payments.notices`)."""

from collections.abc import Sequence

from sqlalchemy.orm import Session

from dropwire.delivery import outbox
from dropwire.delivery.kinds import EventKind
from dropwire.payments.invoicing import loaded_or_fetched
from dropwire.payments.models import Payment, PaymentState, VendorInvoice
from dropwire.payments.notices import email_invoice, email_payment
from dropwire.payments.schemas import InvoiceRead, PaymentRead
from dropwire.vendors.models import DropshipProvider

INVOICE_CREATED = "invoice.created"
PAYMENT_COMPLETED = "payment.completed"
PAYMENT_FAILED = "payment.failed"
EVENT_KINDS = tuple(
    EventKind(name) for name in (INVOICE_CREATED, PAYMENT_COMPLETED, PAYMENT_FAILED)
)


def invoices_created(session: Session, *, invoices: Sequence[VendorInvoice]) -> None:
    """`invoice.created` for each invoice or credit whose vendor has an endpoint."""
    if not invoices:
        return
    vendors = loaded_or_fetched(
        session, model=DropshipProvider, ids={i.dropship_provider_id for i in invoices}
    )
    for invoice in invoices:
        vendor = vendors.get(invoice.dropship_provider_id)
        if vendor is None:
            continue
        email_invoice(session, invoice=invoice, vendor=vendor)
        if not vendor.order_endpoint:
            continue
        outbox.record(
            session,
            event=INVOICE_CREATED,
            url=vendor.order_endpoint,
            body={
                "event": "created",
                "invoice": InvoiceRead.model_validate(invoice).model_dump(
                    mode="json", by_alias=True
                ),
            },
            subject_type="vendor_invoice",
            subject_id=invoice.id,
            dropship_provider_id=vendor.id,
            hash_header=vendor.webhook_secret,
        )


def payment_settled(session: Session, *, payment: Payment) -> None:
    """`payment.completed` or `payment.failed`, once the payment reached that state."""
    if payment.status not in (PaymentState.complete, PaymentState.error):
        return
    vendor = session.get(DropshipProvider, payment.dropship_provider_id)
    if vendor is None:
        return
    email_payment(session, payment=payment, vendor=vendor)
    if not vendor.order_endpoint:
        return
    completed = payment.status == PaymentState.complete
    outbox.record(
        session,
        event=PAYMENT_COMPLETED if completed else PAYMENT_FAILED,
        url=vendor.order_endpoint,
        body={
            "event": "completed" if completed else "failed",
            "payment": PaymentRead.model_validate(payment).model_dump(mode="json", by_alias=True),
        },
        subject_type="payment",
        subject_id=payment.id,
        dropship_provider_id=vendor.id,
        hash_header=vendor.webhook_secret,
    )
