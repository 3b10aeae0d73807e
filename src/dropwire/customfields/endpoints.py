from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from sqlalchemy import select

from dropwire.customfields import service
from dropwire.customfields.models import CustomField
from dropwire.customfields.schemas import CustomFieldCreate, CustomFieldRead, CustomFieldUpdate
from dropwire.http.deps import AdminPrincipal, CurrentPrincipal, DbSession, PathId
from dropwire.http.listing import ListQuery, fields_of, list_query, listed
from dropwire.http.routing import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, tags=["Custom fields"])
Listing = Annotated[ListQuery, Depends(list_query)]

FILTERS = fields_of(CustomField, "id", "resource", "key", "label", "type", "created_at")


@router.get("/custom-fields.json", response_model=list[CustomFieldRead])
def list_custom_fields(
    session: DbSession, _: CurrentPrincipal, response: Response, query: Listing
) -> Any:
    """Every definition (a vendor token reads them too: they say what its records' values mean)."""
    return listed(
        session,
        stmt=select(CustomField),
        query=query,
        fields=FILTERS,
        response=response,
        default_order=[CustomField.id],
        read=CustomFieldRead,
    )


@router.post("/custom-fields.json", response_model=CustomFieldRead, status_code=201)
def create_custom_field(
    data: CustomFieldCreate, session: DbSession, _: AdminPrincipal
) -> CustomField:
    return service.create(session, data=data)


@router.get("/custom-fields/{field_id}.json", response_model=CustomFieldRead)
def get_custom_field(field_id: PathId, session: DbSession, _: CurrentPrincipal) -> CustomField:
    return service.get(session, field_id=field_id)


@router.put("/custom-fields/{field_id}.json", response_model=CustomFieldRead)
def update_custom_field(
    field_id: PathId, data: CustomFieldUpdate, session: DbSession, _: AdminPrincipal
) -> CustomField:
    return service.update(session, field=service.get(session, field_id=field_id), data=data)


@router.delete("/custom-fields/{field_id}.json", status_code=204)
def delete_custom_field(field_id: PathId, session: DbSession, _: AdminPrincipal) -> Response:
    service.delete(session, field=service.get(session, field_id=field_id))
    return Response(status_code=204)
