from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import select, true
from sqlalchemy.orm import undefer

from dropwire.auth.errors import VendorFieldForbidden
from dropwire.auth.service import Principal
from dropwire.catalog.models import Variant
from dropwire.catalog.schemas import VariantSummaryRead
from dropwire.channels.models import Channel
from dropwire.channels.schemas import ChannelRead
from dropwire.core.errors import Invalid, NotFound
from dropwire.customfields.models import CustomFieldResource
from dropwire.customfields.relations import values_relation
from dropwire.customfields.routes import add_value_routes
from dropwire.http.deps import AdminPrincipal, CurrentPrincipal, DbSession, PathId
from dropwire.http.grouped import GroupedWrite
from dropwire.http.listing import (
    ListQuery,
    Relation,
    fields_of,
    list_query,
    listed,
    paginate,
    respond,
)
from dropwire.http.routing import UnitOfWorkRoute
from dropwire.sales import (
    cancelling,
    cloning,
    editing,
    grouped,
    queries,
    rerouting,
    returns,
    shipping,
    statuses,
    vendor_view,
)
from dropwire.sales.models import (
    Fulfillment,
    Purchase,
    PurchaseItem,
    PurchaseStatus,
    Sale,
    SaleItem,
    SaleReturn,
    SaleReturnItem,
)
from dropwire.sales.schemas import (
    BILLING_FIELDS,
    CancelRequest,
    CloneRequest,
    DefaultLabelRequest,
    FulfillmentCreate,
    FulfillmentRead,
    ManualSale,
    MoveDropshipProvider,
    PurchaseAdminRead,
    PurchaseCancel,
    PurchaseItemRead,
    PurchaseRead,
    PurchaseStatusCreate,
    PurchaseStatusRead,
    PurchaseStatusUpdate,
    PurchaseUpdate,
    SaleItemRead,
    SaleRead,
    SaleReturnCreate,
    SaleReturnItemRead,
    SaleReturnRead,
    SaleSummaryRead,
    SaleUpdate,
    ShipRequest,
)
from dropwire.vendors.models import DropshipProvider
from dropwire.vendors.schemas import DropshipProviderRead
from dropwire.vendors.service import vendor_custom_fields, vendor_itself

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
    "return_status",
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
    "quantity_shipped",
    "quantity_cancelled",
    "quantity_returned",
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
    "purchase_status_id",
    "created_at",
    "updated_at",
)
PURCHASE_FILTERS["reference"] = Purchase.external_reference
FULFILLMENT_FILTERS = fields_of(
    Fulfillment,
    "id",
    "sale_id",
    "purchase_id",
    "reference",
    "tracking_number",
    "shipped_at",
)


SALE_RETURN_FILTERS = fields_of(
    SaleReturn, "id", "sale_id", "reference", "restock", "location_id", "created_at"
)
SALE_RETURN_ITEM_FILTERS = fields_of(
    SaleReturnItem, "id", "sale_return_id", "sale_item_id", "variant_id", "quantity"
)
PURCHASE_STATUS_FILTERS = fields_of(PurchaseStatus, "id", "name", "level", "position")

_VENDOR = Relation(
    "dropshipProvider",
    DropshipProviderRead,
    DropshipProvider,
    local="dropship_provider_id",
    scope=vendor_itself,
    nested=lambda: VENDOR_RELATIONS,
)
_SALE_SUMMARY = Relation(
    "sale",
    SaleSummaryRead,
    Sale,
    local="sale_id",
    scope=queries.vendor_sales,
    nested=lambda: SALE_RELATIONS,
    vendor_view=vendor_view.vendor_sale_row,
)
_VARIANT = Relation(
    "variant",
    VariantSummaryRead,
    Variant,
    local="variant_id",
    scope=queries.vendor_variants,
    nested=lambda: VARIANT_RELATIONS,
)
_PURCHASE = Relation(
    "purchase",
    PurchaseAdminRead,
    Purchase,
    local="purchase_id",
    scope=queries.vendor_purchases,
    nested=lambda: PURCHASE_RELATIONS,
    vendor_view=vendor_view.vendor_purchase_row,
    options=(undefer(Purchase.sale_defaults), undefer(Purchase.sale_currency)),
)
_SALE_ITEM = Relation(
    "saleItem",
    SaleItemRead,
    SaleItem,
    local="sale_item_id",
    scope=queries.vendor_sale_items,
    nested=lambda: SALE_ITEM_RELATIONS,
    vendor_view=vendor_view.vendor_line_row,
)
VENDOR_RELATIONS: dict[str, Relation] = values_relation(
    CustomFieldResource.dropship_provider, vendor_custom_fields
)
VARIANT_RELATIONS: dict[str, Relation] = values_relation(
    CustomFieldResource.variant, queries.vendor_variant_custom_fields
)
SALE_RELATIONS: dict[str, Relation] = {
    **values_relation(CustomFieldResource.sale, None),
    "Customer": Relation("customer"),
    "SaleItem": replace(_SALE_ITEM, key="saleItems", local="id", remote="sale_id", many=True),
    "Purchase": replace(_PURCHASE, key="purchases", local="id", remote="sale_id", many=True),
    "Fulfillment": Relation(
        "fulfillments",
        FulfillmentRead,
        Fulfillment,
        remote="sale_id",
        many=True,
        scope=queries.vendor_fulfillments,
        nested=lambda: FULFILLMENT_RELATIONS,
    ),
    "Channel": Relation("channel", ChannelRead, Channel, local="channel_id"),
    "SaleReturn": Relation(
        "saleReturns",
        SaleReturnRead,
        SaleReturn,
        remote="sale_id",
        many=True,
        nested=lambda: SALE_RETURN_RELATIONS,
    ),
}
SALE_ITEM_RELATIONS: dict[str, Relation] = {
    "Sale": _SALE_SUMMARY,
    "Variant": _VARIANT,
    "PurchaseItem": Relation(
        "purchaseItems",
        PurchaseItemRead,
        PurchaseItem,
        remote="sale_item_id",
        many=True,
        scope=queries.vendor_purchase_items,
        nested=lambda: PURCHASE_ITEM_RELATIONS,
    ),
}
PURCHASE_ITEM_RELATIONS: dict[str, Relation] = {
    "Purchase": _PURCHASE,
    "SaleItem": _SALE_ITEM,
    "Variant": _VARIANT,
}
PURCHASE_RELATIONS: dict[str, Relation] = {
    **values_relation(CustomFieldResource.purchase, queries.vendor_purchase_custom_fields),
    "DropshipProvider": _VENDOR,
    "PurchaseItem": Relation(
        "purchaseItems",
        PurchaseItemRead,
        PurchaseItem,
        remote="purchase_id",
        many=True,
        scope=queries.vendor_purchase_items,
        nested=lambda: PURCHASE_ITEM_RELATIONS,
    ),
    "Sale": _SALE_SUMMARY,
    "Fulfillment": Relation(
        "fulfillments",
        FulfillmentRead,
        Fulfillment,
        remote="purchase_id",
        many=True,
        scope=queries.vendor_fulfillments,
        nested=lambda: FULFILLMENT_RELATIONS,
    ),
    "PurchaseStatus": Relation(
        "purchaseStatus",
        PurchaseStatusRead,
        PurchaseStatus,
        local="purchase_status_id",
        scope=lambda _vendor: true(),
    ),
}
FULFILLMENT_RELATIONS: dict[str, Relation] = {
    "Purchase": _PURCHASE,
    "Sale": _SALE_SUMMARY,
}
SALE_RETURN_RELATIONS: dict[str, Relation] = {
    "SaleReturnItem": Relation("saleReturnItems", SaleReturnItemRead),
    "Sale": _SALE_SUMMARY,
}
SALE_RETURN_ITEM_RELATIONS: dict[str, Relation] = {
    "SaleReturn": Relation(
        "saleReturn",
        SaleReturnRead,
        SaleReturn,
        local="sale_return_id",
        nested=lambda: SALE_RETURN_RELATIONS,
    ),
    "SaleItem": _SALE_ITEM,
}


UPSERT_MANUAL_SALE = GroupedWrite(
    "sales.manual_sale", grouped.upsert_sales, SaleRead, record_key=grouped.SaleUpsert.sale_key
)


@router.post("/channels/{channel_id}/manual-sale.json", response_model=SaleRead)
async def manual_sale(
    channel_id: PathId, data: ManualSale, request: Request, principal: AdminPrincipal
) -> Response:
    """Create or update a sale from this channel, keyed by externalId.

    Concurrent requests are applied together, in one transaction (`http.grouped`)."""
    upsert = grouped.SaleUpsert(channel_id, data, principal.name)
    return await UPSERT_MANUAL_SALE.run(request, upsert)


@router.get("/sales.json", response_model=list[SaleRead])
def list_sales(session: DbSession, _: AdminPrincipal, response: Response, query: Listing) -> Any:
    order = [Sale.id]
    return listed(
        session,
        stmt=select(Sale),
        query=query,
        fields=SALE_FILTERS,
        response=response,
        default_order=order,
        relations=SALE_RELATIONS,
        read=SaleRead,
    )


@router.get("/sales/{sale_id}.json", response_model=SaleRead)
def get_sale(sale_id: PathId, session: DbSession, _: AdminPrincipal) -> Sale:
    return queries.get_sale(session, sale_id=sale_id)


@router.put("/sales/{sale_id}.json", response_model=SaleRead)
def update_sale(
    sale_id: PathId, data: SaleUpdate, session: DbSession, principal: AdminPrincipal
) -> Sale:
    """Change a sale's header: Onport's sale fields at the top level, or ours nested."""
    sale = queries.get_sale(session, sale_id=sale_id)
    editing.update_sale(session, sale=sale, data=data, actor=principal.name)
    session.refresh(sale)
    return sale


@router.post("/sales/{sale_id}/cancel.json", response_model=SaleRead)
def cancel_sale(
    sale_id: PathId,
    session: DbSession,
    principal: AdminPrincipal,
    data: CancelRequest | None = None,
) -> Sale:
    sale = cancelling.cancel(
        session,
        sale=queries.get_sale(session, sale_id=sale_id),
        request=data or CancelRequest(),
        actor=principal.name,
    )
    session.refresh(sale)
    return sale


@router.post("/sales/{sale_id}/clone.json", response_model=SaleRead, status_code=201)
def clone_sale(
    sale_id: PathId, session: DbSession, principal: AdminPrincipal, data: CloneRequest | None = None
) -> Sale:
    """An exchange or a new order made from this sale (Onport's clone)."""
    sale = queries.get_sale(session, sale_id=sale_id)
    clone = cloning.clone_sale(
        session, sale=sale, request=data or CloneRequest(), actor=principal.name
    )
    session.refresh(clone)
    return clone


@router.post("/sales/{sale_id}/returns.json", response_model=SaleReturnRead, status_code=201)
def create_sale_return(
    sale_id: PathId, data: SaleReturnCreate, session: DbSession, principal: AdminPrincipal
) -> SaleReturn:
    """Record items coming back; `restock` puts them into stocked at a warehouse."""
    sale = queries.get_sale(session, sale_id=sale_id)
    return returns.create_return(session, sale=sale, data=data, actor=principal.name)


@router.get("/sale-returns.json", response_model=list[SaleReturnRead])
def list_sale_returns(
    session: DbSession, _: AdminPrincipal, response: Response, query: Listing
) -> Any:
    rows = paginate(
        session,
        stmt=select(SaleReturn),
        query=query,
        fields=SALE_RETURN_FILTERS,
        response=response,
        default_order=[SaleReturn.id],
    )
    return respond(
        session,
        query=query,
        response=response,
        items=rows,
        read=SaleReturnRead,
        relations=SALE_RETURN_RELATIONS,
    )


@router.get("/sale-returns/{sale_return_id}.json", response_model=SaleReturnRead)
def get_sale_return(sale_return_id: PathId, session: DbSession, _: AdminPrincipal) -> SaleReturn:
    sale_return = session.get(SaleReturn, sale_return_id)
    if sale_return is None:
        raise NotFound("Sale return", sale_return_id)
    return sale_return


@router.get("/sale-return-items.json", response_model=list[SaleReturnItemRead])
def list_sale_return_items(
    session: DbSession, _: AdminPrincipal, response: Response, query: Listing
) -> Any:
    stmt = select(SaleReturnItem)
    order = [SaleReturnItem.id]
    rows = paginate(
        session,
        stmt=stmt,
        query=query,
        fields=SALE_RETURN_ITEM_FILTERS,
        response=response,
        default_order=order,
    )
    return respond(
        session,
        query=query,
        response=response,
        items=rows,
        read=SaleReturnItemRead,
        relations=SALE_RETURN_ITEM_RELATIONS,
    )


@router.get("/sale-items.json", response_model=list[SaleItemRead])
def list_sale_items(
    session: DbSession, _: AdminPrincipal, response: Response, query: Listing
) -> Any:
    rows = paginate(
        session,
        stmt=select(SaleItem),
        query=query,
        fields=SALE_ITEM_FILTERS,
        response=response,
        default_order=[SaleItem.id],
    )
    return respond(
        session,
        query=query,
        response=response,
        items=rows,
        read=SaleItemRead,
        relations=SALE_ITEM_RELATIONS,
    )


def purchase_view(purchase: Purchase, principal: Principal) -> PurchaseAdminRead:
    """The merchant's shape; a vendor's without the billing details (as its webhook)."""
    view = PurchaseAdminRead.model_validate(purchase)
    if principal.is_admin:
        return view
    return view.model_copy(update=dict.fromkeys(BILLING_FIELDS))


@router.get("/purchases.json", response_model=list[PurchaseAdminRead])
def list_purchases(
    session: DbSession, principal: CurrentPrincipal, response: Response, query: Listing
) -> Any:
    """Billing fields are null for a vendor token (its purchase-order webhook has none)."""
    stmt = queries.purchases_visible(principal)
    order = [Purchase.id]
    rows = paginate(
        session,
        stmt=stmt,
        query=query,
        fields=PURCHASE_FILTERS,
        response=response,
        default_order=order,
        relations=PURCHASE_RELATIONS,
    )
    views = [purchase_view(row, principal) for row in rows]
    return respond(
        session,
        query=query,
        response=response,
        items=views,
        read=PurchaseAdminRead,
        relations=PURCHASE_RELATIONS,
    )


@router.get("/purchases/{purchase_id}.json", response_model=PurchaseAdminRead)
def get_purchase(
    purchase_id: PathId, session: DbSession, principal: CurrentPrincipal
) -> PurchaseAdminRead:
    purchase = queries.get_purchase(session, purchase_id=purchase_id, principal=principal)
    return purchase_view(purchase, principal)


@router.put("/purchases/{purchase_id}.json", response_model=PurchaseRead)
def update_purchase(
    purchase_id: PathId, data: PurchaseUpdate, session: DbSession, principal: CurrentPrincipal
) -> Purchase:
    """Admins and the purchase order's vendor set its status; only admins its splitting key."""
    purchase = queries.get_purchase(session, purchase_id=purchase_id, principal=principal)
    fields = data.model_fields_set
    if "order_splitting_key" in fields:
        if not principal.is_admin:
            raise VendorFieldForbidden("A vendor token may not change orderSplittingKey")
        purchase.order_splitting_key = data.order_splitting_key
    if "purchase_status_id" in fields:
        statuses.check_exists(session, status_id=data.purchase_status_id)
        purchase.purchase_status_id = data.purchase_status_id
    if "notes" in fields:
        purchase.notes = data.notes
    session.flush()
    return purchase


@router.put("/purchases/{purchase_id}/cancel.json", response_model=PurchaseRead)
def cancel_purchase(
    purchase_id: PathId,
    session: DbSession,
    principal: CurrentPrincipal,
    data: PurchaseCancel | None = None,
) -> Purchase:
    """The vendor rejects the order (or some lines): they go back to routing elsewhere."""
    purchase = queries.get_purchase(session, purchase_id=purchase_id, principal=principal)
    cancelling.cancel_purchase(
        session, purchase=purchase, request=data or PurchaseCancel(), actor=principal.name
    )
    session.refresh(purchase)
    return purchase


@router.post("/purchases/{purchase_id}/ship.json", response_model=FulfillmentRead, status_code=201)
def ship_purchase(
    purchase_id: PathId, data: ShipRequest, session: DbSession, principal: CurrentPrincipal
) -> Fulfillment:
    """The vendor reports a shipment (no items = everything left)."""
    purchase = queries.get_purchase(session, purchase_id=purchase_id, principal=principal)
    return shipping.ship(session, purchase=purchase, request=data, actor=principal.name)


@router.put("/purchases/{purchase_id}/default-label.json", response_model=FulfillmentRead)
def default_label(
    purchase_id: PathId,
    session: DbSession,
    principal: CurrentPrincipal,
    data: DefaultLabelRequest | None = None,
) -> Fulfillment:
    """The vendor portal's ship button: the given items (none = all left) ship with the vendor's
    default carrier (`defaultCarrier`, `defaultServiceLevel`), a fulfillment like ship.json's."""
    purchase = queries.get_purchase(session, purchase_id=purchase_id, principal=principal)
    vendor = (
        session.get(DropshipProvider, purchase.dropship_provider_id)
        if purchase.dropship_provider_id is not None
        else None
    )
    if vendor is None or not vendor.default_carrier:
        raise Invalid(
            "defaultCarrier", "the purchase order's vendor has no default carrier to ship with"
        )
    request = ShipRequest.model_validate(
        {
            "trackingCompany": vendor.default_carrier,
            "serviceLevel": vendor.default_service_level,
            "ids": (data.ids or None) if data else None,
        }
    )
    return shipping.ship(session, purchase=purchase, request=request, actor=principal.name)


@router.put("/purchases/{purchase_id}/move-dropship-provider.json", response_model=PurchaseRead)
def move_purchase(
    purchase_id: PathId, data: MoveDropshipProvider, session: DbSession, principal: AdminPrincipal
) -> Purchase:
    purchase = queries.get_purchase(session, purchase_id=purchase_id)
    moved = rerouting.move_to_vendor(
        session, purchase=purchase, vendor_id=data.dropship_provider_id, actor=principal.name
    )
    session.refresh(moved)
    return moved


@router.get("/purchase-statuses.json", response_model=list[PurchaseStatusRead])
def list_purchase_statuses(
    session: DbSession, _: CurrentPrincipal, response: Response, query: Listing
) -> Any:
    order = [PurchaseStatus.position, PurchaseStatus.id]
    stmt = select(PurchaseStatus)
    return listed(
        session,
        stmt=stmt,
        query=query,
        fields=PURCHASE_STATUS_FILTERS,
        response=response,
        default_order=order,
        read=PurchaseStatusRead,
    )


@router.post("/purchase-statuses.json", response_model=PurchaseStatusRead, status_code=201)
def create_purchase_status(
    data: PurchaseStatusCreate, session: DbSession, _: AdminPrincipal
) -> PurchaseStatus:
    return statuses.create(session, data=data)


@router.get("/purchase-statuses/{status_id}.json", response_model=PurchaseStatusRead)
def get_purchase_status(
    status_id: PathId, session: DbSession, _: CurrentPrincipal
) -> PurchaseStatus:
    return statuses.get(session, status_id=status_id)


@router.put("/purchase-statuses/{status_id}.json", response_model=PurchaseStatusRead)
def update_purchase_status(
    status_id: PathId, data: PurchaseStatusUpdate, session: DbSession, _: AdminPrincipal
) -> PurchaseStatus:
    return statuses.update(session, status=statuses.get(session, status_id=status_id), data=data)


@router.delete("/purchase-statuses/{status_id}.json", status_code=204)
def delete_purchase_status(status_id: PathId, session: DbSession, _: AdminPrincipal) -> Response:
    statuses.delete(session, status=statuses.get(session, status_id=status_id))
    return Response(status_code=204)


@router.get("/fulfillments.json", response_model=list[FulfillmentRead])
def list_fulfillments(
    session: DbSession, principal: CurrentPrincipal, response: Response, query: Listing
) -> Any:
    stmt = queries.fulfillments_visible(principal)
    order = [Fulfillment.id]
    return listed(
        session,
        stmt=stmt,
        query=query,
        fields=FULFILLMENT_FILTERS,
        response=response,
        default_order=order,
        relations=FULFILLMENT_RELATIONS,
        read=FulfillmentRead,
    )


@router.post("/fulfillments.json", response_model=FulfillmentRead, status_code=201)
def create_fulfillment(
    data: FulfillmentCreate, session: DbSession, principal: CurrentPrincipal
) -> Fulfillment:
    """Onport's way to record a shipment: the same as the purchase order's ship.json."""
    purchase = queries.get_purchase(session, purchase_id=data.purchase_id, principal=principal)
    return shipping.ship(
        session, purchase=purchase, request=data.ship_request(), actor=principal.name
    )


@router.get("/fulfillments/{fulfillment_id}.json", response_model=FulfillmentRead)
def get_fulfillment(
    fulfillment_id: PathId, session: DbSession, principal: CurrentPrincipal
) -> Fulfillment:
    return queries.get_fulfillment(session, fulfillment_id=fulfillment_id, principal=principal)


@router.post("/fulfillments/{fulfillment_id}/delivered.json", response_model=FulfillmentRead)
def mark_fulfillment_delivered(
    fulfillment_id: PathId, session: DbSession, principal: CurrentPrincipal
) -> Fulfillment:
    """The carrier delivered it (admins, or the vendor whose purchase order it ships)."""
    fulfillment = queries.get_fulfillment(
        session, fulfillment_id=fulfillment_id, principal=principal
    )
    return shipping.mark_delivered(session, fulfillment=fulfillment)


# custom-field values: of sales (admins only), of purchase orders (a vendor its own)
add_value_routes(
    router,
    resource=CustomFieldResource.sale,
    list_paths=("/custom-field-sales.json",),
    records_path="/sales",
    scope=None,  # a vendor's view of a sale is `vendor_view`'s, which has no custom fields
    find=lambda session, sale_id, _principal: queries.get_sale(session, sale_id=sale_id),
)
add_value_routes(
    router,
    resource=CustomFieldResource.purchase,
    list_paths=("/custom-field-purchases.json", "/custom-field-dropshipments.json"),
    records_path="/purchases",
    scope=queries.vendor_purchase_custom_fields,
    find=lambda session, purchase_id, principal: queries.get_purchase(
        session, purchase_id=purchase_id, principal=principal
    ),
)
