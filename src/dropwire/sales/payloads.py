"""The bodies of the sales domain's outbound messages (built here, recorded by delivery).

A purchase order goes to one vendor: its body holds that purchase order's lines and what the
vendor needs to ship them (the receiver, the contact, the shipping method), nothing of the
sale's other lines, other vendors, prices the customer paid or billing details. A fulfillment
goes to the store that sold it, which owns the whole sale, and so does a return.
"""

from typing import Any

from pydantic.alias_generators import to_camel

from dropwire.sales.models import Fulfillment, Purchase, Sale, SaleItem, SaleReturn
from dropwire.sales.schemas import (
    FulfillmentRead,
    PurchaseItemRead,
    PurchaseRead,
    SaleItemRead,
    SaleReturnRead,
    SaleSummaryRead,
)

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
"""The sale fields a vendor receives: where the parcel goes and whom to call."""

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


def dump(model: Any) -> dict[str, Any]:
    result: dict[str, Any] = model.model_dump(mode="json", by_alias=True)
    return result


def _picked(values: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """The named fields of a stored (camelCase) sale document."""
    wanted = (to_camel(name) for name in names)
    return {key: values[key] for key in wanted if values.get(key) is not None}


def _vendor_line(item: SaleItem) -> dict[str, Any]:
    line = dump(SaleItemRead.model_validate(item))
    return {name: line[name] for name in LINE_FIELDS}


def purchase_body(purchase: Purchase, event_name: str) -> dict[str, Any]:
    """What the purchase order's vendor receives at its `orderEndpoint`."""
    sale = purchase.sale
    own_lines = {item.sale_item_id for item in purchase.items}
    return {
        "purchase": dump(PurchaseRead.model_validate(purchase)),
        "purchaseItems": [dump(PurchaseItemRead.model_validate(i)) for i in purchase.items],
        "sale": {
            "id": sale.id,
            "reference": sale.reference,
            "dateOrdered": sale.date_ordered.isoformat() if sale.date_ordered else None,
            "customer": _picked(sale.customer, CONTACT_FIELDS),
            "saleDefaults": _picked(sale.sale_defaults, SHIPPING_DEFAULTS),
            "shipping": [_picked(line, SHIPPING_METHOD_FIELDS) for line in sale.shipping],
            "saleItems": [_vendor_line(item) for item in sale.items if item.id in own_lines],
        },
        "event": event_name,
    }


def vendor_sale_view(row: dict[str, Any]) -> dict[str, Any]:
    """A dumped sale as a vendor token sees it (through an include): what the purchase-order
    webhook sends, no billing details and no other contact data."""
    view = {k: v for k, v in row.items() if k not in ("customer", "saleDefaults", "shipping")}
    view["customer"] = _picked(row.get("customer") or {}, CONTACT_FIELDS)
    view["saleDefaults"] = _picked(row.get("saleDefaults") or {}, SHIPPING_DEFAULTS)
    view["shipping"] = [_picked(line, SHIPPING_METHOD_FIELDS) for line in row.get("shipping", [])]
    return view


def vendor_sale_item_view(row: dict[str, Any]) -> dict[str, Any]:
    """A dumped sale line as a vendor sees it: no price the customer paid."""
    return {
        k: v
        for k, v in row.items()
        if k in LINE_FIELDS or k in ("saleId", "variantId", "companyId")
    }


def vendor_purchase_view(row: dict[str, Any]) -> dict[str, Any]:
    """A dumped purchase order (admin shape) as its vendor sees it: no billing details."""
    return {k: v for k, v in row.items() if not k.startswith("billing")}


def _sale_summary(sale: Sale) -> dict[str, Any]:
    return {
        "id": sale.id,
        "reference": sale.reference,
        "externalId": sale.external_id,
        "channelId": sale.channel_id,
        "dateOrdered": sale.date_ordered.isoformat() if sale.date_ordered else None,
        "customer": sale.customer,
        "saleDefaults": sale.sale_defaults,
        "shipping": sale.shipping,
        "saleItems": [dump(SaleItemRead.model_validate(item)) for item in sale.items],
    }


def fulfillment_body(fulfillment: Fulfillment, purchase: Purchase) -> dict[str, Any]:
    """What the store that sold the order receives at its `fulfillmentEndpoint`."""
    return {
        "instance": {
            **dump(FulfillmentRead.model_validate(fulfillment)),
            "purchase": dump(PurchaseRead.model_validate(purchase)),
            "sale": _sale_summary(purchase.sale),
        }
    }


def return_body(sale_return: SaleReturn, sale: Sale) -> dict[str, Any]:
    instance = dump(SaleReturnRead.model_validate(sale_return))
    instance["sale"] = dump(SaleSummaryRead.model_validate(sale))
    return {"event": "return.created", "instance": instance}
