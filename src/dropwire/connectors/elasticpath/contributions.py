"""What the Elastic Path connector plugs into the shared machinery (wired by `dropwire.domains`)."""

from dropwire.connectors.elasticpath.outbound import QUEUE_STORE_CALLS
from dropwire.connectors.elasticpath.service import STORE_SETTINGS
from dropwire.connectors.elasticpath.tasks import ORDER_EVENT
from dropwire.connectors.elasticpath.transport import EVENT_KINDS, STORE_API
from dropwire.contributions import Contributions

CONTRIBUTIONS = Contributions(
    inbound_kinds=(ORDER_EVENT,),  # the store's order events, applied as manual sales
    commit_steps=(QUEUE_STORE_CALLS,),  # stock, products and order states for the store
    event_kinds=EVENT_KINDS,
    transports=(STORE_API,),  # its deliveries are calls to the store's API
    serves=(STORE_SETTINGS,),  # the `elasticPath` block of a channel
)
