from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from dropwire.core.db import Base, IdMixin, TimestampMixin


class ShippingRate(IdMixin, TimestampMixin, Base):
    """One row of a vendor's rate table: a price for parcels to some countries in a weight band.

    No countries = every country; no bounds = any weight (a flat rate). Bounds are grams,
    `minGrams` inclusive and `maxGrams` exclusive, so adjacent bands never overlap."""

    __tablename__ = "shipping_rates"

    dropship_provider_id: Mapped[int] = mapped_column(
        ForeignKey("dropship_providers.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    code: Mapped[str | None] = mapped_column(String(255))
    carrier: Mapped[str | None] = mapped_column(String(255))
    service_level: Mapped[str | None] = mapped_column(String(255))
    price: Mapped[Decimal]
    countries: Mapped[list[str]] = mapped_column(JSON, default=list)
    min_grams: Mapped[int | None]
    max_grams: Mapped[int | None]
