"""Job handlers of the money domain: queued settlements and scheduled payouts (Stripe transfers
are not jobs: `payments.transfers` sends them outside any transaction)."""

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dropwire.core.time import utcnow
from dropwire.jobs.registry import JobKind
from dropwire.jobs.service import enqueue
from dropwire.payments.models import InvoiceState, VendorInvoice
from dropwire.payments.payouts import next_payout, run_payouts
from dropwire.payments.settling import claim, method_for
from dropwire.vendors.models import DropshipProvider, PaymentSchedule

SETTLE_JOB = "payments.settle"
PAYOUT_JOB = "payments.scheduled_payout"


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
        method=method_for(session, method_id=payload.get("paymentMethodId"), vendor=vendor),
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
        schedule_payout(session, vendor=vendor)


def schedule_payout(session: Session, *, vendor: DropshipProvider) -> None:
    """Queue the vendor's next scheduled payout (once: a pending one is kept)."""
    when = next_payout(vendor.payment_schedule, utcnow())
    if when is None:
        return
    enqueue(
        session,
        kind=PAYOUT_JOB,
        payload={"vendorId": vendor.id},
        dedupe_key=f"payout:{vendor.id}",
        run_at=when,
    )


JOB_KINDS = (
    JobKind(SETTLE_JOB, settle_queued),
    JobKind(PAYOUT_JOB, scheduled_payout),
)
