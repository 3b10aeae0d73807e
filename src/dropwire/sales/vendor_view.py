"""One vendor's view of a sale: what a vendor may know of a sale its purchase order is part of.

A vendor ships a parcel: it sees where it goes and whom to call (the receiver's address, the
customer's contact, the shipping method), the sale's reference and date, and of the sale's
lines only its own, without the prices the customer paid. Never the billing details, notes,
payment, other vendors' lines or options. Every place that shows a vendor a sale uses this one
definition: the purchase-order webhook (`payloads.purchase_body`), the includes a vendor token
asks for (`vendor_sale_row`, `vendor_line_row`, `vendor_purchase_row`: a sale, its lines and a
purchase order reached from any list), the vendor portal and the vendor's emails.
"""

from collections.abc import Collection
from datetime import datetime
from typing import Any

from pydantic import field_validator
from pydantic.alias_generators import to_camel

from dropwire.core.schemas import CompanyRecord
from dropwire.sales.models import Sale, SaleItem
from dropwire.sales.schemas import SaleItemRead

SHIPPING_DEFAULTS = (
    "reference",
    "date_ordered",
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
"""Of the sale's defaults (stored camelCase): where the parcel goes and whom to call there."""

CONTACT_FIELDS = ("first_name", "last_name", "email", "phone")
SHIPPING_METHOD_FIELDS = ("code", "name", "service_level")
LINE_FIELDS = (
    "id",
    "externalId",
    "sku",
    "name",
    "quantity",
    "properties",
    "quantityShipped",
    "quantityCancelled",
    "quantityOpen",
)
"""Of a sale line, what the vendor needs to pick and pack it (no price the customer paid)."""
_LINE_LINKS = ("saleId", "variantId", "companyId")


def _picked(values: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """The named fields of a stored (camelCase) sale document that have a value."""
    if not isinstance(values, dict):
        return {}
    wanted = (to_camel(name) for name in names)
    return {key: values[key] for key in wanted if values.get(key) is not None}


class VendorSaleRead(CompanyRecord):
    """A sale as its vendors see it (see the module)."""

    id: int
    reference: str
    date_ordered: datetime | None
    customer: dict[str, Any]
    sale_defaults: dict[str, Any]
    receiver_country: str | None
    shipping: list[dict[str, Any]]

    @field_validator("customer", mode="before")
    @classmethod
    def _contact(cls, value: Any) -> dict[str, Any]:
        return _picked(value, CONTACT_FIELDS)

    @field_validator("sale_defaults", mode="before")
    @classmethod
    def _ship_to(cls, value: Any) -> dict[str, Any]:
        return _picked(value, SHIPPING_DEFAULTS)

    @field_validator("shipping", mode="before")
    @classmethod
    def _methods(cls, value: Any) -> list[dict[str, Any]]:
        return [_picked(line, SHIPPING_METHOD_FIELDS) for line in value or []]


def vendor_line(item: SaleItem) -> dict[str, Any]:
    line: dict[str, Any] = SaleItemRead.model_validate(item).model_dump(mode="json", by_alias=True)
    return {name: line[name] for name in LINE_FIELDS}


def vendor_sale(sale: Sale, *, own_lines: Collection[int] | None = None) -> dict[str, Any]:
    """The vendor's view as JSON (camelCase); with `own_lines` (the sale line ids of the
    vendor's purchase order) also those lines, as `saleItems`."""
    view: dict[str, Any] = VendorSaleRead.model_validate(sale).model_dump(
        mode="json", by_alias=True
    )
    if own_lines is not None:
        view["saleItems"] = [vendor_line(item) for item in sale.items if item.id in own_lines]
    return view


def vendor_sale_row(row: dict[str, Any]) -> dict[str, Any]:
    """A sale dumped in an admin shape (camelCase), as its vendor sees it: exactly the fields
    of `VendorSaleRead`, the same the purchase-order webhook sends."""
    view: dict[str, Any] = VendorSaleRead.model_validate(row).model_dump(mode="json", by_alias=True)
    return view


def vendor_line_row(row: dict[str, Any]) -> dict[str, Any]:
    """A dumped sale line as a vendor sees it: `LINE_FIELDS` and the ids that link it."""
    return {k: v for k, v in row.items() if k in LINE_FIELDS or k in _LINE_LINKS}


def vendor_purchase_row(row: dict[str, Any]) -> dict[str, Any]:
    """A dumped purchase order (admin shape) as its vendor sees it: no billing details."""
    return {k: v for k, v in row.items() if not k.startswith("billing")}
