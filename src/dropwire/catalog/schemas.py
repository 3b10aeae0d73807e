from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field

from dropwire.catalog.models import ChannelVariantStatus, CommissionRateRouting, InventoryPolicy
from dropwire.core.schemas import ApiInput, CompanyRecord, Id, Money, Name, NumberAsText
from dropwire.vendors.models import RateType
from dropwire.vendors.schemas import RateValue

Sku = Annotated[str, NumberAsText, Field(min_length=1, max_length=255)]
Handle = Annotated[
    str,
    Field(
        min_length=1,
        max_length=255,
        pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
        description="The product's name in a store's URLs: lower-case letters, digits, hyphens",
    ),
]


class VariantOption(ApiInput):
    name: Annotated[str, Field(min_length=1, max_length=255)]
    value: Annotated[str, Field(max_length=255)]
    position: int | None = Field(default=None, ge=0, le=1_000_000)


class VariantFields(ApiInput):
    barcode: Annotated[str, NumberAsText, Field(max_length=64)] | None = None
    cost_price: Money | None = None
    price: Money | None = None
    grams: int | None = Field(default=None, ge=0, le=10_000_000, description="Shipping weight")
    inventory_policy: InventoryPolicy | None = None
    options: list[VariantOption] | None = Field(default=None, max_length=50)
    tags: list[Annotated[str, Field(max_length=255)]] | None = Field(default=None, max_length=250)
    images: list[Annotated[str, Field(max_length=2048)]] | None = Field(default=None, max_length=50)
    commission_rate: RateValue | None = None
    commission_rate_type: RateType | None = None
    commission_rate_routing: CommissionRateRouting | None = Field(
        default=None, description="variant: this variant's commissionRate applies to its lines"
    )


class VariantCreate(VariantFields):
    sku: Sku
    name: Name
    product_id: Id | None = Field(
        default=None, description="Omit to create a product named after the variant"
    )


class VariantUpdate(VariantFields):
    clearable = frozenset({"commission_rate"})

    sku: Sku | None = None
    name: Name | None = None
    product_id: Id | None = None


class ProductFields(ApiInput):
    handle: Handle | None = None
    product_type: Annotated[str, Field(max_length=255)] | None = None
    description: Annotated[str, Field(max_length=20_000)] | None = None


class ProductCreate(ProductFields):
    name: Name


class ProductUpdate(ProductFields):
    clearable = frozenset({"handle", "product_type", "description"})

    name: Name | None = None


class VariantRead(CompanyRecord):
    id: int
    product_id: int
    sku: str
    barcode: str | None
    name: str
    cost_price: Money | None
    price: Money | None
    grams: int = 0
    inventory_policy: InventoryPolicy
    options: list[dict[str, Any]]
    tags: list[str]
    images: list[str]
    commission_rate: Decimal | None
    commission_rate_type: RateType
    commission_rate_routing: CommissionRateRouting
    inventory_quantity: int = Field(0, description="Stocked units over all locations")
    inventory_allocated: int = Field(0, description="Allocated units over all locations")
    inventory_available: int = Field(0, description="inventoryQuantity - inventoryAllocated")
    created_at: datetime
    updated_at: datetime


class VariantSummaryRead(CompanyRecord):
    """A variant without its stock totals (embedded in other records)."""

    id: int
    product_id: int
    sku: str
    barcode: str | None
    name: str
    price: Money | None
    inventory_policy: InventoryPolicy


class ProductSummaryRead(CompanyRecord):
    id: int
    name: str
    handle: str | None
    external_group_id: str | None
    product_type: str | None


class ProductRead(CompanyRecord):
    id: int
    name: str
    handle: str | None
    external_group_id: str | None
    product_type: str | None
    variants: list[VariantRead]
    created_at: datetime
    updated_at: datetime


class ChannelVariantRead(CompanyRecord):
    id: int
    channel_id: int
    variant_id: int
    external_id: str | None
    external_group_id: str | None
    external_sku: str | None
    status: ChannelVariantStatus
    error_message: str | None
    pushed_quantity: int | None
    pushed_at: datetime | None
    created_at: datetime
    updated_at: datetime
