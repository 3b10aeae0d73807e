from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response, status
from sqlalchemy import select

from dropwire.auth.permissions import check_vendor_fields
from dropwire.auth.service import Principal
from dropwire.feeds import queries, service
from dropwire.feeds.models import InventoryFeed, InventoryFeedRun, InventoryFeedVariant
from dropwire.feeds.pull import runs
from dropwire.feeds.schemas import (
    FEED_VARIANT_WRITABLE,
    FEED_WRITABLE,
    FeedCreate,
    FeedRead,
    FeedRunRead,
    FeedUpdate,
    FeedVariantCreate,
    FeedVariantData,
    FeedVariantRead,
    FeedVariantUpdate,
)
from dropwire.http.deps import AdminPrincipal, CurrentPrincipal, DbSession, PathId
from dropwire.http.listing import ListQuery, Relation, fields_of, list_query, paginate, respond
from dropwire.http.routing import UnitOfWorkRoute
from dropwire.vendors.models import DropshipProvider
from dropwire.vendors.schemas import DropshipProviderRead
from dropwire.vendors.service import vendor_itself

router = APIRouter(route_class=UnitOfWorkRoute, tags=["Inventory feeds"])
Listing = Annotated[ListQuery, Depends(list_query)]

FEED_FILTERS = fields_of(
    InventoryFeed,
    "id",
    "dropship_provider_id",
    "name",
    "resource_type",
    "fetch_frequency",
    "enabled",
    "created_at",
    "updated_at",
)
FEED_VARIANT_FILTERS = {
    **fields_of(
        InventoryFeedVariant,
        "id",
        "inventory_feed_id",
        "external_id",
        "vendor_sku",
        "variant_id",
        "barcode",
        "inventory_quantity",
        "created_at",
        "updated_at",
    ),
}


FEED_RELATIONS = {
    "DropshipProvider": Relation(
        "dropshipProvider",
        DropshipProviderRead,
        DropshipProvider,
        local="dropship_provider_id",
        scope=vendor_itself,
    ),
}
FEED_VARIANT_RELATIONS = {
    "InventoryFeed": Relation(
        "inventoryFeed",
        FeedRead,
        InventoryFeed,
        local="inventory_feed_id",
        scope=queries.vendor_feeds,
        nested=lambda: FEED_RELATIONS,
    ),
}


@router.get("/inventory-feeds.json", response_model=list[FeedRead])
def list_feeds(
    session: DbSession, principal: CurrentPrincipal, response: Response, query: Listing
) -> Any:
    stmt = queries.feeds_visible(principal)
    rows = paginate(
        session,
        stmt=stmt,
        query=query,
        fields=FEED_FILTERS,
        response=response,
        default_order=[InventoryFeed.id],
    )
    return respond(
        session, query=query, response=response, items=rows, read=FeedRead, relations=FEED_RELATIONS
    )


@router.post("/inventory-feeds.json", response_model=FeedRead, status_code=201)
@router.post(
    "/inventory-feed.json", response_model=FeedRead, status_code=201, include_in_schema=False
)
def create_feed(data: FeedCreate, session: DbSession, _: AdminPrincipal) -> InventoryFeed:
    return service.create_feed(session, data=data)


@router.get("/inventory-feeds/{feed_id}.json", response_model=FeedRead)
def get_feed(feed_id: PathId, session: DbSession, principal: CurrentPrincipal) -> InventoryFeed:
    return queries.get_feed(session, feed_id=feed_id, principal=principal)


@router.put("/inventory-feeds/{feed_id}.json", response_model=FeedRead)
def update_feed(
    feed_id: PathId, data: FeedUpdate, session: DbSession, principal: CurrentPrincipal
) -> InventoryFeed:
    feed = queries.get_feed(session, feed_id=feed_id, principal=principal)
    check_vendor_fields(principal, FEED_WRITABLE, data)
    return service.update_feed(session, feed=feed, data=data)


@router.delete("/inventory-feeds/{feed_id}.json", status_code=204)
def delete_feed(feed_id: PathId, session: DbSession, principal: AdminPrincipal) -> Response:
    service.delete_feed(
        session, feed=queries.get_feed(session, feed_id=feed_id), actor=principal.name
    )
    return Response(status_code=204)


@router.post("/inventory-feeds/{feed_id}/rotate-hash.json", response_model=FeedRead)
def rotate_feed_hash(feed_id: PathId, session: DbSession, _: AdminPrincipal) -> InventoryFeed:
    return service.rotate_hash(session, feed=queries.get_feed(session, feed_id=feed_id))


@router.put("/inventory-feeds/{feed_id}/parse-webhook.json", response_model=FeedVariantRead)
def parse_webhook(
    feed_id: PathId, data: FeedVariantData, session: DbSession, principal: CurrentPrincipal
) -> InventoryFeedVariant:
    """Upsert ONE feed variant by externalId, with validation and auto-connect."""
    feed = queries.get_feed(session, feed_id=feed_id, principal=principal)
    check_vendor_fields(principal, FEED_VARIANT_WRITABLE, data)
    return service.upsert_feed_variant(
        session, feed=feed, data=data, actor=principal.name
    ).feed_variant


@router.get("/inventory-feed-variants.json", response_model=list[FeedVariantRead])
def list_feed_variants(
    session: DbSession,
    principal: CurrentPrincipal,
    response: Response,
    query: Listing,
    connected: bool | None = None,
) -> Any:
    stmt = queries.feed_variants_visible(principal)
    if connected is not None:
        column = InventoryFeedVariant.variant_id
        stmt = stmt.where(column.is_not(None) if connected else column.is_(None))
    order = [InventoryFeedVariant.id]
    rows = paginate(
        session,
        stmt=stmt,
        query=query,
        fields=FEED_VARIANT_FILTERS,
        response=response,
        default_order=order,
    )
    return respond(
        session,
        query=query,
        response=response,
        items=rows,
        read=FeedVariantRead,
        relations=FEED_VARIANT_RELATIONS,
    )


@router.post("/inventory-feed-variants.json", response_model=FeedVariantRead, status_code=201)
def create_feed_variant(
    data: FeedVariantCreate, session: DbSession, principal: CurrentPrincipal
) -> InventoryFeedVariant:
    feed = queries.get_feed(session, feed_id=data.inventory_feed_id, principal=principal)
    check_vendor_fields(principal, FEED_VARIANT_WRITABLE, data)
    payload = FeedVariantData.model_validate(data.changes(exclude={"inventory_feed_id"}))
    return service.upsert_feed_variant(
        session, feed=feed, data=payload, actor=principal.name
    ).feed_variant


@router.get("/inventory-feed-variants/{feed_variant_id}.json", response_model=FeedVariantRead)
def get_feed_variant(
    feed_variant_id: PathId, session: DbSession, principal: CurrentPrincipal
) -> InventoryFeedVariant:
    return queries.get_feed_variant(session, feed_variant_id=feed_variant_id, principal=principal)


@router.put("/inventory-feed-variants/{feed_variant_id}.json", response_model=FeedVariantRead)
def update_feed_variant(
    feed_variant_id: PathId,
    data: FeedVariantUpdate,
    session: DbSession,
    principal: CurrentPrincipal,
) -> InventoryFeedVariant:
    feed_variant = queries.get_feed_variant(
        session, feed_variant_id=feed_variant_id, principal=principal
    )
    check_vendor_fields(principal, FEED_VARIANT_WRITABLE, data)
    return service.update_feed_variant(
        session, feed_variant=feed_variant, data=data, actor=principal.name
    )


# --- pull runs -----------------------------------------------------------------------------

RUN_FILTERS = fields_of(InventoryFeedRun, "id", "status", "trigger", "created_at")


@router.post(
    "/inventory-feeds/{feed_id}/fetch.json",
    response_model=FeedRunRead,
    status_code=status.HTTP_202_ACCEPTED,
)
def fetch_feed(
    feed_id: PathId, session: DbSession, principal: CurrentPrincipal
) -> InventoryFeedRun:
    """Run a pull feed now: the run is queued for a worker (409 while one is going)."""
    feed = queries.get_feed(session, feed_id=feed_id, principal=principal)
    return runs.request_run(session, feed=feed, trigger="manual")


@router.get("/inventory-feeds/{feed_id}/runs.json", response_model=list[FeedRunRead])
def list_feed_runs(
    feed_id: PathId,
    session: DbSession,
    principal: CurrentPrincipal,
    response: Response,
    query: Listing,
) -> list[InventoryFeedRun]:
    feed = queries.get_feed(session, feed_id=feed_id, principal=principal)
    stmt = select(InventoryFeedRun).where(InventoryFeedRun.inventory_feed_id == feed.id)
    return paginate(
        session,
        stmt=stmt,
        query=query,
        fields=RUN_FILTERS,
        response=response,
        default_order=[InventoryFeedRun.id.desc()],
    )


def _run(session: DbSession, run_id: PathId, principal: Principal) -> InventoryFeedRun:
    run = runs.get_run(session, run_id=run_id)
    queries.get_feed(session, feed_id=run.inventory_feed_id, principal=principal)  # scope check
    return run


@router.get("/inventory-feed-runs/{run_id}.json", response_model=FeedRunRead)
def get_feed_run(
    run_id: PathId, session: DbSession, principal: CurrentPrincipal
) -> InventoryFeedRun:
    return _run(session, run_id, principal)


@router.post("/inventory-feed-runs/{run_id}/approve.json", response_model=FeedRunRead)
def approve_feed_run(
    run_id: PathId, session: DbSession, principal: AdminPrincipal
) -> InventoryFeedRun:
    """Apply a held run's file after all (it is fetched and read again, without the guard)."""
    return runs.approve_run(session, run=_run(session, run_id, principal))


@router.post("/inventory-feed-runs/{run_id}/discard.json", response_model=FeedRunRead)
def discard_feed_run(
    run_id: PathId, session: DbSession, principal: AdminPrincipal
) -> InventoryFeedRun:
    return runs.discard_run(session, run=_run(session, run_id, principal))
