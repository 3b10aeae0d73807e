"""Liveness and readiness. `/ready` tells the truth about what the API depends on: the database
(answers, schema current) and, when rate limits are counted there, Redis — which is optional at
run time (the counters fall back to memory), so Redis down is reported but keeps the API ready."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from redis import asyncio as redis_asyncio
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from dropwire.core.db import Database
from dropwire.core.migrations import pending
from dropwire.core.rate_counters import REDIS_TIMEOUT, is_redis
from dropwire.core.settings import Settings
from dropwire.core.transient import noted
from dropwire.http.routing import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, tags=["Observability"])


@router.get("/health")
def health() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


def _database_state(database: Database) -> tuple[bool, str]:
    try:
        with database.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        missing = pending(database)
    except Exception as exc:
        kind = noted(exc, "ready")
        return False, f"unavailable ({kind or type(exc).__name__}): {str(exc).strip()[:200]}"
    if missing:
        return False, "migrations pending; run `dropwire migrate`"
    return True, database.dialect


async def _redis_state(uri: str) -> str:
    client = redis_asyncio.Redis.from_url(
        uri, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
    )
    try:
        await client.ping()
    except Exception as exc:
        return f"unavailable ({type(exc).__name__}): rate limits counted per process meanwhile"
    finally:
        await client.aclose()
    return "ok"


@router.get("/ready")
async def ready(request: Request) -> JSONResponse:
    """Readiness: 200 when the database answers with a current schema, else 503; Redis (when
    the rate-limit storage) is reported beside it without making the API unready."""
    database: Database = request.app.state.database
    settings: Settings = request.app.state.settings
    usable, database_state = await run_in_threadpool(_database_state, database)
    body: dict[str, Any] = {"status": "ok" if usable else "unavailable", "database": database_state}
    if settings.rate_limit_enabled and is_redis(settings.rate_limit_storage):
        body["redis"] = await _redis_state(settings.rate_limit_storage)
    headers = None if usable else {"Retry-After": "1"}
    return JSONResponse(body, status_code=200 if usable else 503, headers=headers)
