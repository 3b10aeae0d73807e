from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dropwire.core.db import Base, IdMixin, TimestampMixin
from dropwire.vendors.models import RateType


class InventoryPolicy(StrEnum):
    track = "track"  # sell only what is available
    continue_ = "continue"  # keep selling past zero (backorder)
    deny = "deny"  # never sell past zero, even if a channel asks


class CommissionRateRouting(StrEnum):
    dropship_provider = "dropship_provider"  # the vendor's rate (or a rule) applies
    variant = "variant"  # this variant's own rate applies


class ChannelVariantStatus(StrEnum):
    pending = "pending"
    acknowledging = "acknowledging"
    connected = "connected"
    error = "error"
    ignore = "ignore"


class Product(IdMixin, TimestampMixin, Base):
    """Groups variants into one listing (one product page on a channel)."""

    __tablename__ = "products"

    name: Mapped[str] = mapped_column(String(255))
    handle: Mapped[str | None] = mapped_column(String(255), index=True)
    external_group_id: Mapped[str | None] = mapped_column(String(255), index=True)
    product_type: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)

    variants: Mapped[list["Variant"]] = relationship(
        back_populates="product", order_by="Variant.id", lazy="selectin"
    )


class Variant(IdMixin, TimestampMixin, Base):
    """A sellable item, identified by its SKU across channels, warehouses and vendor feeds."""

    __tablename__ = "variants"
    __table_args__ = (
        # SKU prefix search under any collation (PostgreSQL; SQLite's GLOB uses the plain index)
        Index(
            "ix_variants_sku_key_prefix", "sku_key", postgresql_ops={"sku_key": "text_pattern_ops"}
        ).ddl_if(dialect="postgresql"),
    )

    product_id: Mapped[int] = mapped_column(
        ForeignKey("products.id", ondelete="RESTRICT"), index=True
    )
    sku: Mapped[str] = mapped_column(String(255), unique=True)
    sku_key: Mapped[str] = mapped_column(String(255), index=True)  # lower-cased, for matching
    barcode: Mapped[str | None] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(255))
    cost_price: Mapped[Decimal | None]
    price: Mapped[Decimal | None]
    grams: Mapped[int] = mapped_column(default=0, server_default="0")  # shipping weight
    inventory_policy: Mapped[InventoryPolicy] = mapped_column(
        String(16), default=InventoryPolicy.track
    )
    options: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    images: Mapped[list[str]] = mapped_column(JSON, default=list)
    commission_rate: Mapped[Decimal | None] = mapped_column(Numeric(14, 4, asdecimal=True))
    commission_rate_type: Mapped[RateType] = mapped_column(String(16), default=RateType.percentage)
    commission_rate_routing: Mapped[CommissionRateRouting] = mapped_column(
        String(24), default=CommissionRateRouting.dropship_provider
    )

    product: Mapped[Product] = relationship(back_populates="variants", lazy="joined")


class ChannelVariant(IdMixin, TimestampMixin, Base):
    """The link between a variant and its listing on one channel; remembers what was pushed."""

    __tablename__ = "channel_variants"
    __table_args__ = (
        UniqueConstraint("channel_id", "variant_id"),
        Index("ix_channel_variants_channel_external", "channel_id", "external_id"),
    )

    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    variant_id: Mapped[int] = mapped_column(
        ForeignKey("variants.id", ondelete="CASCADE"), index=True
    )
    external_id: Mapped[str | None] = mapped_column(String(255))
    external_group_id: Mapped[str | None] = mapped_column(String(255))
    external_sku: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[ChannelVariantStatus] = mapped_column(
        String(16), default=ChannelVariantStatus.pending
    )
    error_message: Mapped[str | None] = mapped_column(Text)
    pushed_quantity: Mapped[int | None]
    pushed_at: Mapped[datetime | None]

    variant: Mapped[Variant] = relationship(lazy="joined")
