from typing import Annotated

from fastapi import APIRouter, Depends, Response
from sqlalchemy import ColumnElement, select

from dropwire.auth.permissions import Resource, check_vendor_fields
from dropwire.auth.service import Principal
from dropwire.feeds import service
from dropwire.feeds.models import InventoryFeed, InventoryFeedVariant
from dropwire.feeds.schemas import (
    FeedCreate,
    FeedRead,
    FeedUpdate,
    FeedVariantCreate,
    FeedVariantData,
    FeedVariantRead,
    FeedVariantUpdate,
)
from dropwire.http.deps import AdminPrincipal, CurrentPrincipal, DbSession
from dropwire.http.listing import ListQuery, fields_of, list_query, paginate
from dropwire.http.routing import OneHopRoute

router = APIRouter(route_class=OneHopRoute, tags=["Inventory feeds"])
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


def _own_feeds(principal: Principal) -> list[ColumnElement[bool]]:
    if principal.is_admin:
        return []
    return [InventoryFeed.dropship_provider_id == principal.dropship_provider_id]


@router.get("/inventory-feeds.json", response_model=list[FeedRead])
def list_feeds(
    session: DbSession, principal: CurrentPrincipal, response: Response, query: Listing
) -> list[InventoryFeed]:
    stmt = select(InventoryFeed).where(*_own_feeds(principal))
    return paginate(session, stmt, query, FEED_FILTERS, response, [InventoryFeed.id])


@router.post("/inventory-feeds.json", response_model=FeedRead, status_code=201)
@router.post(
    "/inventory-feed.json", response_model=FeedRead, status_code=201, include_in_schema=False
)
def create_feed(data: FeedCreate, session: DbSession, _: AdminPrincipal) -> InventoryFeed:
    return service.create_feed(session, data)


@router.get("/inventory-feeds/{feed_id}.json", response_model=FeedRead)
def get_feed(feed_id: int, session: DbSession, principal: CurrentPrincipal) -> InventoryFeed:
    return service.get_feed(session, feed_id, principal)


@router.put("/inventory-feeds/{feed_id}.json", response_model=FeedRead)
def update_feed(
    feed_id: int, data: FeedUpdate, session: DbSession, principal: CurrentPrincipal
) -> InventoryFeed:
    feed = service.get_feed(session, feed_id, principal)
    check_vendor_fields(principal, Resource.inventory_feed, data)
    return service.update_feed(session, feed, data)


@router.delete("/inventory-feeds/{feed_id}.json", status_code=204)
def delete_feed(feed_id: int, session: DbSession, principal: AdminPrincipal) -> Response:
    service.delete_feed(session, service.get_feed(session, feed_id), principal.name)
    return Response(status_code=204)


@router.post("/inventory-feeds/{feed_id}/rotate-hash.json", response_model=FeedRead)
def rotate_feed_hash(feed_id: int, session: DbSession, _: AdminPrincipal) -> InventoryFeed:
    return service.rotate_hash(session, service.get_feed(session, feed_id))


@router.put("/inventory-feeds/{feed_id}/parse-webhook.json", response_model=FeedVariantRead)
def parse_webhook(
    feed_id: int, data: FeedVariantData, session: DbSession, principal: CurrentPrincipal
) -> InventoryFeedVariant:
    """Upsert ONE feed variant by externalId, with validation and auto-connect."""
    feed = service.get_feed(session, feed_id, principal)
    check_vendor_fields(principal, Resource.inventory_feed_variant, data)
    return service.upsert_feed_variant(session, feed, data, principal.name).feed_variant


@router.get("/inventory-feed-variants.json", response_model=list[FeedVariantRead])
def list_feed_variants(
    session: DbSession,
    principal: CurrentPrincipal,
    response: Response,
    query: Listing,
    connected: bool | None = None,
) -> list[InventoryFeedVariant]:
    stmt = select(InventoryFeedVariant)
    if not principal.is_admin:
        stmt = stmt.join(InventoryFeed).where(*_own_feeds(principal))
    if connected is not None:
        column = InventoryFeedVariant.variant_id
        stmt = stmt.where(column.is_not(None) if connected else column.is_(None))
    return paginate(session, stmt, query, FEED_VARIANT_FILTERS, response, [InventoryFeedVariant.id])


@router.post("/inventory-feed-variants.json", response_model=FeedVariantRead, status_code=201)
def create_feed_variant(
    data: FeedVariantCreate, session: DbSession, principal: CurrentPrincipal
) -> InventoryFeedVariant:
    feed = service.get_feed(session, data.inventory_feed_id, principal)
    check_vendor_fields(principal, Resource.inventory_feed_variant, data)
    payload = FeedVariantData.model_validate(
        data.model_dump(exclude={"inventory_feed_id"}, exclude_unset=True)
    )
    return service.upsert_feed_variant(session, feed, payload, principal.name).feed_variant


@router.get("/inventory-feed-variants/{feed_variant_id}.json", response_model=FeedVariantRead)
def get_feed_variant(
    feed_variant_id: int, session: DbSession, principal: CurrentPrincipal
) -> InventoryFeedVariant:
    return service.get_feed_variant(session, feed_variant_id, principal)


@router.put("/inventory-feed-variants/{feed_variant_id}.json", response_model=FeedVariantRead)
def update_feed_variant(
    feed_variant_id: int, data: FeedVariantUpdate, session: DbSession, principal: CurrentPrincipal
) -> InventoryFeedVariant:
    feed_variant = service.get_feed_variant(session, feed_variant_id, principal)
    check_vendor_fields(principal, Resource.inventory_feed_variant, data)
    return service.update_feed_variant(session, feed_variant, data, principal.name)
