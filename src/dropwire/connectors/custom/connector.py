"""The custom channel (Onport's custom-channel endpoints) as a channel connector."""

from dropwire.channels.connectors import ChannelConnector
from dropwire.channels.models import CUSTOM as CUSTOM_PARENT
from dropwire.connectors.custom.orders import send_order_states
from dropwire.connectors.custom.publishing import publish_products
from dropwire.connectors.custom.stock import push_stock

CUSTOM = ChannelConnector(
    parent=CUSTOM_PARENT,
    push_stock=push_stock,  # to the inventory endpoint
    publish_products=publish_products,  # to the publishing endpoint
    send_order_states=send_order_states,  # fulfillments and returns to the fulfillment endpoint
    # its settings are the custom channel's own resource (`/api/custom-channels`), not a block
    # of the channel body; the hash the store signs with is shown once, when it is made
    secret_fields=("webhook_hash",),
)
