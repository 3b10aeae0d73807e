"""Order states out to custom channels: fulfillments and returns POSTed to the channel's
fulfillment endpoint, recorded before the commit that made them."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from dropwire.channels.connectors import OrderChanges
from dropwire.channels.models import CustomChannel
from dropwire.delivery import outbox
from dropwire.delivery.kinds import EventKind
from dropwire.sales.models import Fulfillment, Purchase, Sale, SaleReturn
from dropwire.sales.payloads import fulfillment_body, return_body

FULFILLMENT = "fulfillment"
RETURN_CREATED = "return.created"
EVENT_KINDS = (EventKind(FULFILLMENT), EventKind(RETURN_CREATED))


def _selling_channel(session: Session, channel_id: int) -> CustomChannel | None:
    return session.scalar(
        select(CustomChannel).where(CustomChannel.channel_id == channel_id, CustomChannel.enabled)
    )


def _fulfillment_created(session: Session, fulfillment_id: int) -> None:
    fulfillment = session.get(Fulfillment, fulfillment_id)
    if fulfillment is None:
        return
    purchase = session.get(Purchase, fulfillment.purchase_id)
    assert purchase is not None
    custom = _selling_channel(session, purchase.sale.channel_id)
    if custom is None or not custom.fulfillment_endpoint:
        return
    outbox.record(
        session,
        event=FULFILLMENT,
        url=custom.fulfillment_endpoint,
        body=fulfillment_body(fulfillment, purchase),
        subject_type="fulfillment",
        subject_id=fulfillment.id,
        channel_id=purchase.sale.channel_id,
        hash_header=custom.webhook_hash,
    )


def _return_created(session: Session, return_id: int) -> None:
    sale_return = session.get(SaleReturn, return_id)
    if sale_return is None:
        return
    sale = session.get(Sale, sale_return.sale_id)
    assert sale is not None
    custom = _selling_channel(session, sale.channel_id)
    if custom is None or not custom.fulfillment_endpoint:
        return
    outbox.record(
        session,
        event=RETURN_CREATED,
        url=custom.fulfillment_endpoint,
        body=return_body(sale_return, sale),
        subject_type="sale_return",
        subject_id=sale_return.id,
        channel_id=sale.channel_id,
        hash_header=custom.webhook_hash,
    )


def send_order_states(session: Session, changes: OrderChanges) -> None:
    """Each new fulfillment and return to its sale's custom channel, in the order they came."""
    for fulfillment_id in changes.fulfillment_ids:
        _fulfillment_created(session, fulfillment_id)
    for return_id in changes.return_ids:
        _return_created(session, return_id)
