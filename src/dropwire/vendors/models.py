from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from dropwire.core.db import Base, IdMixin, TimestampMixin


class VendorStatus(StrEnum):
    accepted = "accepted"
    pending = "pending"
    paused = "paused"
    declined = "declined"


class CountryFilter(StrEnum):
    all = "all"
    include = "include"
    exclude = "exclude"


class OrderSplitting(StrEnum):
    group = "group"
    split_quantity = "splitQuantity"


class DropshipProvider(IdMixin, TimestampMixin, Base):
    """A vendor: holds stock, receives purchase orders, ships to customers."""

    __tablename__ = "dropship_providers"

    name: Mapped[str] = mapped_column(String(255))
    external_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    status: Mapped[VendorStatus] = mapped_column(String(16), default=VendorStatus.accepted)
    priority: Mapped[int] = mapped_column(default=100)
    countries: Mapped[list[str]] = mapped_column(JSON, default=list)
    country_filter: Mapped[CountryFilter] = mapped_column(String(16), default=CountryFilter.all)
    order_splitting: Mapped[OrderSplitting] = mapped_column(
        String(16), default=OrderSplitting.group
    )
    order_endpoint: Mapped[str | None] = mapped_column(String(2048))
    webhook_secret: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(255))
    website_url: Mapped[str | None] = mapped_column(String(2048))
    # the carrier a "default label" ships with (Onport's default-label.json)
    default_carrier: Mapped[str | None] = mapped_column(String(255))
    default_service_level: Mapped[str | None] = mapped_column(String(255))
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    def serves_country(self, country: str | None) -> bool:
        """Whether this vendor may ship to `country` (ISO 3166-1 alpha-2) per its filter."""
        if self.country_filter == CountryFilter.all or not country:
            return True
        listed = country.upper() in {c.upper() for c in self.countries}
        return listed if self.country_filter == CountryFilter.include else not listed
