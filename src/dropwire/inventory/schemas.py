from datetime import datetime
from typing import Annotated, Any, ClassVar

from pydantic import ConfigDict, Field, model_validator

from dropwire.core.schemas import (
    MAX_UNITS,
    ApiInput,
    ApiModel,
    CompanyRecord,
    ExternalId,
    Id,
    Name,
    NumberAsText,
    requires_one_of,
)
from dropwire.inventory.models import LocationKind, MovementCause

CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]


class WarehouseCreate(ApiInput):
    name: Name
    external_id: ExternalId | None = None
    is_default: bool = False
    country: CountryCode | None = None


class WarehouseUpdate(ApiInput):
    name: Name | None = None
    external_id: ExternalId | None = None
    is_default: bool | None = None
    country: CountryCode | None = None


class WarehouseRead(CompanyRecord):
    id: int
    name: str
    external_id: str | None
    is_default: bool
    country: str | None
    created_at: datetime
    updated_at: datetime


class InventoryAdjustmentCreate(ApiInput):
    model_config = ConfigDict(
        json_schema_extra=requires_one_of("quantity", "setStocked", exactly=True)
    )

    variant_id: Id
    warehouse_id: Id | None = Field(default=None, description="Default warehouse if omitted")
    quantity: int | None = Field(
        default=None,
        ge=-MAX_UNITS,
        le=MAX_UNITS,
        description="Change of stocked (+/-), never 0",
        json_schema_extra={"not": {"const": 0}},
    )
    set_stocked: int | None = Field(
        default=None, ge=0, le=MAX_UNITS, description="New stocked value"
    )
    reason: Annotated[str, Field(max_length=500)] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> "InventoryAdjustmentCreate":
        if (self.quantity is None) == (self.set_stocked is None):
            raise ValueError("give exactly one of quantity (a delta) or setStocked")
        if self.quantity == 0:
            raise ValueError("quantity must not be zero")
        return self


class SetLevel(ApiInput):
    """Onport's `set-level`: stocked becomes `quantity` at a warehouse (the default if omitted)."""

    ONPORT_ALIASES: ClassVar[dict[str, str]] = {"inventoryQuantity": "quantity"}

    quantity: int = Field(ge=0, le=100_000_000, strict=True)
    warehouse_id: Id | None = None
    notes: Annotated[str, Field(max_length=500)] | None = None


class ChannelSetLevel(SetLevel):
    """`set-variant-level`: the variant named by the channel's listing id, or by SKU."""

    external_id: ExternalId | None = None
    sku: Annotated[str, NumberAsText, Field(min_length=1, max_length=255)] | None = None

    @model_validator(mode="after")
    def _named(self) -> "ChannelSetLevel":
        if self.external_id is None and self.sku is None:
            raise ValueError("give externalId (the channel's id of the variant) or sku")
        return self


class LevelRead(ApiModel):
    location_id: int
    location_kind: LocationKind
    location_name: str
    warehouse_id: int | None
    inventory_feed_id: int | None
    stocked: int
    allocated: int
    available: int
    buffer: int
    updated_at: datetime


class InventoryMovementRead(ApiModel):
    id: int
    variant_id: int
    location_id: int
    delta_stocked: int
    delta_allocated: int
    stocked_after: int
    allocated_after: int
    cause: MovementCause
    reference_type: str | None
    reference_id: int | None
    reason: str | None
    actor: str | None
    created_at: datetime


class InventoryAdjustmentRead(ApiModel):
    variant_id: int
    warehouse_id: int
    movement: InventoryMovementRead | None = Field(
        description="The ledger row written; null when the adjustment changed nothing"
    )
    level: LevelRead


class AllocationRead(ApiModel):
    id: int
    location_id: int
    sale_id: int | None
    sale_item_id: int | None
    quantity: int
    shipped: int
    released: int
    open_quantity: int
    created_at: datetime


class VariantInventoryRead(ApiModel):
    variant_id: int
    sku: str
    inventory_policy: str
    stocked: int
    allocated: int
    available: int
    locations: list[LevelRead]
    allocations: list[AllocationRead]
    feed_variants: list[dict[str, Any]] = Field(
        description="Connected vendor feed variants: vendor, vendor SKU, quantity, last update"
    )
    recent_sales: list[dict[str, Any]]
