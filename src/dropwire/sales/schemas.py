from datetime import datetime
from typing import Annotated, Any

from pydantic import ConfigDict, Field, model_validator

from dropwire.core.schemas import ApiInput, ApiModel, ExternalId, Id, Money, requires_one_of
from dropwire.sales.models import (
    CancellationStatus,
    CancelReason,
    PaymentStatus,
    PurchaseInventoryStatus,
    SaleInventoryStatus,
)

Text255 = Annotated[str, Field(max_length=255)]
Positive = Annotated[int, Field(ge=1, le=1_000_000, strict=True)]


class SaleDefaults(ApiInput):
    """Sale fields a channel may set (Onport's `saleDefaults`)."""

    reference: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    date_ordered: datetime | None = None
    payment_status: PaymentStatus | None = None
    cancelled: bool | None = Field(
        default=None,
        description="True when the store cancelled the order (see automaticallyCancelSales)",
    )
    cancel_reason: CancelReason | None = None
    notes: Annotated[str, Field(max_length=5000)] | None = None
    receiver_first_name: Text255 | None = None
    receiver_last_name: Text255 | None = None
    receiver_company: Text255 | None = None
    receiver_address1: Text255 | None = None
    receiver_address2: Text255 | None = None
    receiver_city: Text255 | None = None
    receiver_province: Text255 | None = None
    receiver_zip: Text255 | None = None
    receiver_country: Annotated[str, Field(pattern=r"^[A-Za-z]{2}$")] | None = None
    receiver_phone: Text255 | None = None
    billing_first_name: Text255 | None = None
    billing_last_name: Text255 | None = None
    billing_company: Text255 | None = None
    billing_address1: Text255 | None = None
    billing_address2: Text255 | None = None
    billing_city: Text255 | None = None
    billing_province: Text255 | None = None
    billing_zip: Text255 | None = None
    billing_country: Annotated[str, Field(pattern=r"^[A-Za-z]{2}$")] | None = None


class Customer(ApiInput):
    first_name: Text255 | None = None
    last_name: Text255 | None = None
    email: Text255 | None = None
    phone: Text255 | None = None


class VariantRef(ApiInput):
    model_config = ConfigDict(json_schema_extra=requires_one_of("sku", "externalId"))

    sku: Annotated[str, Field(min_length=1, max_length=255)] | None = None
    external_id: Annotated[str, Field(min_length=1, max_length=255)] | None = None

    @model_validator(mode="after")
    def _one(self) -> "VariantRef":
        if self.sku is None and self.external_id is None:
            raise ValueError("give sku or externalId")
        return self


class Property(ApiInput):
    key: Annotated[str, Field(min_length=1, max_length=255)]
    value: Annotated[str, Field(max_length=2000)] | None = None


class LineItem(ApiInput):
    external_id: ExternalId
    name: Text255 | None = None
    quantity: Positive
    price: Money | None = None
    taxable: bool = True
    variant: VariantRef
    properties: list[Property] = Field(default_factory=list, max_length=50)


class ShippingLine(ApiInput):
    code: Text255 | None = None
    name: Text255 | None = None
    service_level: Text255 | None = None
    price: Money | None = None


class ManualSale(ApiInput):
    external_id: ExternalId
    sale_defaults: SaleDefaults = Field(default_factory=SaleDefaults)
    customer: Customer = Field(default_factory=Customer)
    line_items: list[LineItem] = Field(min_length=1, max_length=250)
    shipping: list[ShippingLine] = Field(default_factory=list, max_length=20)
    options: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _unique_lines(self) -> "ManualSale":
        seen: set[str] = set()
        for line in self.line_items:
            if line.external_id in seen:
                raise ValueError(f"line externalId '{line.external_id}' appears twice")
            seen.add(line.external_id)
        return self


class LineQuantity(ApiInput):
    """A line (sale item or purchase item) by id, and how many of its units."""

    id: Id
    quantity: Positive


class CancelRequest(ApiInput):
    sale_items: list[LineQuantity] | None = Field(default=None, max_length=250)
    cancel_reason: CancelReason = CancelReason.other


class ShipRequest(ApiInput):
    tracking_number: Text255 | None = None
    tracking_company: Text255 | None = None
    tracking_url: Annotated[str, Field(max_length=2048)] | None = None
    service_level: Text255 | None = None
    purchase_items: list[LineQuantity] | None = Field(default=None, max_length=250)


class PurchaseUpdate(ApiInput):
    order_splitting_key: Annotated[str, Field(max_length=64)] | None = None


class MoveDropshipProvider(ApiInput):
    dropship_provider_id: Id


class SaleItemRead(ApiModel):
    id: int
    sale_id: int
    external_id: str
    variant_id: int | None
    sku: str | None
    name: str | None
    quantity: int
    price: Money | None
    taxable: bool
    properties: list[dict[str, Any]]
    quantity_shipped: int
    quantity_cancelled: int
    quantity_open: int
    problem: str | None


class PurchaseItemRead(ApiModel):
    id: int
    purchase_id: int
    sale_item_id: int
    variant_id: int | None
    name: str | None
    quantity: int
    quantity_shipped: int
    quantity_cancelled: int
    quantity_open: int
    cost_price: Money | None


class PurchaseRead(ApiModel):
    id: int
    sale_id: int
    dropship_provider_id: int | None
    warehouse_id: int | None
    is_dropship: bool
    external_reference: str
    inventory_status: PurchaseInventoryStatus
    cancellation_status: CancellationStatus
    cancelled_at: datetime | None
    order_splitting: str
    order_splitting_key: str | None
    purchase_items: list[PurchaseItemRead] = Field(validation_alias="items")
    created_at: datetime
    updated_at: datetime


class FulfillmentItemRead(ApiModel):
    id: int
    purchase_item_id: int
    sale_item_id: int
    quantity: int


class FulfillmentRead(ApiModel):
    id: int
    sale_id: int
    purchase_id: int
    reference: str
    tracking_number: str | None
    tracking_company: str | None
    tracking_url: str | None
    service_level: str | None
    shipped_at: datetime
    fulfillment_items: list[FulfillmentItemRead] = Field(validation_alias="items")
    created_at: datetime


class SaleRead(ApiModel):
    id: int
    channel_id: int
    external_id: str
    reference: str
    date_ordered: datetime | None
    customer: dict[str, Any]
    sale_defaults: dict[str, Any]
    receiver_country: str | None
    shipping: list[dict[str, Any]]
    options: dict[str, Any]
    dropship_problems: list[str]
    inventory_status: SaleInventoryStatus
    payment_status: PaymentStatus
    cancellation_status: CancellationStatus
    cancel_reason: CancelReason | None
    cancelled_at: datetime | None
    sale_items: list[SaleItemRead] = Field(validation_alias="items")
    purchases: list[PurchaseRead]
    fulfillments: list[FulfillmentRead]
    created_at: datetime
    updated_at: datetime
