from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    computed_field,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from dropwire.core.schemas import (
    ApiInput,
    ApiModel,
    CompanyRecord,
    ExternalId,
    Id,
    Money,
    Name,
    NumberAsText,
    requires_one_of,
)
from dropwire.sales.models import (
    CancellationStatus,
    CancelReason,
    CloneReason,
    InvoiceStatus,
    PaymentStatus,
    PurchaseInventoryStatus,
    PurchaseStatusLevel,
    ReturnStatus,
    SaleInventoryStatus,
)

Text255 = Annotated[str, Field(max_length=255)]
Positive = Annotated[int, Field(ge=1, le=1_000_000, strict=True)]
Currency = Annotated[str, Field(pattern=r"^[A-Za-z]{3}$"), AfterValidator(str.upper)]


class SaleDefaults(ApiInput):
    """Sale fields a channel may set (Onport's `saleDefaults`)."""

    ONPORT_ALIASES: ClassVar[dict[str, str]] = {
        "shippingFirstName": "receiverFirstName",
        "shippingLastName": "receiverLastName",
        "shippingCompany": "receiverCompany",
        "shippingAddressLineOne": "receiverAddress1",
        "shippingAddressLineTwo": "receiverAddress2",
        "shippingCity": "receiverCity",
        "shippingState": "receiverProvince",
        "shippingZip": "receiverZip",
        "shippingCountry": "receiverCountry",
        "shippingPhone": "receiverPhone",
        "receiverAddressLineOne": "receiverAddress1",
        "receiverAddressLineTwo": "receiverAddress2",
        "receiverState": "receiverProvince",
        "billingAddressLineOne": "billingAddress1",
        "billingAddressLineTwo": "billingAddress2",
        "billingState": "billingProvince",
    }

    reference: Annotated[str, NumberAsText, Field(min_length=1, max_length=64)] | None = None
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
    ONPORT_ALIASES: ClassVar[dict[str, str]] = {"phoneNumber": "phone"}

    first_name: Text255 | None = None
    last_name: Text255 | None = None
    email: Text255 | None = None
    phone: Text255 | None = None


class VariantRef(ApiInput):
    """Which variant a line sells: its SKU, the channel listing's id, or the listing's SKU."""

    model_config = ConfigDict(json_schema_extra=requires_one_of("sku", "externalId", "externalSku"))

    sku: Annotated[str, NumberAsText, Field(min_length=1, max_length=255)] | None = None
    external_id: Annotated[str, NumberAsText, Field(min_length=1, max_length=255)] | None = None
    external_sku: Annotated[str, NumberAsText, Field(min_length=1, max_length=255)] | None = None

    @model_validator(mode="after")
    def _one(self) -> "VariantRef":
        if self.sku is None and self.external_id is None and self.external_sku is None:
            raise ValueError("give sku, externalId or externalSku")
        return self


class Property(ApiInput):
    key: Annotated[str, Field(min_length=1, max_length=255)]
    value: Annotated[str, Field(max_length=2000)] | None = None


class LineItem(ApiInput):
    external_id: ExternalId
    name: Text255 | None = None
    quantity: Positive
    price: Money | None = None
    discount: Money | None = Field(
        default=None, description="The line's whole discount (the vendor bears its split of it)"
    )
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
    source: Annotated[str, Field(max_length=32)] | None = Field(
        default=None, description="Onport's sale source, e.g. custom; stored"
    )
    sale_defaults: SaleDefaults = Field(default_factory=SaleDefaults)
    customer: Customer = Field(default_factory=Customer)
    line_items: list[LineItem] = Field(min_length=1, max_length=250)
    shipping: list[ShippingLine] = Field(default_factory=list, max_length=20)
    options: dict[str, Any] = Field(default_factory=dict)
    currency: Currency | None = Field(
        default=None, description="ISO 4217; else the channel's, else DROPWIRE_DEFAULT_CURRENCY"
    )

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

    @property
    def line_id(self) -> int:
        return self.id


def each_line_once(lines: list[Any] | None) -> list[Any] | None:
    """A line named twice would be counted twice against its open units: refuse it (422)."""
    seen: set[int] = set()
    for line in lines or ():
        line_id = line if isinstance(line, int) else line.line_id
        if line_id in seen:
            raise ValueError(f"line {line_id} is named more than once")
        seen.add(line_id)
    return lines


AT_LEAST_ONE: dict[str, Any] = {"minItems": 1}
"""Schema of a line selection: an empty list is refused (leave it out to mean every open line)."""


class CancelRequest(ApiInput):
    sale_items: list[LineQuantity] | None = Field(
        default=None, max_length=250, json_schema_extra=AT_LEAST_ONE
    )
    cancel_reason: CancelReason = CancelReason.other

    _each_line_once = field_validator("sale_items")(each_line_once)


class ShipRequest(ApiInput):
    """A shipment; Onport's body names purchase items by `ids` (all their open units)."""

    tracking_number: Text255 | None = None
    tracking_company: Text255 | None = None
    tracking_url: Annotated[str, Field(max_length=2048)] | None = None
    service_level: Text255 | None = None
    purchase_items: list[LineQuantity] | None = Field(
        default=None, max_length=250, json_schema_extra=AT_LEAST_ONE
    )
    ids: list[Id] | None = Field(
        default=None, max_length=250, description="Purchase item ids; empty or omitted = all"
    )
    inventory_status: Literal["shipped"] | None = Field(
        default=None, description="Onport's ship body sends 'shipped'; it is the only value"
    )

    _each_line_once = field_validator("purchase_items", "ids")(each_line_once)

    @model_validator(mode="after")
    def _one_selection(self) -> "ShipRequest":
        if self.ids and self.purchase_items is not None:
            raise ValueError("give purchaseItems or ids, not both")
        return self


class FulfillmentItemInput(ApiInput):
    purchase_item_id: Id
    quantity: Positive

    @property
    def line_id(self) -> int:
        return self.purchase_item_id


class FulfillmentCreate(ShipRequest):
    """`POST /fulfillments.json`: a shipment of one purchase order."""

    purchase_id: Id
    fulfillment_items: list[FulfillmentItemInput] | None = Field(
        default=None, max_length=250, json_schema_extra=AT_LEAST_ONE
    )

    _fulfillment_lines_once = field_validator("fulfillment_items")(each_line_once)

    def ship_request(self) -> ShipRequest:
        items = self.purchase_items
        if self.fulfillment_items is not None:
            items = [
                LineQuantity(id=i.purchase_item_id, quantity=i.quantity)
                for i in self.fulfillment_items
            ]
        return ShipRequest.model_validate(
            self.model_dump(include=set(ShipRequest.model_fields)) | {"purchase_items": items}
        )


class PurchaseUpdate(ApiInput):
    order_splitting_key: Annotated[str, Field(max_length=64)] | None = None
    purchase_status_id: Id | None = None
    notes: Annotated[str, Field(max_length=5000)] | None = Field(
        default=None, description="A note with the status (e.g. why it was rejected)"
    )


class PurchaseCancel(ApiInput):
    """A vendor rejects (part of) a purchase order: its lines go back to routing."""

    purchase_items: list[LineQuantity] | None = Field(default=None, max_length=250)
    ids: list[Id] | None = Field(default=None, max_length=250)
    reason: Annotated[str, Field(max_length=2000)] | None = None
    set_quantities: bool = Field(
        default=True,
        description="false: the named lines are cancelled whole (their quantities are ignored)",
    )
    status: Annotated[str, Field(min_length=1, max_length=255)] | None = Field(
        default=None, description="The name of a purchase status the order takes (Rejected)"
    )
    notes: Annotated[str, Field(max_length=5000)] | None = None

    _each_line_once = field_validator("purchase_items", "ids")(each_line_once)


class CloneRequest(ApiInput):
    """`POST /sales/{id}/clone.json`: a new sale (an exchange, or a new order) from this one."""

    clone_reason: CloneReason = CloneReason.exchange
    sale_items: list[LineQuantity] | None = Field(
        default=None,
        max_length=250,
        json_schema_extra=AT_LEAST_ONE,
        description="The lines to clone and how many units; omitted = every line, all units",
    )
    clone_shipping_rates: bool = Field(
        default=False, description="Copy the sale's shipping lines (with their prices)"
    )

    _each_line_once = field_validator("sale_items")(each_line_once)


class DefaultLabelRequest(ApiInput):
    """`PUT /purchases/{id}/default-label.json`: ship with the vendor's default carrier."""

    inventory_status: Literal["shipped"] | None = None
    ids: list[Id] | None = Field(
        default=None, max_length=250, description="Purchase item ids; empty or omitted = all left"
    )

    _each_line_once = field_validator("ids")(each_line_once)


class SaleUpdate(SaleDefaults):
    """`PUT /sales/{id}.json`: Onport sends sale fields at the top level; ours nest them too."""

    customer: Customer | None = None
    sale_defaults: SaleDefaults | None = None
    options: dict[str, Any] | None = None


class PurchaseStatusFields(ApiInput):
    level: PurchaseStatusLevel | None = None
    position: int | None = Field(default=None, ge=0, le=1_000_000)


class PurchaseStatusCreate(PurchaseStatusFields):
    name: Name


class PurchaseStatusUpdate(PurchaseStatusFields):
    name: Name | None = None


class PurchaseStatusRead(CompanyRecord):
    id: int
    name: str
    level: PurchaseStatusLevel
    position: int
    created_at: datetime
    updated_at: datetime


class ReturnLine(ApiInput):
    sale_item_id: Id
    quantity: Positive


class SaleReturnCreate(ApiInput):
    """Items coming back (shipped units first; beyond those, open units are cancelled)."""

    ONPORT_ALIASES: ClassVar[dict[str, str]] = {"saleReturnItems": "items", "notes": "reason"}

    items: list[ReturnLine] = Field(min_length=1, max_length=250)
    reason: Annotated[str, Field(max_length=2000)] | None = None
    restock: bool = False
    warehouse_id: Id | None = Field(
        default=None, description="Where restocked units go; the default warehouse if omitted"
    )
    refund_amount: Money | None = None


class MoveDropshipProvider(ApiInput):
    dropship_provider_id: Id


class SaleItemRead(CompanyRecord):
    id: int
    sale_id: int
    external_id: str
    variant_id: int | None
    sku: str | None
    name: str | None
    quantity: int
    price: Money | None
    discount: Money
    taxable: bool
    properties: list[dict[str, Any]]
    quantity_shipped: int
    quantity_cancelled: int
    quantity_returned: int
    quantity_open: int
    problem: str | None


class PurchaseItemRead(CompanyRecord):
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
    quantity_invoiced: int
    invoice_status: InvoiceStatus
    payment_status: PaymentStatus = Field(validation_alias="vendor_payment_status")


RECEIVER_FIELDS = (
    "receiver_first_name",
    "receiver_last_name",
    "receiver_company",
    "receiver_address1",
    "receiver_address2",
    "receiver_city",
    "receiver_province",
    "receiver_zip",
    "receiver_country",
    "receiver_phone",
)
BILLING_FIELDS = (
    "billing_first_name",
    "billing_last_name",
    "billing_company",
    "billing_address1",
    "billing_address2",
    "billing_city",
    "billing_province",
    "billing_zip",
    "billing_country",
)
_STORED_AS = {name: to_camel(name) for name in RECEIVER_FIELDS + BILLING_FIELDS}
"""Each address field's key in the sale's stored (camelCase) `sale_defaults`, worked out once:
`to_camel` is a few regex passes, and a page of fifty orders asked it five hundred times."""


def _full_name(first: str | None, last: str | None) -> str | None:
    return " ".join(part for part in (first, last) if part) or None


class PurchaseRead(CompanyRecord):
    """A purchase order as its vendor may see it: where the parcel goes, no billing details
    (the same rule as the purchase-order webhook)."""

    id: int
    sale_id: int
    dropship_provider_id: int | None
    warehouse_id: int | None
    is_dropship: bool
    external_reference: str
    reference: str = Field(validation_alias="external_reference", description="Onport's name")
    inventory_status: PurchaseInventoryStatus
    invoice_status: InvoiceStatus
    payment_status: PaymentStatus = Field(
        validation_alias="vendor_payment_status", description="Of the vendor's invoices"
    )
    currency: str
    cancellation_status: CancellationStatus
    cancelled_at: datetime | None
    purchase_status_id: int | None
    order_splitting: str
    order_splitting_key: str | None
    send_status: str = Field(description="unsent|sent|failed: the last message to its vendor")
    sent_at: datetime | None
    notes: str | None = None
    purchase_items: list[PurchaseItemRead] = Field(validation_alias="items")
    addresses: dict[str, Any] = Field(default_factory=dict, exclude=True)
    receiver_first_name: str | None = None
    receiver_last_name: str | None = None
    receiver_company: str | None = None
    receiver_address1: str | None = None
    receiver_address2: str | None = None
    receiver_city: str | None = None
    receiver_province: str | None = None
    receiver_zip: str | None = None
    receiver_country: str | None = None
    receiver_phone: str | None = None
    created_at: datetime
    updated_at: datetime

    ADDRESS_FIELDS: ClassVar[tuple[str, ...]] = RECEIVER_FIELDS

    @model_validator(mode="after")
    def _fill_addresses(self) -> "PurchaseRead":
        """The sale's stored (camelCase) address fields this shape shows."""
        for name in self.ADDRESS_FIELDS:
            value = self.addresses.get(_STORED_AS[name])
            if value is not None and getattr(self, name) is None:
                setattr(self, name, str(value))
        self.addresses = {}
        return self

    @computed_field  # type: ignore[prop-decorator]
    @property
    def receiver_full_name(self) -> str | None:
        return _full_name(self.receiver_first_name, self.receiver_last_name)


class PurchaseAdminRead(PurchaseRead):
    """A purchase order as the merchant sees it: with the sale's billing address."""

    billing_first_name: str | None = None
    billing_last_name: str | None = None
    billing_company: str | None = None
    billing_address1: str | None = None
    billing_address2: str | None = None
    billing_city: str | None = None
    billing_province: str | None = None
    billing_zip: str | None = None
    billing_country: str | None = None

    ADDRESS_FIELDS: ClassVar[tuple[str, ...]] = RECEIVER_FIELDS + BILLING_FIELDS

    @computed_field  # type: ignore[prop-decorator]
    @property
    def billing_full_name(self) -> str | None:
        return _full_name(self.billing_first_name, self.billing_last_name)


class FulfillmentItemRead(ApiModel):
    id: int
    purchase_item_id: int
    sale_item_id: int
    quantity: int


class FulfillmentRead(CompanyRecord):
    id: int
    sale_id: int
    purchase_id: int
    reference: str
    tracking_number: str | None
    tracking_company: str | None
    tracking_url: str | None
    service_level: str | None
    shipped_at: datetime
    delivered_at: datetime | None
    fulfillment_items: list[FulfillmentItemRead] = Field(validation_alias="items")
    created_at: datetime


class SaleSummaryRead(CompanyRecord):
    """A sale without its lines and orders (embedded in a vendor's purchase order)."""

    id: int
    channel_id: int
    external_id: str
    reference: str
    date_ordered: datetime | None
    customer: dict[str, Any]
    sale_defaults: dict[str, Any]
    receiver_country: str | None
    shipping: list[dict[str, Any]]
    created_at: datetime


class SaleRead(CompanyRecord):
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
    invoice_status: str = Field("notInvoiced", description="Dropwire does not invoice customers")
    currency: str
    return_status: ReturnStatus
    cancellation_status: CancellationStatus
    cancel_reason: CancelReason | None
    cancelled_at: datetime | None
    source: str | None = None
    clone_reason: CloneReason | None = None
    cloned_from_sale_id: int | None = None
    sale_items: list[SaleItemRead] = Field(validation_alias="items")
    purchases: list[PurchaseRead]
    fulfillments: list[FulfillmentRead]
    created_at: datetime
    updated_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def status(self) -> str:
        """Onport's sale status: `cancelled` once every unit is cancelled, else `finalized`."""
        return "cancelled" if self.cancellation_status == CancellationStatus.full else "finalized"


class SaleReturnItemRead(CompanyRecord):
    id: int
    sale_return_id: int
    sale_item_id: int
    variant_id: int | None
    quantity: int
    quantity_returned: int
    quantity_cancelled: int
    quantity_restocked: int


class SaleReturnRead(CompanyRecord):
    id: int
    sale_id: int
    reference: str
    reason: str | None
    restock: bool
    location_id: int | None
    refund_amount: Money | None
    sale_return_items: list[SaleReturnItemRead] = Field(validation_alias="items")
    created_at: datetime
    updated_at: datetime
