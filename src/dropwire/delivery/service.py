"""Operator actions on deliveries and endpoints."""

from sqlalchemy.orm import Session

from dropwire.core.errors import NotFound
from dropwire.core.time import utcnow
from dropwire.delivery.errors import DeliveryInFlight
from dropwire.delivery.models import Delivery, DeliveryState, WebhookEndpoint
from dropwire.delivery.signing import new_secret


def get_delivery(session: Session, *, delivery_id: int) -> Delivery:
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise NotFound("Webhook delivery", delivery_id)
    return delivery


def retry(session: Session, *, delivery: Delivery) -> Delivery:
    """Send again from now with a fresh set of attempts (not while one is in flight)."""
    if delivery.state == DeliveryState.delivering:
        raise DeliveryInFlight("state", "this delivery is being sent right now")
    delivery.state = DeliveryState.pending
    delivery.attempts = 0
    delivery.next_attempt_at = utcnow()
    session.flush()
    return delivery


def get_endpoint(session: Session, *, endpoint_id: int) -> WebhookEndpoint:
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound("Webhook endpoint", endpoint_id)
    return endpoint


def enable(session: Session, *, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    endpoint.disabled_at = None
    endpoint.disabled_reason = None
    session.flush()
    return endpoint


def rotate_secret(session: Session, *, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    endpoint.secret = new_secret()
    session.flush()
    return endpoint
