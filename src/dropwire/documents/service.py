"""Documents by kind, so a message can name the documents it carries and have them made when
it is sent."""

from collections.abc import Callable
from typing import Any

from dropwire.documents.data import PurchaseDocument
from dropwire.documents.purchase_order import packing_slip_pdf, purchase_order_pdf

PURCHASE_ORDER = "purchase_order"
PACKING_SLIP = "packing_slip"

_RENDERERS: dict[str, Callable[[PurchaseDocument], bytes]] = {
    PURCHASE_ORDER: purchase_order_pdf,
    PACKING_SLIP: packing_slip_pdf,
}


def render(kind: str, data: dict[str, Any]) -> bytes:
    """The PDF of `kind` from the document data stored with a message."""
    return _RENDERERS[kind](PurchaseDocument.model_validate(data))
