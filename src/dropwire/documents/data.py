"""What a purchase-order document shows, as plain data the owning domain (sales) builds.

Kept as JSON with an email until it is sent, so the PDF shows the order as it stood when the
event happened, rendered only when the message goes out.
"""

from decimal import Decimal

from pydantic import BaseModel


class DocumentLine(BaseModel):
    sku: str | None = None
    name: str
    quantity: int
    quantity_cancelled: int = 0
    cost_price: Decimal | None = None
    properties: list[str] = []


class PurchaseDocument(BaseModel):
    reference: str
    sale_reference: str
    date_ordered: str | None = None
    status: str = "open"
    merchant_name: str
    merchant_address: list[str] = []
    vendor_name: str
    ship_to: list[str] = []
    contact: list[str] = []
    shipping_method: str | None = None
    lines: list[DocumentLine] = []

    @property
    def total_cost(self) -> Decimal | None:
        if any(line.cost_price is None for line in self.lines):
            return None
        return sum(
            ((line.cost_price or Decimal(0)) * (line.quantity - line.quantity_cancelled))
            for line in self.lines
        ) or Decimal("0.00")
