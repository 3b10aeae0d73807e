"""Stripe transfers to vendors' connected accounts, through the `stripe` library.

The payment's id is the Idempotency-Key: Stripe answers a repeated request with the transfer it
made the first time, so a payment retried after a crash or a lost answer moves money once."""

from dataclasses import dataclass

import stripe

from dropwire.core.settings import Settings
from dropwire.payments.commission import quantum
from dropwire.payments.models import Payment


@dataclass(frozen=True)
class TransferRefused(Exception):
    """Stripe refused the transfer (a 4xx): it will not succeed by asking again."""

    message: str


def idempotency_key(payment: Payment) -> str:
    return f"dropwire-payment-{payment.id}"


def minor_units(payment: Payment) -> int:
    """The amount in the currency's smallest unit, as Stripe counts it."""
    return int(payment.amount / quantum(payment.currency))


def client(settings: Settings) -> stripe.StripeClient:
    key = settings.stripe_api_key.get_secret_value() if settings.stripe_api_key else ""
    return stripe.StripeClient(
        key,
        base_addresses={"api": settings.stripe_api_base},
        max_network_retries=0,  # the job queue retries, with the same key
    )


def transfer(settings: Settings, *, payment: Payment, destination: str) -> str:
    """Make (or find again) the payment's transfer; returns its id. Raises `TransferRefused`
    for a refusal, and lets connection errors and Stripe's 5xx through (retry later)."""
    if settings.stripe_api_key is None:
        raise TransferRefused("DROPWIRE_STRIPE_API_KEY is not set")
    try:
        made = client(settings).v1.transfers.create(
            params={
                "amount": minor_units(payment),
                "currency": payment.currency.lower(),
                "destination": destination,
                "transfer_group": f"dropwire-payment-{payment.id}",
                "metadata": {"dropwirePaymentId": str(payment.id)},
            },
            options={"idempotency_key": idempotency_key(payment)},
        )
    except stripe.StripeError as exc:
        status = exc.http_status or 0
        if 400 <= status < 500 and status != 429:
            raise TransferRefused(exc.user_message or str(exc)) from exc
        raise
    return str(made.id)
