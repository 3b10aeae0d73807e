from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from dropwire.apilog.models import ApiLog
from dropwire.apilog.schemas import ApiLogRead
from dropwire.apilog.writer import ApiLogWriter
from dropwire.http.deps import AdminPrincipal, DbSession
from dropwire.http.listing import ListQuery, fields_of, list_query, listed
from dropwire.http.routing import UnitOfWorkRoute, before_the_body

NEWEST_FIRST = (ApiLog.created_at.desc(), ApiLog.id.desc())
router = APIRouter(route_class=UnitOfWorkRoute, tags=["Observability"])

FILTERS = fields_of(
    ApiLog,
    "id",
    "direction",
    "method",
    "endpoint",
    "status",
    "http_status",
    "api_user_id",
    "channel_id",
    "inventory_feed_id",
    "external_id",
    "kind",
    "request_id",
    "created_at",
)


@before_the_body
async def _flushed_writer(request: Request, _session: DbSession) -> None:
    """Rows still buffered are written before the reading transaction takes its snapshot."""
    writer: ApiLogWriter = request.app.state.api_log_writer
    await run_in_threadpool(writer.flush)


@router.get(
    "/api-logs.json",
    response_model=list[ApiLogRead],
    dependencies=[Depends(_flushed_writer)],
)
def list_api_logs(
    session: DbSession,
    _: AdminPrincipal,
    response: Response,
    query: Annotated[ListQuery, Depends(list_query)],
) -> Any:
    return listed(
        session,
        stmt=select(ApiLog),
        query=query,
        fields=FILTERS,
        response=response,
        default_order=NEWEST_FIRST,
        read=ApiLogRead,
    )


@router.get(
    "/sale-imports.json",
    response_model=list[ApiLogRead],
    dependencies=[Depends(_flushed_writer)],
)
def list_sale_imports(
    session: DbSession,
    _: AdminPrincipal,
    response: Response,
    query: Annotated[ListQuery, Depends(list_query)],
) -> Any:
    """The async manual-sale items and what became of each (Onport's sale-imports view)."""
    stmt = select(ApiLog).where(ApiLog.kind == "inbound.manual_sale")
    return listed(
        session,
        stmt=stmt,
        query=query,
        fields=FILTERS,
        response=response,
        default_order=NEWEST_FIRST,
        read=ApiLogRead,
    )
