"""A purchase order's documents and email context, made from the vendor's view of it.

Both start from `payloads.purchase_body`, the one definition of what a vendor sees of a sale,
so the PDFs and the email show what the webhook sends and the portal shows: the vendor's own
lines, where they go, nothing of other vendors and no price the customer paid.
"""

from decimal import Decimal
from typing import Any

from dropwire.core.settings import Settings
from dropwire.documents.data import DocumentLine, PurchaseDocument
from dropwire.documents.service import PACKING_SLIP, PURCHASE_ORDER
from dropwire.sales.models import Purchase
from dropwire.sales.payloads import purchase_body
from dropwire.vendors.models import DropshipProvider


def _joined(*parts: Any) -> str:
    return " ".join(str(part) for part in parts if part)


def _ship_to(defaults: dict[str, Any]) -> list[str]:
    lines = [
        _joined(defaults.get("receiverFirstName"), defaults.get("receiverLastName")),
        defaults.get("receiverCompany"),
        defaults.get("receiverAddress1"),
        defaults.get("receiverAddress2"),
        _joined(
            defaults.get("receiverZip"),
            defaults.get("receiverCity"),
            defaults.get("receiverProvince"),
        ),
        defaults.get("receiverCountry"),
    ]
    return [str(line) for line in lines if line]


def purchase_document(
    purchase: Purchase, vendor: DropshipProvider | None, settings: Settings, event: str = ""
) -> PurchaseDocument:
    body = purchase_body(purchase, event)
    sale = body["sale"]
    sale_lines = {line["id"]: line for line in sale["saleItems"]}
    lines = []
    for item in body["purchaseItems"]:
        line = sale_lines.get(item["saleItemId"], {})
        properties = [
            f"{p.get('key', '')}: {p.get('value', '')}"
            for p in line.get("properties") or []
            if isinstance(p, dict)
        ]
        cost = item.get("costPrice")
        lines.append(
            DocumentLine(
                sku=line.get("sku"),
                name=item.get("name") or line.get("name") or "",
                quantity=item["quantity"],
                quantity_cancelled=item["quantityCancelled"],
                cost_price=None if cost is None else Decimal(str(cost)),
                properties=properties,
            )
        )
    defaults = sale["saleDefaults"]
    shipping = sale["shipping"][0] if sale["shipping"] else {}
    cancelled = event == "cancelled" or purchase.cancellation_status == "full"
    return PurchaseDocument(
        reference=purchase.external_reference,
        sale_reference=sale["reference"],
        date_ordered=sale["dateOrdered"],
        status="cancelled" if cancelled else "open",
        merchant_name=settings.merchant_name,
        merchant_address=[
            line.strip()
            for line in settings.merchant_address.replace("\\n", "\n").splitlines()
            if line.strip()
        ],
        vendor_name=vendor.name if vendor else "",
        ship_to=_ship_to(defaults),
        contact=[line for line in [defaults.get("receiverPhone")] if line],
        shipping_method=shipping.get("name") or shipping.get("code"),
        lines=lines,
    )


def attachments(document: PurchaseDocument) -> list[dict[str, Any]]:
    """The purchase order and its packing slip, to be made when the email is sent."""
    data = document.model_dump(mode="json")
    return [
        {"filename": f"{document.reference}.pdf", "kind": PURCHASE_ORDER, "data": data},
        {
            "filename": f"{document.reference}-packing-slip.pdf",
            "kind": PACKING_SLIP,
            "data": data,
        },
    ]


def email_context(
    document: PurchaseDocument, purchase_id: int, settings: Settings
) -> dict[str, Any]:
    return {
        "merchant": {"name": document.merchant_name, "address": document.merchant_address},
        "vendor": {"name": document.vendor_name},
        "purchase": {
            "reference": document.reference,
            "saleReference": document.sale_reference,
            "dateOrdered": document.date_ordered,
            "status": document.status,
            "shippingMethod": document.shipping_method,
            "shipTo": document.ship_to,
            "lines": [
                {
                    "sku": line.sku,
                    "name": line.name,
                    "quantity": line.quantity - line.quantity_cancelled,
                    "costPrice": None if line.cost_price is None else f"{line.cost_price:.2f}",
                }
                for line in document.lines
            ],
        },
        "links": {"purchase": f"{settings.links_base}/vendor/purchases/{purchase_id}"},
    }
