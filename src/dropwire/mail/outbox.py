"""Emails are outbox messages: written in the caller's transaction, sent by the relay after
commit through the `email` transport, retried, dead-lettered and visible like any delivery.

Without an SMTP server configured a message is kept as `recorded`: shown in the mail log,
sent to nobody. A message recorded without its parts is composed when it is sent
(`mail.composing`): the changing transaction writes two small rows, not a rendered email.
"""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dropwire.core.db import settings_of
from dropwire.delivery import outbox
from dropwire.delivery.models import Delivery, DeliveryState, EndpointOwner
from dropwire.mail.models import EmailMessage
from dropwire.mail.rendering import Parts

EMAIL = "email"  # the transport's name in the outbox


def record_email(
    session: Session,
    *,
    event: str,
    to: list[str],
    parts: Parts | None,
    subject_type: str,
    subject_id: int,
    to_name: str | None = None,
    attachments: list[dict[str, Any]] | None = None,
    purchase_id: int | None = None,
    dropship_provider_id: int | None = None,
    user_id: int | None = None,
    ordering_key: str | None = None,
) -> EmailMessage:
    """Write the message (and its delivery, when there is a server to send it to); without
    `parts`, its event's `Composer` makes it when it is sent.

    `ordering_key` keeps one subject's emails in order (a PO's cancellation never overtakes its
    creation); each is still sent.
    """
    if settings_of(session).smtp_url is None:
        delivery = None
    else:  # first, so the message is written once, already naming its delivery
        delivery = outbox.record(
            session,
            event=event,
            url=f"mailto:{','.join(to)}"[:2048],
            body={"email": event},  # the message itself is found by its delivery
            subject_type=subject_type,
            subject_id=subject_id,
            dropship_provider_id=dropship_provider_id,
            coalesce_key=ordering_key,
            transport=EMAIL,
            owner=None if dropship_provider_id is not None else (EndpointOwner.mailbox, 0),
            merge_pending=False,
        )
    message = EmailMessage(
        event=event,
        to_addresses=to,
        to_name=to_name,
        subject=None if parts is None else parts.subject,
        html=None if parts is None else parts.html,
        text=None if parts is None else parts.text,
        attachments=attachments or [],
        purchase_id=purchase_id,
        dropship_provider_id=dropship_provider_id,
        user_id=user_id,
        delivery_id=None if delivery is None else delivery.id,
    )
    session.add(message)
    session.flush()
    return message


def waiting(session: Session, *, ordering_key: str) -> EmailMessage | None:
    """The newest message under `ordering_key` that no attempt has taken yet, if any."""
    return session.scalar(
        select(EmailMessage)
        .join(Delivery, Delivery.id == EmailMessage.delivery_id)
        .where(Delivery.coalesce_key == ordering_key, Delivery.state == DeliveryState.pending)
        .where(Delivery.attempts == 0)
        .order_by(Delivery.id.desc())
        .limit(1)
        .with_for_update(of=Delivery)
    )


def renew(message: EmailMessage) -> EmailMessage:
    """A waiting message composed when sent stands for a newer event of its subject too,
    instead of a second email being sent."""
    if message.delivery is not None:
        message.delivery.version += 1
    return message
