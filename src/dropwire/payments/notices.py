"""Money notices by email: a vendor that takes its purchase orders by email
(`purchaseOrderDelivery` email) also gets an email when an invoice or credit note is raised for
it and when a payment to it went through or failed. Written in the transaction that raises the
invoice or settles the payment, sent by the outbox like every email.

A notice carries the vendor's own figures only (never another vendor's, never the payment's
error text, which may quote a provider's answer), and links to the vendor portal.
"""

from sqlalchemy import select
from sqlalchemy.orm import Session

from dropwire.core.db import settings_of
from dropwire.mail import outbox as mail_outbox
from dropwire.mail.defaults import INVOICE_CREATED, PAYMENT_COMPLETED, PAYMENT_FAILED
from dropwire.mail.service import render_event
from dropwire.payments.models import Payment, PaymentState, VendorInvoice
from dropwire.vendors.models import DropshipProvider, PurchaseOrderDelivery


def _by_email(vendor: DropshipProvider) -> bool:
    return vendor.delivery_method == PurchaseOrderDelivery.email and bool(vendor.mail_recipients)


def _common(session: Session, vendor: DropshipProvider) -> dict[str, object]:
    settings = settings_of(session)
    return {
        "merchant": {"name": settings.merchant_name},
        "vendor": {"name": vendor.name},
        "links": {"portal": f"{settings.links_base}/vendor"},
    }


def email_invoice(session: Session, *, invoice: VendorInvoice, vendor: DropshipProvider) -> None:
    """`invoice.created` by email, when the vendor takes its orders by email."""
    if not _by_email(vendor):
        return
    context = _common(session, vendor) | {
        "invoice": {
            "reference": invoice.reference,
            "type": str(invoice.type),
            "currency": invoice.currency,
            "net": f"{invoice.net:.2f}",
            "commission": f"{invoice.commission:.2f}",
            "shipping": f"{invoice.shipping:.2f}",
            "payable": f"{invoice.payable:.2f}",
            "issuedAt": invoice.issued_at.date().isoformat() if invoice.issued_at else "",
            "payableAt": invoice.payable_at.date().isoformat(),
        }
    }
    mail_outbox.record_email(
        session,
        event=INVOICE_CREATED,
        to=vendor.mail_recipients,
        to_name=vendor.name,
        parts=render_event(session, event=INVOICE_CREATED, context=context),
        subject_type="vendor_invoice",
        subject_id=invoice.id,
        dropship_provider_id=vendor.id,
    )


def email_payment(session: Session, *, payment: Payment, vendor: DropshipProvider) -> None:
    """`payment.completed` or `payment.failed` by email, when the vendor takes its orders by
    email."""
    if payment.status not in (PaymentState.complete, PaymentState.error) or not _by_email(vendor):
        return
    event = PAYMENT_COMPLETED if payment.status == PaymentState.complete else PAYMENT_FAILED
    references = list(
        session.scalars(
            select(VendorInvoice.reference)
            .where(
                VendorInvoice.id.in_(payment.invoice_ids or [0]),
                VendorInvoice.dropship_provider_id == vendor.id,
            )
            .order_by(VendorInvoice.id)
        )
    )
    when = payment.completed_at or payment.updated_at or payment.created_at
    context = _common(session, vendor) | {
        "payment": {
            "amount": f"{payment.amount:.2f}",
            "currency": payment.currency,
            "reference": payment.reference,
            "date": when.date().isoformat() if when else "",
            "invoices": references,
        }
    }
    mail_outbox.record_email(
        session,
        event=event,
        to=vendor.mail_recipients,
        to_name=vendor.name,
        parts=render_event(session, event=event, context=context),
        subject_type="payment",
        subject_id=payment.id,
        dropship_provider_id=vendor.id,
    )
