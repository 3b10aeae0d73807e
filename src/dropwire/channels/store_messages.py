"""Before a commit that changed stock or products: each channel's connector hears of it.

Channel quantities are computed once for every channel (`quantities`); each wired connector
records messages for its own channels and says which quantities it pushed, which are then
remembered as pushed. No connector runs "first": a channel belongs to one connector.
"""

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from dropwire.catalog.service import PUBLISH_KEY
from dropwire.channels.connectors import ChannelConnector
from dropwire.channels.quantities import changed_channel_quantities, record_pushed
from dropwire.core.unit_of_work import CommitStep
from dropwire.core.wiring import wiring_of
from dropwire.inventory.service import TOUCHED_KEY


def tell_connectors(session: Session, changes: Mapping[str, Any]) -> None:
    connectors = wiring_of(session).every(ChannelConnector)
    published: set[int] | None = changes.get(PUBLISH_KEY)
    if published:
        for connector in connectors:
            connector.publish_products(session, set(published))
    touched: set[int] | None = changes.get(TOUCHED_KEY)
    changed = changed_channel_quantities(session, variant_ids=set(touched)) if touched else []
    if changed:
        for connector in connectors:
            for channel_variant, quantity in connector.push_stock(session, changed):
                record_pushed(channel_variant, quantity)


TELL_CONNECTORS = CommitStep(
    "channels.connectors", frozenset({TOUCHED_KEY, PUBLISH_KEY}), tell_connectors
)
