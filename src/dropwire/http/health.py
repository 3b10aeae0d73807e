from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from dropwire.core.db import Database
from dropwire.core.migrations import pending
from dropwire.http.routing import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, tags=["Observability"])


@router.get("/health")
def health() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/ready")
def ready(request: Request) -> JSONResponse:
    """Readiness: the database answers and its schema is current."""
    database: Database = request.app.state.database
    try:
        with database.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        missing = pending(database)
    except Exception as exc:
        return JSONResponse({"status": "unavailable", "database": str(exc)[:200]}, status_code=503)
    if missing:
        return JSONResponse(
            {"status": "unavailable", "database": "migrations pending; run `dropwire migrate`"},
            status_code=503,
        )
    return JSONResponse({"status": "ok", "database": database.dialect})
