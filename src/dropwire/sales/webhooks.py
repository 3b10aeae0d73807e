"""Outbound messages the sales domain records itself."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from dropwire.channels.models import CustomChannel
from dropwire.delivery.models import EventKind
from dropwire.delivery.outbox import emit
from dropwire.sales.models import Sale, SaleReturn
from dropwire.sales.payloads import return_body


def return_created(session: Session, sale_return: SaleReturn, sale: Sale) -> None:
    """`return.created` to the channel's fulfillment endpoint, written with the return."""
    custom = session.scalar(
        select(CustomChannel).where(CustomChannel.channel_id == sale.channel_id)
    )
    if custom is None or not custom.enabled or not custom.fulfillment_endpoint:
        return
    emit(
        session,
        event=EventKind.return_created,
        url=custom.fulfillment_endpoint,
        body=return_body(sale_return, sale),
        subject_type="sale_return",
        subject_id=sale_return.id,
        channel_id=sale.channel_id,
        hash_header=custom.webhook_hash,
    )
