"""Stripe transfers to vendors' connected accounts, through the `stripe` library, made by the
worker's poller `send_due_transfers`, never inside a database transaction.

A round claims the due pending Stripe payments (a lease: their next attempt moves out by
`LEASE`) and commits; calls Stripe for them from a bounded pool of threads sharing one client
(its connections kept per thread); then records every answer in one transaction. The
payment's id is the Idempotency-Key: Stripe answers a repeated request with the transfer it
made the first time, so a payment sent again after a crash, a lost answer or an expired lease
moves money once, and it is only ever recorded while still pending."""

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from dropwire.core.db import Database
from dropwire.core.expressions import among
from dropwire.core.settings import Settings
from dropwire.core.time import utcnow
from dropwire.payments.commission import quantum
from dropwire.payments.models import Payment, PaymentSource, PaymentState, VendorInvoice
from dropwire.payments.settling import complete_all, fail, lock_purchases
from dropwire.vendors.models import DropshipProvider

if TYPE_CHECKING:
    import stripe

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=2)  # a claimed transfer not recorded by then is sent again
PER_ROUND = 200
POOL = 8  # Stripe calls in flight at once, per process
MAX_ATTEMPTS = 12  # unanswered (network, 5xx, 429) attempts before the payment fails


@dataclass(frozen=True)
class TransferRefused(Exception):
    """Stripe refused the transfer (a 4xx): it will not succeed by asking again."""

    message: str


@dataclass(frozen=True)
class Due:
    """A claimed transfer: what is sent, to whom, and how many attempts were made so far."""

    payment_id: int
    amount: Decimal
    currency: str
    destination: str | None
    attempts: int


Answer = str | TransferRefused | Exception  # the transfer's id, a refusal, or try again


def idempotency_key(payment_id: int) -> str:
    return f"dropwire-payment-{payment_id}"


def minor_units(amount: Decimal, currency: str) -> int:
    """The amount in the currency's smallest unit, as Stripe counts it."""
    return int(amount / quantum(currency))


@lru_cache(maxsize=8)
def _client(key: str, base: str) -> "stripe.StripeClient":
    """One client per key and address for the process: its HTTP client keeps a session (and
    its connections) per thread. The library is imported here, by the first transfer: a process
    that never pays (the CLI, the API) skips its import."""
    import stripe

    return stripe.StripeClient(
        key,
        base_addresses={"api": base},
        max_network_retries=0,  # the poller retries, with the same key
    )


def transfer(settings: Settings, due: Due) -> str:
    """Make (or find again) the payment's transfer; returns its id. Raises `TransferRefused`
    for a refusal, and lets connection errors and Stripe's 5xx through (retry later)."""
    if settings.stripe_api_key is None:
        raise TransferRefused("DROPWIRE_STRIPE_API_KEY is not set")
    if not due.destination:
        raise TransferRefused("the vendor has no stripeId")
    client = _client(settings.stripe_api_key.get_secret_value(), settings.stripe_api_base)
    import stripe  # imported by `_client` already

    try:
        made = client.v1.transfers.create(
            params={
                "amount": minor_units(due.amount, due.currency),
                "currency": due.currency.lower(),
                "destination": due.destination,
                "transfer_group": idempotency_key(due.payment_id),
                "metadata": {"dropwirePaymentId": str(due.payment_id)},
            },
            options={"idempotency_key": idempotency_key(due.payment_id)},
        )
    except stripe.StripeError as exc:
        status = exc.http_status or 0
        if 400 <= status < 500 and status != 429:
            raise TransferRefused(exc.user_message or str(exc)) from exc
        raise
    return str(made.id)


def send_due_transfers(database: Database) -> int:
    """The worker's poller: one round of due transfers; how many were attempted."""
    due = claim_due(database)
    if not due:
        return 0
    answers = send(database.settings, due)
    record(database, due, answers)
    return len(due)


def claim_due(database: Database, limit: int = PER_ROUND) -> list[Due]:
    """Take the due transfers (another worker skips them) and lease them, committed."""
    now = utcnow()
    with database.transaction() as session:
        rows = session.execute(
            select(
                Payment.id,
                Payment.amount,
                Payment.currency,
                DropshipProvider.stripe_id,
                Payment.transfer_attempts,
            )
            .join(DropshipProvider, DropshipProvider.id == Payment.dropship_provider_id)
            .where(
                Payment.status == PaymentState.pending,
                Payment.source == PaymentSource.stripe,
                Payment.transfer_due_at <= now,
            )
            .order_by(Payment.transfer_due_at, Payment.id)
            .limit(limit)
            .with_for_update(of=Payment, skip_locked=True)
        ).all()
        if not rows:
            return []
        session.execute(
            update(Payment)
            .where(among(session, column=Payment.id, values=[row.id for row in rows]))
            .values(transfer_due_at=now + LEASE, transfer_attempts=Payment.transfer_attempts + 1)
            .execution_options(synchronize_session=False)
        )
    return [Due(row[0], row[1], row[2], row[3], row[4] + 1) for row in rows]


def send(settings: Settings, due: Sequence[Due]) -> dict[int, Answer]:
    """Every transfer, at most `POOL` at once, outside any transaction."""

    def one(each: Due) -> Answer:
        try:
            return transfer(settings, each)
        except Exception as answer:  # a refusal, or no answer: `record` tells them apart
            import stripe

            if not isinstance(answer, TransferRefused | stripe.StripeError):
                log.warning("Stripe transfer of payment %s: %r", each.payment_id, answer)
            return answer

    if len(due) == 1:
        return {due[0].payment_id: one(due[0])}
    with ThreadPoolExecutor(max_workers=min(POOL, len(due))) as pool:
        return dict(zip((d.payment_id for d in due), pool.map(one, due), strict=True))


def record(database: Database, due: Sequence[Due], answers: dict[int, Answer]) -> None:
    """The answers, in one transaction: a transfer made completes its payment, a refusal fails
    it (its invoices open again), no answer leaves it pending for a later attempt. A payment
    another round settled meanwhile is left as it is."""
    attempts = {d.payment_id: d.attempts for d in due}
    with database.transaction() as session:
        lock_purchases(session, column=VendorInvoice.payment_id, values=[d.payment_id for d in due])
        payments = session.scalars(
            select(Payment)
            .where(among(session, column=Payment.id, values=list(answers)))
            .order_by(Payment.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).all()
        made: list[tuple[Payment, str]] = []
        now = utcnow()
        for payment in payments:
            if payment.status != PaymentState.pending:
                continue
            answer = answers[payment.id]
            if isinstance(answer, str):
                made.append((payment, answer))
            elif isinstance(answer, TransferRefused):
                fail(session, payment=payment, error=answer.message)
            elif attempts[payment.id] >= MAX_ATTEMPTS:
                fail(session, payment=payment, error=f"Stripe did not answer: {answer}"[:2000])
            else:
                payment.error = f"attempt {attempts[payment.id]}: {answer}"[:2000]
                backoff = timedelta(seconds=min(3600, 5 * 2 ** attempts[payment.id]))
                payment.transfer_due_at = now + backoff
        complete_all(session, made=made)
