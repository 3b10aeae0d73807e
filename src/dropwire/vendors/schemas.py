from datetime import datetime
from typing import Annotated

from pydantic import Field, field_validator

from dropwire.core.schemas import ApiInput, CompanyRecord, ExternalId, HttpUrl, Name
from dropwire.vendors.models import CountryFilter, OrderSplitting, VendorStatus

CountryCode = Annotated[str, Field(pattern=r"^[A-Za-z]{2}$")]


class DropshipProviderFields(ApiInput):
    external_id: ExternalId | None = None
    status: VendorStatus | None = None
    priority: int | None = Field(default=None, ge=0, le=1_000_000)
    countries: list[CountryCode] | None = Field(default=None, max_length=300)
    country_filter: CountryFilter | None = None
    order_splitting: OrderSplitting | None = None
    order_endpoint: HttpUrl | None = None
    webhook_secret: str | None = Field(default=None, max_length=255)
    email: str | None = Field(default=None, max_length=255)
    website_url: HttpUrl | None = None
    default_carrier: str | None = Field(
        default=None, max_length=255, description="trackingCompany of default-label shipments"
    )
    default_service_level: str | None = Field(default=None, max_length=255)

    @field_validator("countries")
    @classmethod
    def _upper(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else sorted({c.upper() for c in value})


class DropshipProviderCreate(DropshipProviderFields):
    name: Name


class DropshipProviderUpdate(DropshipProviderFields):
    clearable = frozenset(
        {
            "external_id",
            "order_endpoint",
            "webhook_secret",
            "email",
            "website_url",
            "default_carrier",
            "default_service_level",
        }
    )

    name: Name | None = None


class DropshipProviderRead(CompanyRecord):
    id: int
    name: str
    external_id: str | None
    status: VendorStatus
    priority: int = Field(description="Routing rank: a lower number is preferred")
    countries: list[str]
    country_filter: CountryFilter
    order_splitting: OrderSplitting
    order_endpoint: str | None
    webhook_secret: str | None
    email: str | None
    website_url: str | None
    default_carrier: str | None
    default_service_level: str | None
    created_at: datetime
    updated_at: datetime
