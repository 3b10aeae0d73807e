"""The bodies of the sales domain's outbound messages (built here, recorded by delivery).

A purchase order goes to one vendor: its body holds that purchase order's lines and the
vendor's view of the sale (`vendor_view`: the receiver, the contact, the shipping method,
nothing of the sale's other lines, other vendors, prices the customer paid or billing
details). A fulfillment goes to the store that sold it, which owns the whole sale, and so does
a return.
"""

from typing import Any

from dropwire.sales.models import Fulfillment, Purchase, Sale, SaleReturn
from dropwire.sales.schemas import (
    FulfillmentRead,
    PurchaseItemRead,
    PurchaseRead,
    SaleItemRead,
    SaleReturnRead,
    SaleSummaryRead,
)
from dropwire.sales.vendor_view import vendor_sale


def dump(model: Any) -> dict[str, Any]:
    result: dict[str, Any] = model.model_dump(mode="json", by_alias=True)
    return result


def purchase_body(purchase: Purchase, event_name: str) -> dict[str, Any]:
    """What the purchase order's vendor receives at its `orderEndpoint`."""
    own_lines = {item.sale_item_id for item in purchase.items}
    return {
        "purchase": dump(PurchaseRead.model_validate(purchase)),
        "purchaseItems": [dump(PurchaseItemRead.model_validate(i)) for i in purchase.items],
        "sale": vendor_sale(purchase.sale, own_lines=own_lines),
        "event": event_name,
    }


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
