from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dropwire.core.db import Base, IdMixin, TimestampMixin
from dropwire.core.time import utcnow

DEFAULT_OBSERVES = [
    "order.created",
    "order.updated",
    "order.paid",
    "order.authorized",
    "order.fulfilled",
    "order.cancelled",
]


PARENT = "elasticPath"  # the `parentChannel` of the channels this connector serves

# The transport and event names of this connector's deliveries (stored on each delivery row).
TRANSPORT = "elasticpath"  # sent by `transport.send`, not as signed webhooks
STOCK = "elasticpath.stock"
PRODUCT = "elasticpath.product"
ENTRIES = "elasticpath.entries"
ITEM = "elasticpath.item"
ORDER = "elasticpath.order"
FETCH_ORDER = "elasticpath.fetch_order"


class ElasticPathStore(IdMixin, TimestampMixin, Base):
    """A channel's Elastic Path store: where to call, with what, and what to listen to.

    Secrets are stored sealed (see `core.encryption`) and never returned by the API.
    """

    __tablename__ = "elasticpath_stores"

    channel_id: Mapped[int] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), unique=True
    )
    base_url: Mapped[str] = mapped_column(String(2048))
    client_id: Mapped[str] = mapped_column(String(255))
    client_secret_sealed: Mapped[str | None] = mapped_column(Text)
    webhook_secret_sealed: Mapped[str | None] = mapped_column(Text)
    shipping_skus: Mapped[list[str]] = mapped_column(JSON, default=list)
    inventory: Mapped[str] = mapped_column(String(16), default="transactions")
    location: Mapped[str | None] = mapped_column(String(255))
    observes: Mapped[list[str]] = mapped_column(JSON, default=lambda: list(DEFAULT_OBSERVES))
    publish_products: Mapped[bool] = mapped_column(default=False)
    integration_id: Mapped[str | None] = mapped_column(String(64))
    store_id: Mapped[str | None] = mapped_column(String(64))
    """The store the events come from: the first authenticated event that names one pins it;
    events naming another are ignored. Cleared when the store's address or client changes."""

    @property
    def client_secret_set(self) -> bool:
        return self.client_secret_sealed is not None

    @property
    def webhook_secret_set(self) -> bool:
        return self.webhook_secret_sealed is not None

    @property
    def webhook_path(self) -> str:
        return f"/webhooks/elasticpath/{self.channel_id}"  # also service.webhook_path


class ElasticPathEvent(IdMixin, Base):
    """An accepted delivery, by the store's event id: a repeated delivery changes nothing."""

    __tablename__ = "elasticpath_events"
    __table_args__ = (UniqueConstraint("channel_id", "event_id"),)

    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(128))
    triggered_by: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class ElasticPathOrder(IdMixin, TimestampMixin, Base):
    """What we know of a store order (its newest `updated_at` applied) and what we told it."""

    __tablename__ = "elasticpath_orders"
    __table_args__ = (UniqueConstraint("channel_id", "order_id"),)

    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    order_id: Mapped[str] = mapped_column(String(64))
    sale_id: Mapped[int | None] = mapped_column(index=True)
    store_updated_at: Mapped[datetime | None]
    status: Mapped[str | None] = mapped_column(String(32))
    payment: Mapped[str | None] = mapped_column(String(32))
    shipping: Mapped[str | None] = mapped_column(String(32))
    # {"order": {...last order fields sent}, "items": {itemId: [fulfilled, cancelled]},
    #  "fulfillments": [fulfillment ids sent], "cancelled": {itemId: units sent as entries}}
    pushed: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ElasticPathEntry(IdMixin, Base):
    """A flow entry created in the store, by our stable key for it.

    Written as soon as the store answers, in its own transaction, so a delivery that created its
    entries but failed to relate them to the order reuses them on the retry instead of creating
    them again. Keys: `fulfilment:{fulfillmentId}:{itemId}`, `cancellation:{saleId}:{itemId}:{n}`
    (n = units cancelled so far).
    """

    __tablename__ = "elasticpath_entries"
    __table_args__ = (UniqueConstraint("channel_id", "key"),)

    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(128))
    flow: Mapped[str] = mapped_column(String(64))
    entry_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
