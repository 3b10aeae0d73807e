from datetime import datetime
from typing import Annotated, Any

from pydantic import ConfigDict, Field, field_validator, model_validator

from dropwire.core.schemas import (
    ApiInput,
    ApiModel,
    CompanyRecord,
    Id,
    Money,
    Name,
    requires_one_of,
)

Text255 = Annotated[str, Field(max_length=255)]
Grams = Annotated[int, Field(ge=0, le=100_000_000)]
CountryCode = Annotated[str, Field(pattern=r"^[A-Za-z]{2}$")]


class RateFields(ApiInput):
    code: Text255 | None = None
    carrier: Text255 | None = None
    service_level: Text255 | None = None
    price: Money | None = None
    countries: list[CountryCode] | None = Field(default=None, max_length=300)
    min_grams: Grams | None = None
    max_grams: Grams | None = None

    @field_validator("countries")
    @classmethod
    def _upper(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else sorted({c.upper() for c in value})

    @model_validator(mode="after")
    def _band(self) -> "RateFields":
        low, high = self.min_grams, self.max_grams
        if low is not None and high is not None and high <= low:
            raise ValueError("maxGrams must be above minGrams")
        return self


class RateCreate(RateFields):
    dropship_provider_id: Id
    name: Name
    price: Money


class RateUpdate(RateFields):
    clearable = frozenset({"code", "carrier", "service_level", "min_grams", "max_grams"})

    name: Name | None = None


class RateRead(CompanyRecord):
    id: int
    dropship_provider_id: int
    name: str
    code: str | None
    carrier: str | None
    service_level: str | None
    price: Money
    countries: list[str]
    min_grams: int | None
    max_grams: int | None
    created_at: datetime
    updated_at: datetime


class Quote(CompanyRecord):
    """A rate that applies to a parcel (Onport's rates answer, one per rate)."""

    id: int = Field(description="The shipping rate's id")
    dropship_provider_id: int
    name: str
    code: str | None
    carrier: str | None
    service_level: str | None
    price: Money
    grams: int = Field(description="The parcel's weight the rate was chosen for")


class CartItem(ApiInput):
    model_config = ConfigDict(json_schema_extra=requires_one_of("sku", "variantId"))

    sku: Annotated[str, Field(min_length=1, max_length=255)] | None = None
    variant_id: Id | None = None
    quantity: Annotated[int, Field(ge=1, le=1_000_000)] = 1
    grams: Grams | None = Field(default=None, description="Per unit; the variant's if omitted")

    @model_validator(mode="after")
    def _named(self) -> "CartItem":
        if self.sku is None and self.variant_id is None:
            raise ValueError("give sku or variantId")
        return self


class Destination(ApiInput):
    country: CountryCode | None = None
    province: Text255 | None = None
    zip: Text255 | None = None


class RouteShipments(ApiInput):
    """`POST /channels/{id}/route-shipments.json`: a cart, for checkout rates per vendor."""

    destination: Destination = Field(default_factory=Destination)
    items: list[CartItem] = Field(min_length=1, max_length=250)


class VendorShipment(ApiModel):
    """One vendor's share of the cart and the rates its parcel may ship with."""

    dropship_provider_id: int | None
    items: list[dict[str, Any]]
    grams: int
    rates: list[Quote]
    cheapest: Money | None = None
