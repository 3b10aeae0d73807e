from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column

from dropwire.core.db import Base, IdMixin, TimestampMixin
from dropwire.core.time import utcnow


class Warehouse(IdMixin, TimestampMixin, Base):
    """An in-house stock location. Exactly one is the default (adjustments without one go there)."""

    __tablename__ = "warehouses"
    __table_args__ = (
        Index(
            "uq_warehouses_one_default",
            "is_default",
            unique=True,
            sqlite_where=text("is_default"),
            postgresql_where=text("is_default"),
        ),
    )

    name: Mapped[str] = mapped_column(String(255))
    external_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    country: Mapped[str | None] = mapped_column(String(2))


class LocationKind(StrEnum):
    warehouse = "warehouse"
    feed = "feed"


class Location(IdMixin, Base):
    """Where stock is counted: an in-house warehouse or a vendor's inventory feed."""

    __tablename__ = "inventory_locations"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'warehouse' AND warehouse_id IS NOT NULL AND inventory_feed_id IS NULL)"
            " OR (kind = 'feed' AND inventory_feed_id IS NOT NULL AND warehouse_id IS NULL)",
            name="ck_inventory_locations_one_owner",
        ),
    )

    kind: Mapped[LocationKind] = mapped_column(String(16))
    warehouse_id: Mapped[int | None] = mapped_column(
        ForeignKey("warehouses.id", ondelete="CASCADE"), unique=True
    )
    inventory_feed_id: Mapped[int | None] = mapped_column(unique=True)
    name: Mapped[str] = mapped_column(String(255))


class InventoryLevel(IdMixin, Base):
    """Stocked and allocated units of one variant at one location."""

    __tablename__ = "inventory_levels"
    __table_args__ = (
        UniqueConstraint("variant_id", "location_id"),
        CheckConstraint("allocated >= 0", name="ck_inventory_levels_allocated"),
        CheckConstraint("stocked >= 0", name="ck_inventory_levels_stocked"),
        CheckConstraint("buffer >= 0", name="ck_inventory_levels_buffer"),
    )

    variant_id: Mapped[int] = mapped_column(ForeignKey("variants.id", ondelete="CASCADE"))
    location_id: Mapped[int] = mapped_column(
        ForeignKey("inventory_locations.id", ondelete="CASCADE"), index=True
    )
    stocked: Mapped[int] = mapped_column(default=0)
    allocated: Mapped[int] = mapped_column(default=0)
    buffer: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @hybrid_property
    def available(self) -> int:
        """Available = stocked - allocated: the one definition, in Python and in SQL."""
        return self.stocked - self.allocated


class MovementCause(StrEnum):
    adjustment = "adjustment"
    feed = "feed"
    allocation = "allocation"
    release = "release"
    shipment = "shipment"
    cancellation = "cancellation"
    correction = "correction"
    return_ = "return"  # units a customer sent back, restocked


class InventoryMovement(IdMixin, Base):
    """The ledger: one row per change of stocked or allocated. Levels are its running sums."""

    __tablename__ = "inventory_movements"
    __table_args__ = (
        Index("ix_inventory_movements_variant_location", "variant_id", "location_id"),
        Index("ix_inventory_movements_reference", "reference_type", "reference_id"),
    )

    variant_id: Mapped[int] = mapped_column(ForeignKey("variants.id", ondelete="CASCADE"))
    location_id: Mapped[int] = mapped_column(
        ForeignKey("inventory_locations.id", ondelete="CASCADE")
    )
    delta_stocked: Mapped[int] = mapped_column(default=0)
    delta_allocated: Mapped[int] = mapped_column(default=0)
    stocked_after: Mapped[int]
    allocated_after: Mapped[int]
    cause: Mapped[MovementCause] = mapped_column(String(16), index=True)
    reference_type: Mapped[str | None] = mapped_column(String(32))
    reference_id: Mapped[int | None]
    reason: Mapped[str | None] = mapped_column(String(500))
    actor: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Allocation(IdMixin, TimestampMixin, Base):
    """Units of a level reserved for one sale line, until shipped or released."""

    __tablename__ = "inventory_allocations"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="ck_allocations_quantity"),
        CheckConstraint(
            "shipped >= 0 AND released >= 0 AND shipped + released <= quantity",
            name="ck_allocations_consumed",
        ),
        Index("ix_inventory_allocations_open", "variant_id", "is_open"),
    )

    variant_id: Mapped[int] = mapped_column(ForeignKey("variants.id", ondelete="CASCADE"))
    location_id: Mapped[int] = mapped_column(
        ForeignKey("inventory_locations.id", ondelete="CASCADE")
    )
    level_id: Mapped[int] = mapped_column(ForeignKey("inventory_levels.id", ondelete="CASCADE"))
    sale_id: Mapped[int | None] = mapped_column(index=True)
    sale_item_id: Mapped[int | None] = mapped_column(index=True)
    quantity: Mapped[int]
    shipped: Mapped[int] = mapped_column(default=0)
    released: Mapped[int] = mapped_column(default=0)
    is_open: Mapped[bool] = mapped_column(default=True)

    @property
    def open_quantity(self) -> int:
        return self.quantity - self.shipped - self.released
