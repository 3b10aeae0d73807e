from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, Field, field_serializer

from dropwire.apilog.redaction import masked_url
from dropwire.auth.permissions import VendorWritable
from dropwire.catalog.schemas import VariantOption
from dropwire.core.schemas import (
    URL_REST,
    ApiInput,
    ApiModel,
    CompanyRecord,
    ExternalId,
    Id,
    Money,
    Name,
    NumberAsText,
    check_url,
)
from dropwire.feeds.models import (
    DecimalNotation,
    Delimiter,
    FetchFrequency,
    QuantityOverride,
    ResourceType,
    RunStatus,
)

FEED_SCHEMES = ("http", "https", "ftp", "ftps")


def _feed_url(value: str) -> str:
    return check_url(value, FEED_SCHEMES)


FeedUrl = Annotated[
    str, Field(max_length=2048, pattern=r"^(https?|ftps?)" + URL_REST), AfterValidator(_feed_url)
]
Quantity = Annotated[int, Field(ge=0, le=100_000_000, strict=True)]


class FeedFields(ApiInput):
    resource_type: ResourceType | None = None
    resource_location: FeedUrl | None = Field(
        default=None, description="http(s) or ftp(s) URL; credentials may sit in it (RFC 1738)"
    )
    mapping: dict[str, Any] | None = None
    fetch_frequency: FetchFrequency | None = None
    fetch_interval_minutes: int | None = Field(default=None, ge=5, le=10_080)
    diff_previous: bool | None = None
    fetch_cleanup: bool | None = None
    automatically_connect: bool | None = None
    automatically_connect_by_barcode: bool | None = None
    case_insensitive_skus: bool | None = None
    allocation_buffer: int | None = Field(default=None, ge=0, le=1_000_000)
    enabled: bool | None = None
    delimiter: Delimiter | None = None
    csv_has_header: bool | None = None
    decimal_notation: DecimalNotation | None = None
    authentication_token: Annotated[str, Field(max_length=2048)] | None = Field(
        default=None, description="Sent as a bearer token to REST sources; never shown back"
    )
    cleanup_guard_percent: int | None = Field(
        default=None,
        ge=0,
        le=100,
        description="Hold a run that would drop or zero more than this share of items (0: off)",
    )


class FeedCreate(FeedFields):
    dropship_provider_id: Id
    name: Name | None = None


class FeedUpdate(FeedFields):
    name: Name | None = None


class FeedRead(CompanyRecord):
    id: int
    dropship_provider_id: int
    name: str
    resource_type: ResourceType
    resource_location: str | None
    mapping: dict[str, Any]
    fetch_frequency: FetchFrequency
    fetch_interval_minutes: int | None
    diff_previous: bool
    fetch_cleanup: bool
    automatically_connect: bool
    automatically_connect_by_barcode: bool
    case_insensitive_skus: bool
    allocation_buffer: int
    enabled: bool
    delimiter: Delimiter
    csv_has_header: bool
    decimal_notation: DecimalNotation
    cleanup_guard_percent: int
    next_fetch_at: datetime | None = Field(description="When the schedule fetches next")
    authentication_token_set: bool = Field(
        default=False, description="Whether a bearer token is stored (it is never shown)"
    )
    hash: str = Field(description="Read-only: the inbound secret (jetti-webhook-hash)")
    created_at: datetime
    updated_at: datetime

    @field_serializer("resource_location")
    def _hide_password(self, value: str | None) -> str | None:
        return masked_url(value)


class LocationQuantity(ApiInput):
    external_location_id: Annotated[str, Field(max_length=255)] | None = None
    name: Annotated[str, Field(max_length=255)] | None = None
    inventory_quantity: Quantity


class FeedVariantData(ApiInput):
    """What a vendor sends about one item (parse-webhook and the async batch)."""

    external_id: ExternalId
    vendor_sku: Annotated[str, NumberAsText, Field(min_length=1, max_length=255)] | None = None
    inventory_quantity: Quantity | None = None
    name: Annotated[str, Field(max_length=255)] | None = None
    barcode: Annotated[str, NumberAsText, Field(max_length=64)] | None = None
    cost_price: Money | None = None
    price: Money | None = None
    compare_at_price: Money | None = None
    external_group_id: Annotated[str, NumberAsText, Field(max_length=255)] | None = None
    options: list[VariantOption] | None = Field(default=None, max_length=50)
    images: list[Annotated[str, Field(max_length=2048)]] | None = Field(default=None, max_length=50)
    tags: list[Annotated[str, Field(max_length=255)]] | None = Field(default=None, max_length=250)
    inventory_policy: Annotated[str, Field(pattern="^(track|continue|deny)$")] | None = None
    locations: list[LocationQuantity] | None = Field(default=None, max_length=100)


# The fields of a feed item, as the API names them: the one list, the schema's. What a vendor
# may report, what a pull feed's mapping may name, what the upsert stores are derived from it.
REPORTED_FIELDS = tuple(info.alias or name for name, info in FeedVariantData.model_fields.items())

# What a vendor token may write (`auth.permissions`): what it reports about an item of its own
# feeds (PUT, POST, parse-webhook), and which of its feeds; of a feed's settings nothing (they
# are the merchant's: source, matching, buffers).
FEED_VARIANT_WRITABLE = VendorWritable(
    "inventory feed variant", frozenset(REPORTED_FIELDS) | {"inventoryFeedId"}
)
FEED_WRITABLE = VendorWritable("inventory feed", frozenset())


class FeedVariantCreate(FeedVariantData):
    inventory_feed_id: Id


class FeedVariantUpdate(ApiInput):
    """Merchant-side edits of a feed variant (a quantity change goes through parse-webhook)."""

    clearable = frozenset({"manual_inventory_quantity", "allocation_buffer_override"})

    vendor_sku: Annotated[str, NumberAsText, Field(min_length=1, max_length=255)] | None = None
    inventory_quantity: Quantity | None = None
    name: Annotated[str, Field(max_length=255)] | None = None
    barcode: Annotated[str, NumberAsText, Field(max_length=64)] | None = None
    cost_price: Money | None = None
    price: Money | None = None
    inventory_quantity_override: QuantityOverride | None = None
    manual_inventory_quantity: Quantity | None = None
    allocation_buffer_override: Annotated[int, Field(ge=0, le=1_000_000)] | None = None
    variant_id: Id | None = Field(default=None, description="Connect to this variant")


class FeedVariantRead(CompanyRecord):
    id: int
    inventory_feed_id: int
    external_id: str
    vendor_sku: str | None
    name: str | None
    barcode: str | None
    cost_price: Money | None
    price: Money | None
    compare_at_price: Money | None
    external_group_id: str | None
    options: list[dict[str, Any]]
    images: list[str]
    tags: list[str]
    inventory_policy: str | None
    locations: list[dict[str, Any]]
    inventory_quantity: int
    inventory_quantity_override: QuantityOverride
    manual_inventory_quantity: int | None
    allocation_buffer_override: int | None
    variant_id: int | None
    connected: bool
    connected_at: datetime | None
    inventory_updated_at: datetime | None
    problem: str | None
    created_at: datetime
    updated_at: datetime


class RowProblem(ApiModel):
    row: int
    field: str
    message: str


class FeedRunRead(ApiModel):
    id: int
    inventory_feed_id: int
    status: RunStatus
    trigger: str
    approved: bool
    bytes: int
    rows_read: int
    rows_created: int
    rows_updated: int
    rows_unchanged: int
    rows_failed: int
    rows_zero: int
    rows_cleaned: int
    batches_applied: int
    rows_applied_through: int
    encoding: str | None
    errors: list[RowProblem]
    problem: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
