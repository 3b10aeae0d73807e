from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Numeric, String
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


class CommissionMethod(StrEnum):
    retained = "retained"  # the merchant collects and owes the vendor its payable
    reverse = "reverse"  # the vendor collects and owes the merchant the commission


class RateType(StrEnum):
    percentage = "percentage"
    fixed = "fixed"


class RateBase(StrEnum):
    sale_item = "saleItem"
    inventory_feed_variant = "inventoryFeedVariant"


class ReturnPenalty(StrEnum):
    disabled = "disabled"
    enabled = "enabled"


class PaymentTrigger(StrEnum):
    before_shipping = "beforeShipping"
    after_shipping = "afterShipping"
    on_delivery = "onDelivery"
    manual = "manual"


class PaymentSchedule(StrEnum):
    manual = "manual"
    daily = "daily"
    weekly = "weekly"
    biweekly = "biweekly"
    monthly = "monthly"


Rate = Numeric(14, 4, asdecimal=True)


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
    # What the merchant keeps of this vendor's sales and when the vendor is invoiced and paid
    # (the rules that use them are in payments/).
    commission_method: Mapped[CommissionMethod] = mapped_column(
        String(16), default=CommissionMethod.retained
    )
    commission_rate: Mapped[Decimal] = mapped_column(Rate, default=Decimal(0))
    commission_rate_type: Mapped[RateType] = mapped_column(String(16), default=RateType.percentage)
    commission_rate_base: Mapped[RateBase] = mapped_column(String(24), default=RateBase.sale_item)
    commission_rate_shipping: Mapped[Decimal] = mapped_column(Rate, default=Decimal(100))
    commission_rate_discount_split: Mapped[Decimal] = mapped_column(Rate, default=Decimal(100))
    apply_return_penalty: Mapped[ReturnPenalty] = mapped_column(
        String(16), default=ReturnPenalty.disabled
    )
    payment_trigger: Mapped[PaymentTrigger] = mapped_column(
        String(16), default=PaymentTrigger.after_shipping
    )
    payment_schedule: Mapped[PaymentSchedule] = mapped_column(
        String(16), default=PaymentSchedule.manual
    )
    payment_delay_days: Mapped[int] = mapped_column(default=0)
    payment_method_id: Mapped[int | None] = mapped_column(
        ForeignKey("payment_methods.id", ondelete="SET NULL")
    )
    stripe_id: Mapped[str | None] = mapped_column(String(255))

    def serves_country(self, country: str | None) -> bool:
        """Whether this vendor may ship to `country` (ISO 3166-1 alpha-2) per its filter."""
        if self.country_filter == CountryFilter.all or not country:
            return True
        listed = country.upper() in {c.upper() for c in self.countries}
        return listed if self.country_filter == CountryFilter.include else not listed
