"""Order events are applied as jobs of the inbound queue (ordered per order, logged per item)."""

from dropwire.connectors.elasticpath import service
from dropwire.inbound.registry import InboundKind, Owner

ORDER_EVENT = InboundKind(
    name=service.EVENT_JOB,
    owner=Owner.custom_channel,  # the owner id is the channel id, as for manual-sale
    apply=service.apply_event,
    record_key=service.record_key,
    creates=lambda session, channel_id, item: (
        not service.order_known(session, channel_id=channel_id, item=item)
    ),
    batch=False,
)
