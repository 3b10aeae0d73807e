"""Elastic Path Commerce as a channel connector (`channels.connectors`)."""

from dropwire.channels.connectors import ChannelConnector
from dropwire.connectors.elasticpath.models import PARENT
from dropwire.connectors.elasticpath.outbound import publish_products, push_stock, send_order_states
from dropwire.connectors.elasticpath.panel import store_panel
from dropwire.connectors.elasticpath.service import STORE_SETTINGS

ELASTIC_PATH = ChannelConnector(
    parent=PARENT,
    push_stock=push_stock,  # stock levels to reach, through the store's inventory API
    publish_products=publish_products,  # PCM products by SKU, for stores that publish
    send_order_states=send_order_states,  # flow entries on the store's order and its items
    settings=STORE_SETTINGS,  # the channel body's `elasticPath` block
    secret_fields=("client_secret", "webhook_secret"),  # sealed, write-only
    panel=store_panel,
)
