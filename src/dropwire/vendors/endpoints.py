from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response

from dropwire.auth.permissions import check_vendor_fields
from dropwire.customfields.models import CustomFieldResource
from dropwire.customfields.relations import values_relation
from dropwire.customfields.routes import add_value_routes
from dropwire.http.deps import AdminPrincipal, CurrentPrincipal, DbSession, PathId
from dropwire.http.listing import ListQuery, fields_of, list_query, listed
from dropwire.http.routing import UnitOfWorkRoute
from dropwire.vendors import service
from dropwire.vendors.models import DropshipProvider
from dropwire.vendors.schemas import (
    PROFILE_WRITABLE,
    DropshipProviderCreate,
    DropshipProviderRead,
    DropshipProviderUpdate,
)

router = APIRouter(route_class=UnitOfWorkRoute, tags=["Dropship providers"])

FILTERS = fields_of(
    DropshipProvider,
    "id",
    "name",
    "external_id",
    "status",
    "priority",
    "country_filter",
    "order_splitting",
    "email",
    "created_at",
    "updated_at",
)
RELATIONS = values_relation(CustomFieldResource.dropship_provider, service.vendor_custom_fields)


@router.get("/dropship-providers.json", response_model=list[DropshipProviderRead])
def list_dropship_providers(
    session: DbSession,
    principal: CurrentPrincipal,
    response: Response,
    query: Annotated[ListQuery, Depends(list_query)],
) -> Any:
    stmt = service.vendors_visible(principal)
    return listed(
        session,
        stmt=stmt,
        query=query,
        fields=FILTERS,
        response=response,
        default_order=[DropshipProvider.id],
        relations=RELATIONS,
        read=DropshipProviderRead,
    )


@router.post("/dropship-providers.json", response_model=DropshipProviderRead, status_code=201)
def create_dropship_provider(
    data: DropshipProviderCreate, session: DbSession, _: AdminPrincipal
) -> DropshipProvider:
    return service.create(session, data=data)


@router.get("/dropship-providers/{vendor_id}.json", response_model=DropshipProviderRead)
def get_dropship_provider(
    vendor_id: PathId, session: DbSession, principal: CurrentPrincipal
) -> DropshipProvider:
    return service.get(session, vendor_id=vendor_id, principal=principal)


@router.put("/dropship-providers/{vendor_id}.json", response_model=DropshipProviderRead)
def update_dropship_provider(
    vendor_id: PathId, data: DropshipProviderUpdate, session: DbSession, principal: CurrentPrincipal
) -> DropshipProvider:
    vendor = service.get(session, vendor_id=vendor_id, principal=principal)
    check_vendor_fields(principal, PROFILE_WRITABLE, data)
    return service.update(session, vendor=vendor, data=data)


@router.delete("/dropship-providers/{vendor_id}.json", status_code=204)
def delete_dropship_provider(vendor_id: PathId, session: DbSession, _: AdminPrincipal) -> Response:
    service.delete(session, vendor=service.get(session, vendor_id=vendor_id))
    return Response(status_code=204)


add_value_routes(
    router,
    resource=CustomFieldResource.dropship_provider,
    list_paths=("/custom-field-dropship-providers.json",),
    records_path="/dropship-providers",
    scope=service.vendor_custom_fields,
    find=lambda session, vendor_id, principal: service.get(
        session, vendor_id=vendor_id, principal=principal
    ),
)
