"""The channel-connector protocol: what every store integration implements.

A connector (one package under `connectors/`) serves the channels of one parent (the
channel's `parentChannel`, which the connector names) and
declares a `ChannelConnector` in its contributions (`serves`); the entry points wire it. Through
it Dropwire speaks to the store:

- stock out: `push_stock(session, changed)` gets every channel variant whose channel quantity
  changed in this unit of work, records a message for those of its own channels and returns the
  ones it pushed (channels then remembers them as pushed: a quantity is pushed by the connector
  that owns the channel, never by a step that happens to run first);
- products out: `publish_products(session, variant_ids)` for variants new or changed;
- order states out: `send_order_states(session, changes)` with what happened to orders;
- events in: the connector's async inbound kinds (`Contributions.inbound_kinds`) and any
  endpoint of its own, on the unit-of-work route;
- its settings: `settings` (`StoreSettings`) names the block a channel body carries for it,
  its input shape, who saves it and what a channel read shows of it; `secret_fields` names
  the write-only ones;
- its dashboard panel: `panel(session, channel_ids)` gives what the channels page shows of its
  channels (never a secret).

All of it runs inside the caller's transaction and only records rows (outbound messages through
`delivery.outbox`); the calls to the store happen after commit, in the relay.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel
from sqlalchemy.orm import Session

from dropwire.catalog.models import ChannelVariant
from dropwire.channels.models import Channel
from dropwire.core.wiring import Wiring

Changed = Sequence[tuple[ChannelVariant, int]]


@dataclass(frozen=True)
class OrderChanges:
    """What happened to orders in one unit of work, by id (the sales domain fills it in)."""

    purchase_ids: frozenset[int] = frozenset()  # purchase orders created, updated or cancelled
    fulfillment_ids: tuple[int, ...] = ()  # fulfillments created, in order
    return_ids: tuple[int, ...] = ()  # returns created, in order
    cancelled_sale_ids: frozenset[int] = frozenset()  # lines cancelled with no purchase order


class SettingsWriter(Protocol):
    """Saves a parent channel's own settings block (`None`: keep, or complain if required)."""

    def __call__(
        self, session: Session, *, channel: Channel, data: Any, creating: bool
    ) -> None: ...


@dataclass(frozen=True)
class StoreSettings:
    """A connector keeps its store's settings in its own tables and declares them here: the
    channel body's block `field` (snake_case; camelCase on the wire) has the shape `fields`;
    `save(session, channel=..., data=value or None, creating=...)` stores it for channels of
    the connector's parent; `read(session, channel)` is what a channel read shows (None when
    the channel has none), of the shape `shown` (the read schema's block)."""

    field: str
    fields: type[BaseModel]
    save: SettingsWriter
    read: Callable[[Session, Channel], BaseModel | None]
    shown: type[BaseModel]


@dataclass(frozen=True)
class PanelRow:
    """One line of a connector's panel on the dashboard's channels page."""

    label: str
    value: str
    code: bool = False  # shown as code (a URL, an id)
    error: bool = False
    testid: str | None = None


PushStock = Callable[[Session, Changed], Sequence[tuple[ChannelVariant, int]]]
PublishProducts = Callable[[Session, set[int]], None]
SendOrderStates = Callable[[Session, OrderChanges], None]
# The panel of each of the given channels (all of this connector's parent).
Panel = Callable[[Session, Sequence[int]], Mapping[int, Sequence[PanelRow]]]


def _nothing_published(_session: Session, _variant_ids: set[int]) -> None:
    return None


@dataclass(frozen=True)
class ChannelConnector:
    """One store integration: how Dropwire speaks to the channels of `parent`."""

    parent: str  # the channels' `parent_channel` this connector serves
    push_stock: PushStock
    send_order_states: SendOrderStates
    publish_products: PublishProducts = _nothing_published
    settings: StoreSettings | None = None  # the channel body's block for this connector
    secret_fields: tuple[str, ...] = field(default=())  # write-only settings, never shown
    panel: Panel | None = None


def store_settings(wiring: Wiring) -> list[tuple[str, StoreSettings]]:
    """Each wired connector's settings block, with the parent it is for."""
    return [
        (connector.parent, connector.settings)
        for connector in wiring.every(ChannelConnector)
        if connector.settings is not None
    ]
