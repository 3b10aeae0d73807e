"""What the channels domain plugs into the shared machinery (wired by `dropwire.domains`)."""

from dropwire.channels.publishing import PUBLISH_CHANGED_VARIANTS, PUBLISHING_EVENT
from dropwire.channels.stock_pushes import INVENTORY_EVENT, PUSH_CHANGED_QUANTITIES
from dropwire.channels.tasks import ACKNOWLEDGE, CHANNEL_HASHES, DISCONNECT, PRODUCTS
from dropwire.contributions import Contributions

CONTRIBUTIONS = Contributions(
    inbound_kinds=(PRODUCTS, ACKNOWLEDGE, DISCONNECT),  # the custom channel's async twins
    hash_owners=(CHANNEL_HASHES,),
    commit_steps=(PUBLISH_CHANGED_VARIANTS, PUSH_CHANGED_QUANTITIES),
    event_kinds=(PUBLISHING_EVENT, INVENTORY_EVENT),
)
