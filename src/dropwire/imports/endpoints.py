from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from dropwire.auth.scope import one_visible, visible_to
from dropwire.auth.service import Principal
from dropwire.core.errors import NotFound
from dropwire.http.deps import CurrentPrincipal, DbSession, PathId
from dropwire.http.listing import ListQuery, fields_of, list_query, listed
from dropwire.http.routing import UnitOfWorkRoute
from dropwire.imports import service
from dropwire.imports.models import DataImport
from dropwire.imports.schemas import DataImportCreate, DataImportRead

router = APIRouter(route_class=UnitOfWorkRoute, tags=["Data imports"])
Listing = Annotated[ListQuery, Depends(list_query)]

FILTERS = fields_of(
    DataImport,
    "id",
    "import_type",
    "status",
    "inventory_feed_id",
    "dropship_provider_id",
    "created_at",
    "completed_at",
)


def _visible(principal: Principal) -> Any:
    return visible_to(select(DataImport), principal, DataImport.dropship_provider_id)


def _one(session: Session, import_id: int, principal: Principal, *options: Any) -> DataImport:
    statement = _visible(principal).where(DataImport.id == import_id).options(*options)
    found: DataImport = one_visible(
        session, statement=statement, what="Data import", record_id=import_id
    )
    return found


@router.get("/data-imports.json", response_model=list[DataImportRead])
def list_imports(
    session: DbSession, principal: CurrentPrincipal, response: Response, query: Listing
) -> Any:
    """Imports, newest last by default; a vendor token sees those of its own feeds."""
    return listed(
        session,
        stmt=_visible(principal),
        query=query,
        fields=FILTERS,
        response=response,
        default_order=[DataImport.id],
        read=DataImportRead,
    )


@router.post("/data-imports.json", response_model=DataImportRead, status_code=202)
def create_import(
    data: DataImportCreate, session: DbSession, principal: CurrentPrincipal
) -> DataImport:
    """Queue a CSV import (its header is checked now, its rows by the worker); poll it."""
    return service.create(session, data=data, principal=principal)


@router.get("/data-imports/{import_id}.json", response_model=DataImportRead)
def get_import(import_id: PathId, session: DbSession, principal: CurrentPrincipal) -> DataImport:
    return _one(session, import_id, principal)


@router.get("/data-imports/{import_id}/errors.csv")
def download_errors(import_id: PathId, session: DbSession, principal: CurrentPrincipal) -> Response:
    """The refused rows as sent, each with its `error` (404 while none are known)."""
    record = _one(session, import_id, principal, undefer(DataImport.report))
    if record.report is None:
        raise NotFound("Data import error report", import_id)
    return Response(
        record.report,
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="import-{record.id}-errors.csv"'},
    )
