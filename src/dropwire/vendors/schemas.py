import re
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field, field_validator

from dropwire.core.schemas import (
    ApiInput,
    CompanyRecord,
    ExternalId,
    HttpUrl,
    Name,
    unstorable_character,
)
from dropwire.vendors.models import (
    CountryFilter,
    OrderSplitting,
    PurchaseOrderDelivery,
    VendorStatus,
)

CountryCode = Annotated[str, Field(pattern=r"^[A-Za-z]{2}$")]
_ADDRESS = re.compile(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+")


def _one_address(value: str) -> str:
    """One address, nothing around it: no spaces or line breaks, so it can never add a mail
    header."""
    problem = unstorable_character(value)
    if problem is not None:
        raise ValueError(problem)
    if not _ADDRESS.fullmatch(value):
        raise ValueError("must be one email address, like orders@vendor.example")
    return value


EmailAddress = Annotated[str, Field(max_length=254), AfterValidator(_one_address)]


class DropshipProviderFields(ApiInput):
    external_id: ExternalId | None = None
    status: VendorStatus | None = None
    priority: int | None = Field(default=None, ge=0, le=1_000_000)
    countries: list[CountryCode] | None = Field(default=None, max_length=300)
    country_filter: CountryFilter | None = None
    order_splitting: OrderSplitting | None = None
    order_endpoint: HttpUrl | None = None
    webhook_secret: str | None = Field(default=None, max_length=255)
    email: EmailAddress | None = None
    notification_emails: list[EmailAddress] | None = Field(default=None, max_length=20)
    purchase_order_delivery: PurchaseOrderDelivery | None = None
    website_url: HttpUrl | None = None

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
            "notification_emails",
            "purchase_order_delivery",
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
    notification_emails: list[str]
    purchase_order_delivery: PurchaseOrderDelivery = Field(
        validation_alias="delivery_method",
        description="How purchase orders reach the vendor: email|webhook|portal",
    )
    website_url: str | None
    created_at: datetime
    updated_at: datetime
