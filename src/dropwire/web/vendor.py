"""The vendor portal: a vendor user's purchase orders, feeds and inventory, and nothing else.

Every lookup passes the visitor's vendor scope to the domain service, which answers 404 for
anything of another vendor, exactly as it does for a vendor-scoped API token.
"""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from dropwire.http.deps import DbSession, PathId
from dropwire.sales import service as sales_service
from dropwire.sales.models import PurchaseInventoryStatus
from dropwire.sales.vendor_view import vendor_sale
from dropwire.vendors.service import get as get_vendor
from dropwire.web import feedpages, listings, queries
from dropwire.web.listings import list_page
from dropwire.web.pages import (
    CheckedForm,
    VendorVisitor,
    WebRoute,
    perform,
    render,
    ship_request,
)

router = APIRouter(route_class=WebRoute, prefix="/vendor")
BASE = "/vendor/feeds"


@router.get("")
def purchases(request: Request, session: DbSession, visitor: VendorVisitor) -> HTMLResponse:
    rows = list_page(request, session, visitor=visitor, listing=listings.VENDOR_PURCHASES)
    vendor = get_vendor(
        session, vendor_id=visitor.dropship_provider_id or 0, principal=visitor.principal
    )
    return render(
        request,
        "vendor/purchases.html",
        table=rows,
        vendor=vendor,
        statuses=list(PurchaseInventoryStatus),
    )


@router.get("/purchases/{purchase_id}")
def purchase_detail(
    purchase_id: PathId, request: Request, session: DbSession, visitor: VendorVisitor
) -> HTMLResponse:
    purchase = sales_service.get_purchase(
        session, purchase_id=purchase_id, principal=visitor.principal
    )
    return render(
        request,
        "purchase.html",
        purchase=purchase,
        sale=vendor_sale(purchase.sale),
        fulfillments=queries.fulfillments_of(session, purchase_id=purchase.id),
        vendors={},
        accepted=[],
        statuses=queries.purchase_statuses(session),
        portal=True,
    )


@router.post("/purchases/{purchase_id}/ship")
def ship(
    purchase_id: PathId, session: DbSession, visitor: VendorVisitor, form: CheckedForm
) -> RedirectResponse:
    purchase = sales_service.get_purchase(
        session, purchase_id=purchase_id, principal=visitor.principal
    )

    def act() -> str:
        request = ship_request(form)
        fulfillment = sales_service.ship(
            session, purchase=purchase, request=request, actor=visitor.email
        )
        return f"Shipment {fulfillment.reference} recorded."

    return perform(session, action=act, back=f"/vendor/purchases/{purchase_id}")


@router.get("/feeds")
def feeds(request: Request, session: DbSession, visitor: VendorVisitor) -> HTMLResponse:
    rows = list_page(request, session, visitor=visitor, listing=listings.FEEDS)
    return render(request, "feeds.html", table=rows, base=BASE)


@router.get("/feeds/{feed_id}")
def feed_detail(
    feed_id: PathId, request: Request, session: DbSession, visitor: VendorVisitor
) -> HTMLResponse:
    return feedpages.feed_page(request, session, visitor=visitor, feed_id=feed_id, base=BASE)


@router.get("/feeds/{feed_id}/runs")
def feed_runs(
    feed_id: PathId, request: Request, session: DbSession, visitor: VendorVisitor
) -> HTMLResponse:
    return feedpages.runs_page(request, session, visitor=visitor, feed_id=feed_id, base=BASE)


@router.get("/feeds/{feed_id}/runs/{run_id}")
def feed_run(
    feed_id: PathId, run_id: PathId, request: Request, session: DbSession, visitor: VendorVisitor
) -> HTMLResponse:
    return feedpages.run_page(
        request, session, visitor=visitor, feed_id=feed_id, run_id=run_id, base=BASE
    )


@router.post("/feeds/{feed_id}/run")
def run_feed_now(
    feed_id: PathId, session: DbSession, visitor: VendorVisitor, _form: CheckedForm
) -> RedirectResponse:
    return feedpages.run_now(session, visitor=visitor, feed_id=feed_id, base=BASE)


@router.get("/inventory")
def inventory(request: Request, session: DbSession, visitor: VendorVisitor) -> HTMLResponse:
    search = (request.query_params.get("q") or "").strip() or None
    rows = list_page(request, session, visitor=visitor, listing=listings.VENDOR_INVENTORY)
    return render(request, "vendor/inventory.html", table=rows, q=search or "")
