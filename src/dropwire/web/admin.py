"""Admin pages. Each action parses its form and calls the one domain service the API calls too."""

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select

from dropwire.apilog.models import ApiLog
from dropwire.apilog.redaction import loggable
from dropwire.catalog.service import get_variant, stock_totals
from dropwire.channels.connectors import ChannelConnector
from dropwire.channels.models import Channel, CustomChannel
from dropwire.core.errors import Invalid
from dropwire.core.time import utcnow
from dropwire.core.wiring import wired, wiring_of
from dropwire.delivery import service as delivery_service
from dropwire.delivery.kinds import EventKinds
from dropwire.delivery.models import DeliveryState
from dropwire.http.deps import DbSession, PathId
from dropwire.inventory import detail, warehouses
from dropwire.inventory.locations import location_for_warehouse
from dropwire.inventory.models import MovementCause, Warehouse
from dropwire.inventory.service import adjust_stocked
from dropwire.jobs import service as jobs_service
from dropwire.jobs.models import JobState
from dropwire.sales import service as sales_service
from dropwire.sales.models import (
    CancellationStatus,
    CancelReason,
    PurchaseInventoryStatus,
    SaleInventoryStatus,
)
from dropwire.sales.schemas import (
    CancelRequest,
    LineQuantity,
    ReturnLine,
    SaleReturnCreate,
)
from dropwire.vendors.service import get as get_vendor
from dropwire.web import channel_admin, feedpages, listings, money_pages, queries, sale_page
from dropwire.web.bulk import RETRYABLE_DELIVERIES, RETRYABLE_JOBS
from dropwire.web.listings import list_page
from dropwire.web.pages import (
    AdminVisitor,
    AnyVisitor,
    CheckedForm,
    Redirect,
    WebRoute,
    int_field,
    perform,
    quantities_by_line,
    render,
    ship_request,
    text_field,
)
from dropwire.web.tables import flagged_first

router = APIRouter(route_class=WebRoute)


def _int_param(request: Request, name: str) -> int | None:
    value = request.query_params.get(name, "")
    return int(value) if value.isdigit() else None


def _text_param(request: Request, name: str) -> str | None:
    return (request.query_params.get(name) or "").strip() or None


@router.get("/")
def overview(request: Request, session: DbSession, visitor: AnyVisitor) -> HTMLResponse:
    if not visitor.is_admin:
        raise Redirect("/vendor")  # the site's front door leads a vendor user to its portal
    return render(
        request,
        "overview.html",
        data=queries.overview(session, now=utcnow()),
        money=money_pages.alerts(session),
    )


# --- inventory -------------------------------------------------------------------------------


@router.get("/inventory")
def inventory(request: Request, session: DbSession, visitor: AdminVisitor) -> HTMLResponse:
    search = _text_param(request, "q")
    rows = list_page(
        request, session, visitor=visitor, listing=listings.INVENTORY
    )  # SKU/barcode, else names
    totals = stock_totals(session, variant_ids=[row.id for row in rows.rows])
    return render(request, "inventory.html", table=rows, totals=totals, q=search or "")


@router.get("/inventory/{variant_id}")
def variant_detail(
    variant_id: PathId, request: Request, session: DbSession, _: AdminVisitor
) -> HTMLResponse:
    variant = get_variant(session, variant_id=variant_id)
    inventory = detail.variant_inventory(session, variant_id=variant_id)
    return render(
        request,
        "variant.html",
        variant=variant,
        inventory=inventory,
        sale_references=queries.sale_references(
            session, sale_ids=[a.sale_id for a in inventory.allocations[:50] if a.sale_id]
        ),
        movements=queries.movements(session, variant_id=variant_id),
        warehouses=list(session.scalars(select(Warehouse).order_by(Warehouse.id))),
    )


@router.post("/inventory/{variant_id}/adjust")
def adjust(
    variant_id: PathId, session: DbSession, visitor: AdminVisitor, form: CheckedForm
) -> RedirectResponse:
    def act() -> str:
        warehouse = warehouses.get_or_invalid(session, warehouse_id=int_field(form, "warehouse_id"))
        quantity = int_field(form, "quantity")
        setting = form.get("mode") == "set"
        change = adjust_stocked(
            session,
            variant_id=variant_id,
            location_id=location_for_warehouse(session, warehouse_id=warehouse.id).id,
            delta=None if setting else quantity,
            set_to=quantity if setting else None,
            cause=MovementCause.adjustment,
            reason=text_field(form, "reason"),
            actor=visitor.email,
        )
        if change.movement is None:
            return "Nothing changed: stocked was already that."
        return f"Stocked at {warehouse.name} is now {change.level.stocked}."

    return perform(session, action=act, back=f"/inventory/{variant_id}")


# --- sales and purchase orders ---------------------------------------------------------------


@router.get("/sales")
def sales(request: Request, session: DbSession, visitor: AdminVisitor) -> HTMLResponse:
    rows = list_page(request, session, visitor=visitor, listing=listings.SALES)
    channels = session.execute(select(Channel.id, Channel.name).order_by(Channel.name)).all()
    return render(
        request,
        "sales.html",
        table=rows,
        channels=channels,
        statuses=list(SaleInventoryStatus),
        cancellations=list(CancellationStatus),
    )


@router.get("/sales/{sale_id}")
def sale_detail(
    sale_id: PathId, request: Request, session: DbSession, _: AdminVisitor
) -> HTMLResponse:
    sale = sales_service.get_sale(session, sale_id=sale_id)
    channel = session.get(Channel, sale.channel_id)
    vendors = dict(queries.vendor_names(session))
    return render(
        request,
        "sale.html",
        sale=sale,
        channel=channel,
        vendors=vendors,
        names=sale_page.line_names(session, sale=sale),
        totals=sale_page.totals(sale),
        margin=money_pages.margin(session, sale=sale),
        timeline=sale_page.timeline(
            session, sale=sale, vendors=vendors, channel_name=channel.name if channel else None
        ),
        reasons=list(CancelReason),
        statuses=queries.purchase_statuses(session),
        returns=queries.returns_of(session, sale_id=sale.id),
        warehouses=list(session.scalars(select(Warehouse).order_by(Warehouse.name))),
    )


@router.post("/sales/{sale_id}/returns")
def create_return(
    sale_id: PathId, session: DbSession, visitor: AdminVisitor, form: CheckedForm
) -> RedirectResponse:
    def act() -> str:
        sale = sales_service.get_sale(session, sale_id=sale_id)
        lines = [
            ReturnLine(sale_item_id=line.id, quantity=line.quantity)
            for line in quantities_by_line(form, "return_")
        ]
        if not lines:
            raise Invalid("items", "Enter how many units of at least one line come back.")
        warehouse = form.get("warehouse_id")
        data = SaleReturnCreate(
            items=lines,
            reason=text_field(form, "reason"),
            restock=form.get("restock") == "on",
            warehouse_id=int(warehouse) if isinstance(warehouse, str) and warehouse else None,
        )
        made = sales_service.create_return(session, sale=sale, data=data, actor=visitor.email)
        return f"Return {made.reference} recorded on sale {sale.reference}."

    return perform(session, action=act, back=f"/sales/{sale_id}")


@router.post("/sales/{sale_id}/cancel")
def cancel_line(
    sale_id: PathId, session: DbSession, visitor: AdminVisitor, form: CheckedForm
) -> RedirectResponse:
    def act() -> str:
        sale = sales_service.get_sale(session, sale_id=sale_id)
        line = LineQuantity(id=int_field(form, "item_id"), quantity=int_field(form, "quantity"))
        reason = CancelReason(text_field(form, "reason") or CancelReason.other)
        request = CancelRequest(sale_items=[line], cancel_reason=reason)
        sales_service.cancel(session, sale=sale, request=request, actor=visitor.email)
        item = next((i for i in sale.items if i.id == line.id), None)
        named = (item.sku or item.name) if item else None
        return (
            f"Cancelled {line.quantity} unit(s) of {named or 'the line'} on sale {sale.reference}."
        )

    return perform(session, action=act, back=f"/sales/{sale_id}")


@router.get("/purchases")
def purchases(request: Request, session: DbSession, visitor: AdminVisitor) -> HTMLResponse:
    rows = list_page(request, session, visitor=visitor, listing=listings.PURCHASES)
    return render(
        request,
        "purchases.html",
        table=rows,
        vendors=queries.vendor_names(session),
        statuses=list(PurchaseInventoryStatus),
    )


@router.get("/purchases/{purchase_id}")
def purchase_detail(
    purchase_id: PathId, request: Request, session: DbSession, visitor: AdminVisitor
) -> HTMLResponse:
    purchase = sales_service.get_purchase(
        session, purchase_id=purchase_id, principal=visitor.principal
    )
    return render(
        request,
        "purchase.html",
        purchase=purchase,
        fulfillments=queries.fulfillments_of(session, purchase_id=purchase.id),
        vendors=dict(queries.vendor_names(session)),
        accepted=queries.vendor_names(session, accepted_only=True),
        statuses=queries.purchase_statuses(session),
        portal=False,
    )


@router.post("/purchases/{purchase_id}/ship")
def ship_purchase(
    purchase_id: PathId, session: DbSession, visitor: AdminVisitor, form: CheckedForm
) -> RedirectResponse:
    """The merchant records a shipment: an in-house order, or a vendor that reported by phone."""

    def act() -> str:
        purchase = sales_service.get_purchase(session, purchase_id=purchase_id)
        fulfillment = sales_service.ship(
            session, purchase=purchase, request=ship_request(form), actor=visitor.email
        )
        return f"Shipment {fulfillment.reference} recorded."

    return perform(session, action=act, back=f"/purchases/{purchase_id}")


@router.post("/purchases/{purchase_id}/move")
def move_purchase(
    purchase_id: PathId, session: DbSession, visitor: AdminVisitor, form: CheckedForm
) -> RedirectResponse:
    def act() -> str:
        purchase = sales_service.get_purchase(session, purchase_id=purchase_id)
        vendor_id = int_field(form, "vendor_id")
        sales_service.move_to_vendor(
            session, purchase=purchase, vendor_id=vendor_id, actor=visitor.email
        )
        return f"Moved to {get_vendor(session, vendor_id=vendor_id).name}."

    return perform(session, action=act, back=f"/purchases/{purchase_id}")


# --- vendors, feeds, channels ----------------------------------------------------------------


@router.get("/vendors")
def vendors(request: Request, session: DbSession, visitor: AdminVisitor) -> HTMLResponse:
    rows = list_page(request, session, visitor=visitor, listing=listings.VENDORS)
    return render(request, "vendors.html", table=rows)


@router.get("/feeds")
def feeds(request: Request, session: DbSession, visitor: AdminVisitor) -> HTMLResponse:
    rows = list_page(request, session, visitor=visitor, listing=listings.FEEDS)
    return render(request, "feeds.html", table=rows, base="/feeds")


@router.get("/feeds/{feed_id}")
def feed_detail(
    feed_id: PathId, request: Request, session: DbSession, visitor: AdminVisitor
) -> HTMLResponse:
    return feedpages.feed_page(request, session, visitor=visitor, feed_id=feed_id, base="/feeds")


@router.get("/feeds/{feed_id}/runs")
def feed_runs(
    feed_id: PathId, request: Request, session: DbSession, visitor: AdminVisitor
) -> HTMLResponse:
    return feedpages.runs_page(request, session, visitor=visitor, feed_id=feed_id, base="/feeds")


@router.get("/feeds/{feed_id}/runs/{run_id}")
def feed_run(
    feed_id: PathId, run_id: PathId, request: Request, session: DbSession, visitor: AdminVisitor
) -> HTMLResponse:
    return feedpages.run_page(
        request, session, visitor=visitor, feed_id=feed_id, run_id=run_id, base="/feeds"
    )


@router.post("/feeds/{feed_id}/run")
def run_feed_now(
    feed_id: PathId, session: DbSession, visitor: AdminVisitor, _form: CheckedForm
) -> RedirectResponse:
    return feedpages.run_now(session, visitor=visitor, feed_id=feed_id, base="/feeds")


@router.post("/feeds/{feed_id}/runs/{run_id}/approve")
def approve_run(
    feed_id: PathId, run_id: PathId, session: DbSession, visitor: AdminVisitor, _form: CheckedForm
) -> RedirectResponse:
    return feedpages.decide(
        session, visitor=visitor, feed_id=feed_id, run_id=run_id, base="/feeds", approve=True
    )


@router.post("/feeds/{feed_id}/runs/{run_id}/discard")
def discard_run(
    feed_id: PathId, run_id: PathId, session: DbSession, visitor: AdminVisitor, _form: CheckedForm
) -> RedirectResponse:
    return feedpages.decide(
        session, visitor=visitor, feed_id=feed_id, run_id=run_id, base="/feeds", approve=False
    )


@router.get("/channels")
def channels(request: Request, session: DbSession, _: AdminVisitor) -> HTMLResponse:
    reveal = _int_param(request, "reveal")
    rows = session.execute(
        select(Channel, CustomChannel)
        .outerjoin(CustomChannel, CustomChannel.channel_id == Channel.id)
        .order_by(Channel.name, Channel.id)
    ).all()
    panels: dict[int, Any] = {}
    for connector in wiring_of(session).every(ChannelConnector):  # each shows its own channels
        if connector.panel is not None:
            ids = [channel.id for channel, _ in rows if channel.parent_channel == connector.parent]
            panels.update(connector.panel(session, ids) if ids else {})
    return render(
        request,
        "channels.html",
        rows=rows,
        reveal=reveal,
        panels=panels,
        new_links=channel_admin.new_channel_links(session),
    )


# --- operations: API logs, deliveries, jobs ---------------------------------------------------


@router.get("/api-logs")
def api_logs(request: Request, session: DbSession, visitor: AdminVisitor) -> HTMLResponse:
    status = _text_param(request, "status")
    if status or "sort" in request.query_params:
        rows = list_page(request, session, visitor=visitor, listing=listings.API_LOGS)
    else:  # errors first, then the rest, newest first
        stmt = queries.api_logs(status=status, direction=_text_param(request, "direction"))
        rows = flagged_first(
            session,
            stmt=stmt,
            query=request.query_params,
            flag=queries.API_LOG_ERROR,
            newest=ApiLog.id,
        )
    return render(request, "api_logs.html", table=rows)


@router.get("/deliveries")
def deliveries(request: Request, session: DbSession, visitor: AdminVisitor) -> HTMLResponse:
    rows = list_page(request, session, visitor=visitor, listing=listings.DELIVERIES)
    return render(
        request,
        "deliveries.html",
        table=rows,
        subjects=queries.delivery_subjects(session, rows=rows.rows),
        finished=queries.FINISHED_DELIVERY_STATES,
        states=list(DeliveryState),
        events=wired(session, kind=EventKinds).names(),
        retryable=RETRYABLE_DELIVERIES,
    )


@router.get("/deliveries/{delivery_id}")
def delivery_detail(
    delivery_id: PathId, request: Request, session: DbSession, _: AdminVisitor
) -> HTMLResponse:
    delivery = delivery_service.get_delivery(session, delivery_id=delivery_id)
    subjects = queries.delivery_subjects(session, rows=[delivery])
    return render(
        request,
        "delivery.html",
        delivery=delivery,
        subject=subjects.get((delivery.subject_type, delivery.subject_id)),
        attempts=queries.delivery_attempts(session, delivery_id=delivery.id),
        body=json.dumps(loggable(delivery.body, 20_000), indent=2),
        finished=queries.FINISHED_DELIVERY_STATES,
        retryable=RETRYABLE_DELIVERIES,
    )


@router.post("/deliveries/{delivery_id}/retry")
def retry_delivery(
    delivery_id: PathId, request: Request, session: DbSession, _: AdminVisitor, _form: CheckedForm
) -> RedirectResponse:
    def act() -> str:
        delivery_service.retry(
            session, delivery=delivery_service.get_delivery(session, delivery_id=delivery_id)
        )
        return f"Delivery #{delivery_id} will be sent again now."

    return perform(session, action=act, back=_back(request, "/deliveries"))


@router.get("/jobs")
def jobs(request: Request, session: DbSession, visitor: AdminVisitor) -> HTMLResponse:
    rows = list_page(request, session, visitor=visitor, listing=listings.JOBS)
    return render(
        request,
        "jobs.html",
        table=rows,
        states=list(JobState),
        retryable=RETRYABLE_JOBS,
    )


@router.post("/jobs/{job_id}/retry")
def retry_job(
    job_id: PathId, request: Request, session: DbSession, _: AdminVisitor, _form: CheckedForm
) -> RedirectResponse:
    def act() -> str:
        jobs_service.retry(session, job=jobs_service.get(session, job_id=job_id))
        return f"Job {job_id} is queued again."

    return perform(session, action=act, back=_back(request, "/jobs"))


def _back(request: Request, fallback: str) -> str:
    """The list page the form was on (same site only), so filters survive an action."""
    referer = request.headers.get("referer", "")
    base = str(request.base_url).rstrip("/")
    if referer.startswith(base + fallback):
        return referer[len(base) :]
    return fallback
