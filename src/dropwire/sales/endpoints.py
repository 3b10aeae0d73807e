from typing import Annotated

from fastapi import APIRouter, Depends, Response
from sqlalchemy import select

from dropwire.channels.service import get_channel
from dropwire.http.deps import AdminPrincipal, CurrentPrincipal, DbSession, PathId
from dropwire.http.listing import ListQuery, fields_of, list_query, paginate
from dropwire.http.routing import UnitOfWorkRoute
from dropwire.sales import service
from dropwire.sales.models import Fulfillment, Purchase, Sale, SaleItem
from dropwire.sales.schemas import (
    CancelRequest,
    FulfillmentRead,
    ManualSale,
    MoveDropshipProvider,
    PurchaseRead,
    PurchaseUpdate,
    SaleItemRead,
    SaleRead,
    ShipRequest,
)

router = APIRouter(route_class=UnitOfWorkRoute, tags=["Sales"])
Listing = Annotated[ListQuery, Depends(list_query)]

SALE_FILTERS = fields_of(
    Sale,
    "id",
    "channel_id",
    "external_id",
    "reference",
    "inventory_status",
    "payment_status",
    "cancellation_status",
    "receiver_country",
    "date_ordered",
    "created_at",
    "updated_at",
)
SALE_ITEM_FILTERS = fields_of(
    SaleItem,
    "id",
    "sale_id",
    "external_id",
    "variant_id",
    "sku",
    "quantity",
    "created_at",
)
PURCHASE_FILTERS = fields_of(
    Purchase,
    "id",
    "sale_id",
    "dropship_provider_id",
    "warehouse_id",
    "external_reference",
    "inventory_status",
    "cancellation_status",
    "created_at",
    "updated_at",
)
FULFILLMENT_FILTERS = fields_of(
    Fulfillment,
    "id",
    "sale_id",
    "purchase_id",
    "reference",
    "tracking_number",
    "shipped_at",
)


@router.post("/channels/{channel_id}/manual-sale.json", response_model=SaleRead)
def manual_sale(
    channel_id: PathId, data: ManualSale, session: DbSession, principal: AdminPrincipal
) -> Sale:
    """Create or update a sale from this channel, keyed by externalId."""
    sale, _ = service.upsert_manual_sale(
        session, get_channel(session, channel_id), data, principal.name
    )
    session.refresh(sale)
    return sale


@router.get("/sales.json", response_model=list[SaleRead])
def list_sales(
    session: DbSession, _: AdminPrincipal, response: Response, query: Listing
) -> list[Sale]:
    return paginate(session, select(Sale), query, SALE_FILTERS, response, [Sale.id])


@router.get("/sales/{sale_id}.json", response_model=SaleRead)
def get_sale(sale_id: PathId, session: DbSession, _: AdminPrincipal) -> Sale:
    return service.get_sale(session, sale_id)


@router.post("/sales/{sale_id}/cancel.json", response_model=SaleRead)
def cancel_sale(
    sale_id: PathId,
    session: DbSession,
    principal: AdminPrincipal,
    data: CancelRequest | None = None,
) -> Sale:
    sale = service.cancel(
        session, service.get_sale(session, sale_id), data or CancelRequest(), principal.name
    )
    session.refresh(sale)
    return sale


@router.get("/sale-items.json", response_model=list[SaleItemRead])
def list_sale_items(
    session: DbSession, _: AdminPrincipal, response: Response, query: Listing
) -> list[SaleItem]:
    return paginate(session, select(SaleItem), query, SALE_ITEM_FILTERS, response, [SaleItem.id])


@router.get("/purchases.json", response_model=list[PurchaseRead])
def list_purchases(
    session: DbSession, principal: CurrentPrincipal, response: Response, query: Listing
) -> list[Purchase]:
    stmt = select(Purchase)
    if not principal.is_admin:
        stmt = stmt.where(Purchase.dropship_provider_id == principal.dropship_provider_id)
    return paginate(session, stmt, query, PURCHASE_FILTERS, response, [Purchase.id])


@router.get("/purchases/{purchase_id}.json", response_model=PurchaseRead)
def get_purchase(purchase_id: PathId, session: DbSession, principal: CurrentPrincipal) -> Purchase:
    return service.get_purchase(session, purchase_id, principal)


@router.put("/purchases/{purchase_id}.json", response_model=PurchaseRead)
def update_purchase(
    purchase_id: PathId, data: PurchaseUpdate, session: DbSession, principal: AdminPrincipal
) -> Purchase:
    purchase = service.get_purchase(session, purchase_id, principal)
    if "order_splitting_key" in data.model_fields_set:
        purchase.order_splitting_key = data.order_splitting_key
        session.flush()
    return purchase


@router.post("/purchases/{purchase_id}/ship.json", response_model=FulfillmentRead, status_code=201)
def ship_purchase(
    purchase_id: PathId, data: ShipRequest, session: DbSession, principal: CurrentPrincipal
) -> Fulfillment:
    """The vendor reports a shipment (no items = everything left)."""
    purchase = service.get_purchase(session, purchase_id, principal)
    return service.ship(session, purchase, data, principal.name)


@router.put("/purchases/{purchase_id}/move-dropship-provider.json", response_model=PurchaseRead)
def move_purchase(
    purchase_id: PathId, data: MoveDropshipProvider, session: DbSession, principal: AdminPrincipal
) -> Purchase:
    purchase = service.get_purchase(session, purchase_id)
    moved = service.move_to_vendor(session, purchase, data.dropship_provider_id, principal.name)
    session.refresh(moved)
    return moved


@router.get("/fulfillments.json", response_model=list[FulfillmentRead])
def list_fulfillments(
    session: DbSession, principal: CurrentPrincipal, response: Response, query: Listing
) -> list[Fulfillment]:
    stmt = select(Fulfillment)
    if not principal.is_admin:
        stmt = stmt.join(Purchase, Purchase.id == Fulfillment.purchase_id).where(
            Purchase.dropship_provider_id == principal.dropship_provider_id
        )
    return paginate(session, stmt, query, FULFILLMENT_FILTERS, response, [Fulfillment.id])


@router.get("/fulfillments/{fulfillment_id}.json", response_model=FulfillmentRead)
def get_fulfillment(
    fulfillment_id: PathId, session: DbSession, principal: CurrentPrincipal
) -> Fulfillment:
    return service.get_fulfillment(session, fulfillment_id, principal)
