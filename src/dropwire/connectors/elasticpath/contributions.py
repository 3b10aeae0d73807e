"""What the Elastic Path connector plugs into the shared machinery (wired by `dropwire.domains`)."""

from dropwire.connectors.elasticpath.connector import ELASTIC_PATH
from dropwire.connectors.elasticpath.tasks import ORDER_EVENT
from dropwire.connectors.elasticpath.transport import EVENT_KINDS, STORE_API
from dropwire.contributions import Contributions

CONTRIBUTIONS = Contributions(
    inbound_kinds=(ORDER_EVENT,),  # events in: the store's order events, applied as sales
    event_kinds=EVENT_KINDS,
    transports=(STORE_API,),  # its deliveries are calls to the store's API
    serves=(ELASTIC_PATH,),
)
