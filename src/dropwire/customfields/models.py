"""Custom fields: definitions (Onport's `CustomField`) and their values on records.

A definition names a field of one resource (`sale`, `purchase`, `variant`, `dropship_provider`):
its `key`, `label`, `type`. Values live in one table per resource, as Onport's joining resources
do (`CustomFieldSale`, `CustomFieldPurchase`, ...), so each has a foreign key to its record and
goes with it. A value is text in the canonical form of its type (`service.canonical`).
"""

from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dropwire.core.db import Base, IdMixin, TimestampMixin


class CustomFieldResource(StrEnum):
    sale = "sale"
    purchase = "purchase"
    variant = "variant"
    dropship_provider = "dropship_provider"


class CustomFieldType(StrEnum):
    text = "text"
    number = "number"
    integer = "integer"
    boolean = "boolean"
    date = "date"
    datetime = "datetime"
    select = "select"


class CustomField(IdMixin, TimestampMixin, Base):
    __tablename__ = "custom_fields"
    __table_args__ = (UniqueConstraint("resource", "key"),)

    resource: Mapped[CustomFieldResource] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(100))
    label: Mapped[str] = mapped_column(String(255))
    type: Mapped[CustomFieldType] = mapped_column(String(16))
    help_text: Mapped[str | None] = mapped_column(Text)
    options: Mapped[list[str]] = mapped_column(JSON, default=list)
    vendor_editable: Mapped[bool] = mapped_column(default=False)


class _Value(IdMixin, TimestampMixin):
    """A value of one custom field on one record."""

    custom_field_id: Mapped[int] = mapped_column(
        ForeignKey("custom_fields.id", ondelete="CASCADE"), index=True
    )

    value: Mapped[str] = mapped_column(Text)


class CustomFieldSale(_Value, Base):
    __tablename__ = "custom_field_sales"
    __table_args__ = (UniqueConstraint("sale_id", "custom_field_id"),)

    sale_id: Mapped[int] = mapped_column(ForeignKey("sales.id", ondelete="CASCADE"))


class CustomFieldPurchase(_Value, Base):
    __tablename__ = "custom_field_purchases"
    __table_args__ = (UniqueConstraint("purchase_id", "custom_field_id"),)

    purchase_id: Mapped[int] = mapped_column(ForeignKey("purchases.id", ondelete="CASCADE"))


class CustomFieldVariant(_Value, Base):
    __tablename__ = "custom_field_variants"
    __table_args__ = (UniqueConstraint("variant_id", "custom_field_id"),)

    variant_id: Mapped[int] = mapped_column(ForeignKey("variants.id", ondelete="CASCADE"))


class CustomFieldDropshipProvider(_Value, Base):
    __tablename__ = "custom_field_dropship_providers"
    __table_args__ = (UniqueConstraint("dropship_provider_id", "custom_field_id"),)

    dropship_provider_id: Mapped[int] = mapped_column(
        ForeignKey("dropship_providers.id", ondelete="CASCADE")
    )


ValueModel = (
    type[CustomFieldSale]
    | type[CustomFieldPurchase]
    | type[CustomFieldVariant]
    | type[CustomFieldDropshipProvider]
)

VALUE_MODELS: dict[CustomFieldResource, tuple[ValueModel, str]] = {
    CustomFieldResource.sale: (CustomFieldSale, "sale_id"),
    CustomFieldResource.purchase: (CustomFieldPurchase, "purchase_id"),
    CustomFieldResource.variant: (CustomFieldVariant, "variant_id"),
    CustomFieldResource.dropship_provider: (CustomFieldDropshipProvider, "dropship_provider_id"),
}
