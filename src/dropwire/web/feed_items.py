"""Connecting a feed item to a variant by hand: the item a vendor reports under its own SKU is
"not connected" until someone says which of the catalog's variants it stocks. Search variants by
SKU, connect (the feeds service `PUT /api/inventory-feed-variants/{id}.json` calls: its stock
moves with it), or disconnect (the item's stock leaves the variant)."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from dropwire.catalog.service import find_variant_by_sku, get_variant
from dropwire.core.errors import DomainError, NotFound
from dropwire.core.schemas import unstorable_character
from dropwire.feeds.connecting import disconnect
from dropwire.feeds.models import InventoryFeedVariant
from dropwire.feeds.queries import get_feed_variant
from dropwire.feeds.schemas import FeedVariantUpdate
from dropwire.feeds.service import update_feed_variant
from dropwire.http.deps import DbSession, PathId
from dropwire.web import queries
from dropwire.web.pages import (
    AdminVisitor,
    CheckedForm,
    WebRoute,
    perform,
    render,
    safe_next,
    set_flash,
    text_field,
)
from dropwire.web.sessions import Visitor

router = APIRouter(route_class=WebRoute)

CANDIDATES = 20


def _item(session: Session, visitor: Visitor, feed_id: int, item_id: int) -> InventoryFeedVariant:
    item = get_feed_variant(session, feed_variant_id=item_id, principal=visitor.principal)
    if item.inventory_feed_id != feed_id:
        raise NotFound("Inventory feed variant", item_id)
    return item


def _page(
    request: Request,
    session: Session,
    item: InventoryFeedVariant,
    *,
    search: str,
    sku: str = "",
    error: str = "",
) -> HTMLResponse:
    dialect = session.get_bind().dialect.name
    candidates = (
        list(
            session.execute(
                queries.variants(search, dialect=dialect)
                .order_by(queries.VARIANT_SORT["sku"])
                .limit(CANDIDATES)
            )
        )
        if search
        else []
    )
    response = render(
        request,
        "feed_item_connect.html",
        item=item,
        feed=item.feed,
        current=get_variant(session, variant_id=item.variant_id) if item.variant_id else None,
        candidates=candidates,
        q=search,
        sku=sku,
        error=error,
    )
    if error:
        response.status_code = 422
    return response


@router.get("/feeds/{feed_id}/items/{item_id}/connect")
def connect_page(
    feed_id: PathId, item_id: PathId, request: Request, session: DbSession, visitor: AdminVisitor
) -> HTMLResponse:
    item = _item(session, visitor, feed_id, item_id)
    search = request.query_params.get("q")
    return _page(
        request, session, item, search=(item.vendor_sku or "") if search is None else search
    )


@router.post("/feeds/{feed_id}/items/{item_id}/connect")
def connect_item(
    feed_id: PathId,
    item_id: PathId,
    request: Request,
    session: DbSession,
    visitor: AdminVisitor,
    form: CheckedForm,
) -> Response:
    item = _item(session, visitor, feed_id, item_id)
    sku = text_field(form, "sku") or ""
    if unstorable_character(sku) is not None:
        error = "A SKU has no control characters."
        return _page(request, session, item, search="", sku="", error=error)
    variant = find_variant_by_sku(session, sku=sku) if sku else None
    if variant is None:
        error = f"No variant has the SKU {sku}." if sku else "Enter the SKU of a variant."
        return _page(request, session, item, search=sku, sku=sku, error=error)
    try:
        update_feed_variant(
            session,
            feed_variant=item,
            data=FeedVariantUpdate(variant_id=variant.id),
            actor=visitor.email,
        )
    except DomainError as exc:
        session.rollback()
        item = _item(session, visitor, feed_id, item_id)
        return _page(request, session, item, search=sku, sku=sku, error=exc.message)
    response = RedirectResponse(f"/feeds/{feed_id}", status_code=303)
    set_flash(
        response,
        "ok",
        f"{item.vendor_sku or item.external_id} is connected to {variant.sku}: "
        "its stock counts for that variant now.",
    )
    return response


@router.post("/feeds/{feed_id}/items/{item_id}/disconnect")
def disconnect_item(
    feed_id: PathId, item_id: PathId, session: DbSession, visitor: AdminVisitor, form: CheckedForm
) -> RedirectResponse:
    def act() -> str:
        item = _item(session, visitor, feed_id, item_id)
        was = get_variant(session, variant_id=item.variant_id).sku if item.variant_id else None
        disconnect(session, feed_variant=item, actor=visitor.email)
        name = item.vendor_sku or item.external_id
        return f"{name} is no longer connected{f' to {was}' if was else ''}."

    back = safe_next(text_field(form, "back"), f"/feeds/{feed_id}")
    return perform(session, action=act, back=back)
