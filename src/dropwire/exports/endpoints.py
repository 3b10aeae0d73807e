from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from sqlalchemy import select

from dropwire.auth.scope import one_visible, visible_to
from dropwire.auth.service import Principal
from dropwire.core.errors import NotFound
from dropwire.exports import service, templates
from dropwire.exports.models import ApiTemplate, DataExport, ExportStatus
from dropwire.exports.schemas import (
    DataExportRead,
    TemplateCreate,
    TemplateExport,
    TemplateRead,
    TemplateUpdate,
)
from dropwire.feeds.queries import get_feed
from dropwire.http.deps import AdminPrincipal, CurrentPrincipal, DbSession, PathId
from dropwire.http.listing import ListQuery, fields_of, list_query, listed
from dropwire.http.routing import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, tags=["Data exports"])
Listing = Annotated[ListQuery, Depends(list_query)]

EXPORT_FILTERS = fields_of(
    DataExport,
    "id",
    "export_type",
    "status",
    "inventory_feed_id",
    "template_id",
    "created_at",
    "completed_at",
)
TEMPLATE_FILTERS = fields_of(ApiTemplate, "id", "name", "resource", "format", "created_at")


def _visible(principal: Principal) -> Any:
    return visible_to(select(DataExport), principal, DataExport.dropship_provider_id)


def _one(session: Any, export_id: int, principal: Principal) -> DataExport:
    statement = _visible(principal).where(DataExport.id == export_id)
    found: DataExport = one_visible(
        session, statement=statement, what="Data export", record_id=export_id
    )
    return found


@router.get("/data-exports.json", response_model=list[DataExportRead])
def list_exports(
    session: DbSession, principal: CurrentPrincipal, response: Response, query: Listing
) -> Any:
    return listed(
        session,
        stmt=_visible(principal),
        query=query,
        fields=EXPORT_FILTERS,
        response=response,
        default_order=[DataExport.id],
        read=DataExportRead,
    )


@router.get("/data-exports/{export_id}.json", response_model=DataExportRead)
def get_export(export_id: PathId, session: DbSession, principal: CurrentPrincipal) -> DataExport:
    return _one(session, export_id, principal)


@router.get("/data-exports/{export_id}/download")
def download_export(export_id: PathId, session: DbSession, principal: CurrentPrincipal) -> Response:
    """The finished file (404 until the export is complete)."""
    export = _one(session, export_id, principal)
    if export.status != ExportStatus.complete or export.content is None:
        raise NotFound("Data export file", export_id)
    extension = "json" if export.content_type == "application/json" else "csv"
    name = f"{export.export_type}-{export.id}.{extension}"
    return Response(
        export.content,
        media_type=export.content_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post(
    "/inventory-feeds/{feed_id}/export.json", response_model=DataExportRead, status_code=202
)
def export_feed(feed_id: PathId, session: DbSession, principal: CurrentPrincipal) -> DataExport:
    """Queue a CSV of the feed's items (Onport's inventory-feed export); poll the export."""
    feed = get_feed(session, feed_id=feed_id, principal=principal)
    return service.export_feed(session, feed=feed)


@router.get("/templates.json", response_model=list[TemplateRead])
def list_templates(
    session: DbSession, _: AdminPrincipal, response: Response, query: Listing
) -> Any:
    """API templates (Onport's): column mappings exports run with."""
    stmt = select(ApiTemplate)
    return listed(
        session,
        stmt=stmt,
        query=query,
        fields=TEMPLATE_FILTERS,
        response=response,
        default_order=[ApiTemplate.id],
        read=TemplateRead,
    )


@router.post("/templates.json", response_model=TemplateRead, status_code=201)
def create_template(data: TemplateCreate, session: DbSession, _: AdminPrincipal) -> ApiTemplate:
    return templates.create(session, data=data)


@router.get("/templates/{template_id}.json", response_model=TemplateRead)
def get_template(template_id: PathId, session: DbSession, _: AdminPrincipal) -> ApiTemplate:
    return templates.get(session, template_id=template_id)


@router.put("/templates/{template_id}.json", response_model=TemplateRead)
def update_template(
    template_id: PathId, data: TemplateUpdate, session: DbSession, _: AdminPrincipal
) -> ApiTemplate:
    return templates.update(
        session, template=templates.get(session, template_id=template_id), data=data
    )


@router.delete("/templates/{template_id}.json", status_code=204)
def delete_template(template_id: PathId, session: DbSession, _: AdminPrincipal) -> Response:
    templates.delete(session, template=templates.get(session, template_id=template_id))
    return Response(status_code=204)


@router.post("/templates/{template_id}/export.json", response_model=DataExportRead, status_code=202)
def export_template(
    template_id: PathId, session: DbSession, _: AdminPrincipal, data: TemplateExport | None = None
) -> DataExport:
    """Queue the template's file with the filters given; poll or download it as a data export."""
    template = templates.get(session, template_id=template_id)
    return templates.export(session, template=template, data=data or TemplateExport())
