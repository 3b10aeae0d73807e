from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from dropwire.auth.service import Principal
from dropwire.catalog import service
from dropwire.catalog.models import ChannelVariant, Product, Variant
from dropwire.catalog.schemas import (
    ChannelVariantRead,
    ProductRead,
    ProductSummaryRead,
    VariantCreate,
    VariantRead,
    VariantSummaryRead,
    VariantUpdate,
)
from dropwire.core.errors import Forbidden
from dropwire.customfields.models import CustomFieldResource
from dropwire.customfields.relations import values_relation
from dropwire.customfields.routes import add_value_routes
from dropwire.http.deps import AdminPrincipal, DbSession, PathId
from dropwire.http.listing import ListQuery, Relation, fields_of, list_query, paginate, respond
from dropwire.http.routing import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, tags=["Catalog"])

VARIANT_FILTERS = fields_of(
    Variant,
    "id",
    "product_id",
    "sku",
    "barcode",
    "name",
    "inventory_policy",
    "cost_price",
    "price",
    "created_at",
    "updated_at",
)
PRODUCT_FILTERS = fields_of(Product, "id", "name", "handle", "external_group_id", "created_at")
CHANNEL_VARIANT_FILTERS = fields_of(
    ChannelVariant,
    "id",
    "channel_id",
    "variant_id",
    "external_id",
    "external_sku",
    "status",
    "created_at",
    "updated_at",
)
Listing = Annotated[ListQuery, Depends(list_query)]

VARIANT_RELATIONS = {
    **values_relation(CustomFieldResource.variant, None),
    "Product": Relation("product", ProductSummaryRead, Product, local="product_id"),
    "ChannelVariant": Relation(
        "channelVariants", ChannelVariantRead, ChannelVariant, remote="variant_id", many=True
    ),
}
PRODUCT_RELATIONS = {"Variant": Relation("variants", VariantRead)}
CHANNEL_VARIANT_RELATIONS = {
    **values_relation(CustomFieldResource.variant, None),
    "Variant": Relation("variant", VariantSummaryRead, Variant, local="variant_id"),
}


@router.get("/variants.json", response_model=list[VariantRead])
def list_variants(session: DbSession, _: AdminPrincipal, response: Response, query: Listing) -> Any:
    variants = paginate(
        session,
        stmt=select(Variant),
        query=query,
        fields=VARIANT_FILTERS,
        response=response,
        default_order=[Variant.id],
    )
    reads = service.variant_reads(session, variants=variants)
    return respond(
        session,
        query=query,
        response=response,
        items=reads,
        read=VariantRead,
        relations=VARIANT_RELATIONS,
    )


@router.post("/variants.json", response_model=VariantRead, status_code=201)
def create_variant(data: VariantCreate, session: DbSession, _: AdminPrincipal) -> VariantRead:
    return service.variant_reads(session, variants=[service.create_variant(session, data=data)])[0]


@router.get("/variants/{variant_id}.json", response_model=VariantRead)
def get_variant(variant_id: PathId, session: DbSession, _: AdminPrincipal) -> VariantRead:
    return service.variant_reads(
        session, variants=[service.get_variant(session, variant_id=variant_id)]
    )[0]


@router.put("/variants/{variant_id}.json", response_model=VariantRead)
def update_variant(
    variant_id: PathId, data: VariantUpdate, session: DbSession, _: AdminPrincipal
) -> VariantRead:
    variant = service.update_variant(
        session, variant=service.get_variant(session, variant_id=variant_id), data=data
    )
    return service.variant_reads(session, variants=[variant])[0]


@router.get("/products.json", response_model=list[ProductRead])
def list_products(session: DbSession, _: AdminPrincipal, response: Response, query: Listing) -> Any:
    products = paginate(
        session,
        stmt=select(Product),
        query=query,
        fields=PRODUCT_FILTERS,
        response=response,
        default_order=[Product.id],
    )
    reads = []
    for product in products:
        read = ProductRead.model_validate(product)
        read.variants = service.variant_reads(session, variants=product.variants)
        reads.append(read)
    return respond(
        session,
        query=query,
        response=response,
        items=reads,
        read=ProductRead,
        relations=PRODUCT_RELATIONS,
    )


@router.get("/channel-variants.json", response_model=list[ChannelVariantRead])
def list_channel_variants(
    session: DbSession, _: AdminPrincipal, response: Response, query: Listing
) -> Any:
    stmt = select(ChannelVariant)
    rows = paginate(
        session,
        stmt=stmt,
        query=query,
        fields=CHANNEL_VARIANT_FILTERS,
        response=response,
        default_order=[ChannelVariant.id],
    )
    return respond(
        session,
        query=query,
        response=response,
        items=rows,
        read=ChannelVariantRead,
        relations=CHANNEL_VARIANT_RELATIONS,
    )


def _admin_variant(session: Session, variant_id: int, principal: Principal) -> Variant:
    if not principal.is_admin:
        raise Forbidden("A vendor token may not write a variant's custom fields")
    return service.get_variant(session, variant_id=variant_id)


add_value_routes(
    router,
    resource=CustomFieldResource.variant,
    list_paths=("/custom-field-variants.json",),
    records_path="/variants",
    scope=None,  # vendors read them through their purchase orders' lines
    find=_admin_variant,
)
