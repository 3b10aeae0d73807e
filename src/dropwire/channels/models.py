from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dropwire.core.db import Base, IdMixin, TimestampMixin

CUSTOM = "custom"
"""The parent of a channel created with its custom channel (`channels.service`); every parent a
channel may have is a wired connector's (`channels.connectors.ChannelConnector.parent`)."""


class InventorySync(StrEnum):
    all = "all"  # Dropwire is the inventory master for everything
    feeds = "feeds"  # only for variants connected to vendor feeds
    none = "none"  # never pushes quantities


class PublishingAcknowledgement(StrEnum):
    sync = "sync"
    async_ = "async"


class Channel(IdMixin, TimestampMixin, Base):
    """A store that sells: sales come from it, quantities and products go to it."""

    __tablename__ = "channels"

    name: Mapped[str] = mapped_column(String(255))
    parent_channel: Mapped[str] = mapped_column(String(16), default=CUSTOM)
    inventory_sync: Mapped[InventorySync] = mapped_column(String(8), default=InventorySync.all)
    automatically_cancel_sales: Mapped[bool] = mapped_column(default=True)
    connect_to_feed: Mapped[bool] = mapped_column(default=True)
    warehouse_id: Mapped[int | None] = mapped_column(
        ForeignKey("warehouses.id", ondelete="SET NULL"), index=True
    )
    external_id: Mapped[str | None] = mapped_column(String(255))
    currency: Mapped[str | None] = mapped_column(String(3))  # of its sales (ISO 4217)

    custom_channel: Mapped["CustomChannel | None"] = relationship(
        back_populates="channel", uselist=False, lazy="selectin"
    )


class CustomChannel(IdMixin, TimestampMixin, Base):
    """Where Dropwire POSTs a custom store's events, and the hash that store authenticates with."""

    __tablename__ = "custom_channels"

    channel_id: Mapped[int] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), unique=True
    )
    name: Mapped[str] = mapped_column(String(255))
    enabled: Mapped[bool] = mapped_column(default=True)
    inventory_endpoint: Mapped[str | None] = mapped_column(String(2048))
    publishing_endpoint: Mapped[str | None] = mapped_column(String(2048))
    fulfillment_endpoint: Mapped[str | None] = mapped_column(String(2048))
    price_endpoint: Mapped[str | None] = mapped_column(String(2048))
    publishing_acknowledgement: Mapped[PublishingAcknowledgement] = mapped_column(
        String(8), default=PublishingAcknowledgement.sync
    )
    webhook_hash: Mapped[str] = mapped_column(String(64))
    webhook_hash_digest: Mapped[str] = mapped_column(String(64), unique=True)

    channel: Mapped[Channel] = relationship(back_populates="custom_channel", lazy="joined")
