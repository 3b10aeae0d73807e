"""What the custom-channel connector plugs into the shared machinery (`dropwire.domains`)."""

from dropwire.connectors.custom.connector import CUSTOM
from dropwire.connectors.custom.events_in import ACKNOWLEDGE, CHANNEL_HASHES, DISCONNECT, PRODUCTS
from dropwire.connectors.custom.orders import EVENT_KINDS as ORDER_EVENTS
from dropwire.connectors.custom.publishing import PUBLISHING_EVENT
from dropwire.connectors.custom.stock import INVENTORY_EVENT
from dropwire.contributions import Contributions

CONTRIBUTIONS = Contributions(
    inbound_kinds=(PRODUCTS, ACKNOWLEDGE, DISCONNECT),  # events in (manual sales are sales')
    hash_owners=(CHANNEL_HASHES,),
    event_kinds=(PUBLISHING_EVENT, INVENTORY_EVENT, *ORDER_EVENTS),
    serves=(CUSTOM,),
)
