"""The outbox: an outbound message is written in the transaction of the change that causes it.

A domain calls `record` from its own code or commit step (core/unit_of_work.py), building the
body and choosing the receiver itself; nothing is sent here: the relay sends after commit. With a
coalescing key, at most one message per key is pending, always carrying the newest body.
"""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dropwire.core.inserts import insert_ignoring_conflict
from dropwire.core.unit_of_work import call_after_commit
from dropwire.delivery.models import Delivery, DeliveryState, EndpointOwner, WebhookEndpoint
from dropwire.delivery.signing import new_secret
from dropwire.delivery.transports import WEBHOOK
from dropwire.jobs.wakeup import notify


def endpoint_for(
    session: Session, *, owner_type: EndpointOwner, owner_id: int, url: str
) -> WebhookEndpoint:
    """The owner's endpoint for `url` (created with its own secret on first use)."""
    key = (
        WebhookEndpoint.owner_type == owner_type,
        WebhookEndpoint.owner_id == owner_id,
        WebhookEndpoint.url == url,
    )
    endpoint = session.scalar(select(WebhookEndpoint).where(*key))
    if endpoint is None:
        values = {"owner_type": owner_type, "owner_id": owner_id, "url": url}
        insert_ignoring_conflict(
            session,
            model=WebhookEndpoint,
            values={**values, "secret": new_secret()},
            conflict_columns=list(values),
        )
        endpoint = session.scalars(select(WebhookEndpoint).where(*key)).one()
    return endpoint


def record(
    session: Session,
    *,
    event: str,
    url: str,
    body: dict[str, Any],
    subject_type: str,
    subject_id: int,
    channel_id: int | None = None,
    dropship_provider_id: int | None = None,
    coalesce_key: str | None = None,
    hash_header: str | None = None,
    transport: str = WEBHOOK,
    owner: tuple[EndpointOwner, int] | None = None,
    merge_pending: bool = True,
) -> Delivery:
    """Write (or, with a coalesce key, refresh the pending) delivery in the caller's transaction.

    `transport` names who sends it: the relay's signed webhook POST, or a registered transport.
    The endpoint (and so the signing secret) belongs to `owner` when given, else to the vendor
    when `dropship_provider_id` is given, else to the channel. With `merge_pending=False` the
    coalesce key only keeps messages in order: each one is sent.
    """
    if owner is None and dropship_provider_id is not None:
        owner = (EndpointOwner.vendor, dropship_provider_id)
    elif owner is None and channel_id is not None:
        owner = (EndpointOwner.channel, channel_id)
    elif owner is None:
        raise ValueError("a delivery needs an owner: a channel or a dropship provider")
    call_after_commit(
        session, key="delivery.wake", callback=notify
    )  # senders look as soon as it commits
    if coalesce_key is not None and merge_pending:
        pending = session.scalar(
            select(Delivery)
            .where(Delivery.coalesce_key == coalesce_key, Delivery.state == DeliveryState.pending)
            .order_by(Delivery.id.desc())
            .limit(1)
            .with_for_update()
        )
        if pending is not None:
            if pending.body != body:
                pending.body = body
                pending.version += 1
            return pending
    owner_type, owner_id = owner
    endpoint = endpoint_for(session, owner_type=owner_type, owner_id=owner_id, url=url)
    delivery = Delivery(
        event=event,
        endpoint_id=endpoint.id,
        url=url,
        channel_id=channel_id,
        dropship_provider_id=dropship_provider_id,
        subject_type=subject_type,
        subject_id=subject_id,
        coalesce_key=coalesce_key,
        body=body,
        hash_header=hash_header,
        transport=transport,
    )
    session.add(delivery)
    session.flush()
    return delivery
