"""Job handlers of the money domain: Stripe transfers, queued settlements, scheduled payouts."""

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dropwire.core.db import settings_of
from dropwire.core.time import utcnow
from dropwire.jobs.registry import JobKind
from dropwire.jobs.service import enqueue
from dropwire.payments.models import InvoiceState, Payment, PaymentState, VendorInvoice
from dropwire.payments.payouts import next_payout, run_payouts
from dropwire.payments.settling import TRANSFER_JOB, claim, complete, fail, method_for
from dropwire.payments.transfers import TransferRefused, transfer
from dropwire.vendors.models import DropshipProvider, PaymentSchedule

SETTLE_JOB = "payments.settle"
PAYOUT_JOB = "payments.scheduled_payout"


def make_transfer(session: Session, payload: dict[str, Any]) -> None:
    """Send a pending Stripe payment. Its effects commit with the job: if the worker dies after
    Stripe answered, the retry sends the same key and Stripe answers with the same transfer."""
    payment = session.scalar(
        select(Payment).where(Payment.id == payload["paymentId"]).with_for_update()
    )
    if payment is None or payment.status != PaymentState.pending:
        return
    vendor = session.get(DropshipProvider, payment.dropship_provider_id)
    assert vendor is not None
    if not vendor.stripe_id:
        fail(session, payment=payment, error="the vendor has no stripeId")
        return
    try:
        transfer_id = transfer(settings_of(session), payment=payment, destination=vendor.stripe_id)
    except TransferRefused as refused:
        fail(session, payment=payment, error=refused.message)
        return
    complete(session, payment=payment, external_id=transfer_id)


def settle_queued(session: Session, payload: dict[str, Any]) -> None:
    """`settle-transfer-async`: the same claim as the sync call, made by a worker."""
    vendor = session.get(DropshipProvider, payload["vendorId"])
    if vendor is None:
        return
    claim(
        session,
        vendor=vendor,
        invoice_ids=payload["toPay"],
        additional_amount=Decimal(payload.get("additionalAmount") or 0),
        method=method_for(session, payload.get("paymentMethodId"), vendor),
        name=payload.get("name"),
    )


def scheduled_payout(session: Session, payload: dict[str, Any]) -> None:
    """A vendor's scheduled payout; schedules the next while invoices wait in their delay."""
    vendor = session.get(DropshipProvider, payload["vendorId"])
    if vendor is None or vendor.payment_schedule == PaymentSchedule.manual:
        return
    run_payouts(session, vendor_ids=[vendor.id], run=f"schedule-{vendor.id}-{utcnow():%Y%m%d}")
    waiting = session.scalar(
        select(VendorInvoice.id).where(
            VendorInvoice.dropship_provider_id == vendor.id,
            VendorInvoice.status == InvoiceState.open,
            VendorInvoice.payment_id.is_(None),
        )
    )
    if waiting is not None:
        schedule_payout(session, vendor)


def schedule_payout(session: Session, vendor: DropshipProvider) -> None:
    """Queue the vendor's next scheduled payout (once: a pending one is kept)."""
    when = next_payout(vendor.payment_schedule, utcnow())
    if when is None:
        return
    enqueue(
        session,
        PAYOUT_JOB,
        {"vendorId": vendor.id},
        dedupe_key=f"payout:{vendor.id}",
        run_at=when,
    )


JOB_KINDS = (
    JobKind(TRANSFER_JOB, make_transfer),
    JobKind(SETTLE_JOB, settle_queued),
    JobKind(PAYOUT_JOB, scheduled_payout),
)
