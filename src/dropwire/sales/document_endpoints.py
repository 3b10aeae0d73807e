"""A purchase order's documents and sending it again to its vendor."""

from typing import Any

from fastapi import APIRouter, Response

from dropwire.core.db import settings_of
from dropwire.core.schemas import ApiInput
from dropwire.documents.purchase_order import packing_slip_pdf, purchase_order_pdf
from dropwire.http.deps import AdminPrincipal, CurrentPrincipal, DbSession, PathId
from dropwire.http.routing import UnitOfWorkRoute
from dropwire.sales import queries
from dropwire.sales.purchase_documents import purchase_document
from dropwire.sales.purchase_sending import send_purchase
from dropwire.sales.schemas import PurchaseRead
from dropwire.vendors.models import DropshipProvider

router = APIRouter(route_class=UnitOfWorkRoute, tags=["Purchase orders"])
_PDF: dict[str, dict[str, Any]] = {"application/pdf": {}}


class PurchaseSend(ApiInput):
    error_notification: bool = False  # Onport's flag; Dropwire shows failures in the mail log


@router.put("/purchases/{purchase_id}/send.json", response_model=PurchaseRead)
def send(
    purchase_id: PathId, session: DbSession, _: AdminPrincipal, _options: PurchaseSend | None = None
) -> object:
    """Send the purchase order again by its vendor's `purchaseOrderDelivery`."""
    purchase = queries.get_purchase(session, purchase_id=purchase_id)
    return send_purchase(session, purchase=purchase)


def _pdf(content: bytes, filename: str) -> Response:
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


@router.get(
    "/purchases/{purchase_id}/document.pdf",
    response_class=Response,
    responses={200: {"content": _PDF}},
)
def document(purchase_id: PathId, session: DbSession, principal: CurrentPrincipal) -> Response:
    """The purchase order as a PDF (a vendor token: its own orders only)."""
    purchase = queries.get_purchase(session, purchase_id=purchase_id, principal=principal)
    vendor = session.get(DropshipProvider, purchase.dropship_provider_id or 0)
    made = purchase_document(purchase, vendor, settings_of(session))
    return _pdf(purchase_order_pdf(made), f"{made.reference}.pdf")


@router.get(
    "/purchases/{purchase_id}/packing-slip.pdf",
    response_class=Response,
    responses={200: {"content": _PDF}},
)
def packing_slip(purchase_id: PathId, session: DbSession, principal: CurrentPrincipal) -> Response:
    """The packing slip (no prices) as a PDF."""
    purchase = queries.get_purchase(session, purchase_id=purchase_id, principal=principal)
    vendor = session.get(DropshipProvider, purchase.dropship_provider_id or 0)
    made = purchase_document(purchase, vendor, settings_of(session))
    return _pdf(packing_slip_pdf(made), f"{made.reference}-packing-slip.pdf")
