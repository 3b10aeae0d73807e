import re
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Annotated

from pydantic import AfterValidator, Field, WithJsonSchema, field_validator

from dropwire.auth.permissions import VendorWritable
from dropwire.core.schemas import (
    ApiInput,
    CompanyRecord,
    ExternalId,
    HttpUrl,
    Id,
    Name,
    unstorable_character,
)
from dropwire.vendors.models import (
    CommissionMethod,
    CountryFilter,
    OrderSplitting,
    PaymentSchedule,
    PaymentTrigger,
    PurchaseOrderDelivery,
    RateBase,
    RateType,
    ReturnPenalty,
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


def _four_places(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN)


def _decimal_schema(maximum: int) -> WithJsonSchema:
    """What a non-negative decimal input may be: a number, or the same as a decimal string."""
    return WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "maximum": maximum},
                {
                    "type": "string",
                    "pattern": rf"^\+?[0-9]{{1,{len(str(maximum)) - 1}}}(\.[0-9]{{1,4}})?$",
                },
            ]
        },
        mode="validation",
    )


RateValue = Annotated[
    Decimal,
    Field(ge=0, le=999_999_999, allow_inf_nan=False),
    AfterValidator(_four_places),
    _decimal_schema(999_999_999),
]
"""A commission rate: a percentage, or a fixed amount per unit (kept to 4 decimal places)."""
Percent = Annotated[
    Decimal,
    Field(ge=0, le=100, allow_inf_nan=False),
    AfterValidator(_four_places),
    _decimal_schema(100),
]


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
    default_carrier: str | None = Field(
        default=None, max_length=255, description="trackingCompany of default-label shipments"
    )
    default_service_level: str | None = Field(default=None, max_length=255)
    commission_method: CommissionMethod | None = None
    commission_rate: RateValue | None = None
    commission_rate_type: RateType | None = None
    commission_rate_base: RateBase | None = None
    commission_rate_shipping: Percent | None = Field(
        default=None, description="Percent of the shipping charged for its lines the merchant keeps"
    )
    commission_rate_discount_split: Percent | None = Field(
        default=None, description="Percent of a line's discount the vendor bears"
    )
    apply_return_penalty: ReturnPenalty | None = None
    payment_trigger: PaymentTrigger | None = None
    payment_schedule: PaymentSchedule | None = None
    payment_delay_days: int | None = Field(default=None, ge=0, le=3650)
    payment_method_id: Id | None = None
    stripe_id: str | None = Field(default=None, max_length=255, pattern=r"^acct_[A-Za-z0-9]+$")

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
            "default_carrier",
            "default_service_level",
            "payment_method_id",
            "stripe_id",
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
    default_carrier: str | None
    default_service_level: str | None
    commission_method: CommissionMethod
    commission_rate: Decimal
    commission_rate_type: RateType
    commission_rate_base: RateBase
    commission_rate_shipping: Decimal
    commission_rate_discount_split: Decimal
    apply_return_penalty: ReturnPenalty
    payment_trigger: PaymentTrigger
    payment_schedule: PaymentSchedule
    payment_delay_days: int
    payment_method_id: int | None
    stripe_id: str | None
    created_at: datetime
    updated_at: datetime


# What a vendor token may write of its own profile (`auth.permissions`): contact details and
# where its purchase orders go.
PROFILE_WRITABLE = VendorWritable(
    "dropship provider",
    frozenset({"name", "email", "websiteUrl", "orderEndpoint", "webhookSecret"}),
)
