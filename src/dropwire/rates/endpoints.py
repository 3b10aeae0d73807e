from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from sqlalchemy import select

from dropwire.auth.scope import visible_to
from dropwire.channels.models import Channel
from dropwire.core.errors import NotFound
from dropwire.http.deps import AdminPrincipal, CurrentPrincipal, DbSession, PathId
from dropwire.http.listing import ListQuery, fields_of, list_query, listed
from dropwire.http.routing import UnitOfWorkRoute
from dropwire.rates import service
from dropwire.rates.models import ShippingRate
from dropwire.rates.schemas import (
    Quote,
    RateCreate,
    RateRead,
    RateUpdate,
    RouteShipments,
    VendorShipment,
)
from dropwire.sales import service as sales_service

router = APIRouter(route_class=UnitOfWorkRoute, tags=["Shipping rates"])
Listing = Annotated[ListQuery, Depends(list_query)]

RATE_FILTERS = fields_of(
    ShippingRate, "id", "dropship_provider_id", "name", "code", "carrier", "price", "created_at"
)


@router.get("/shipping-rates.json", response_model=list[RateRead])
def list_rates(
    session: DbSession, principal: CurrentPrincipal, response: Response, query: Listing
) -> Any:
    """Vendors' rate tables; a vendor token sees its own."""
    stmt = visible_to(select(ShippingRate), principal, ShippingRate.dropship_provider_id)
    return listed(
        session,
        stmt=stmt,
        query=query,
        fields=RATE_FILTERS,
        response=response,
        default_order=[ShippingRate.id],
        read=RateRead,
    )


@router.post("/shipping-rates.json", response_model=RateRead, status_code=201)
def create_rate(data: RateCreate, session: DbSession, _: AdminPrincipal) -> ShippingRate:
    return service.create(session, data=data)


@router.get("/shipping-rates/{rate_id}.json", response_model=RateRead)
def get_rate(rate_id: PathId, session: DbSession, _: AdminPrincipal) -> ShippingRate:
    return service.get(session, rate_id=rate_id)


@router.put("/shipping-rates/{rate_id}.json", response_model=RateRead)
def update_rate(
    rate_id: PathId, data: RateUpdate, session: DbSession, _: AdminPrincipal
) -> ShippingRate:
    return service.update(session, rate=service.get(session, rate_id=rate_id), data=data)


@router.delete("/shipping-rates/{rate_id}.json", status_code=204)
def delete_rate(rate_id: PathId, session: DbSession, _: AdminPrincipal) -> Response:
    session.delete(service.get(session, rate_id=rate_id))
    session.flush()
    return Response(status_code=204)


@router.post("/purchases/{purchase_id}/rates.json", response_model=list[Quote])
def purchase_rates(purchase_id: PathId, session: DbSession, principal: CurrentPrincipal) -> Any:
    """The rates of the purchase order's vendor for its parcel (weight, destination)."""
    purchase = sales_service.get_purchase(session, purchase_id=purchase_id, principal=principal)
    return service.purchase_rates(session, purchase=purchase)


@router.post("/channels/{channel_id}/route-shipments.json", response_model=list[VendorShipment])
def route_shipments(
    channel_id: PathId, data: RouteShipments, session: DbSession, _: AdminPrincipal
) -> Any:
    """For checkout: which vendor ships each cart item, and each vendor's rates."""
    if session.get(Channel, channel_id) is None:
        raise NotFound("Channel", channel_id)
    return service.route_shipments(session, data=data)
