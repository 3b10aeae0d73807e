"""Request-scoped dependencies: the database session and the authenticated principal."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from dropwire.auth.service import Principal, authenticate
from dropwire.core.db import Database
from dropwire.core.errors import DomainError, Forbidden
from dropwire.core.settings import Settings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One session per request; writes commit when the endpoint returns without error.

    Async on purpose: opening a session does no I/O, and FastAPI runs the exit of a sync
    generator dependency through a single-slot limiter, which serialises every request.
    """
    database = get_database(request)
    write = request.method not in SAFE_METHODS
    session = database.session(write=write)
    try:
        yield session
        if write:
            await run_in_threadpool(session.commit)
    except BaseException:
        await run_in_threadpool(session.rollback)
        raise
    finally:
        if write:
            await run_in_threadpool(session.close)
        else:
            session.close()  # ends a read transaction: no waiting on locks, one quick round trip


DbSession = Annotated[Session, Depends(get_session)]


class Unauthorized(DomainError):
    def __init__(self, message: str) -> None:
        super().__init__(message, [], 401)


def _bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise Unauthorized("Missing Authorization header; send 'Authorization: Bearer <token>'")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authorization header must be 'Bearer <token>'")
    return token.strip()


def get_principal(request: Request, session: DbSession) -> Principal:
    """The caller, looked up on the request's own session (one connection per request)."""
    token = _bearer_token(request)
    settings = get_settings(request)
    bootstrap = settings.admin_token.get_secret_value() if settings.admin_token else None
    principal = authenticate(session, token, bootstrap)
    if principal is None:
        raise Unauthorized("Unknown or revoked API token")
    request.state.principal = principal
    return principal


async def require_admin(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    if not principal.is_admin:
        raise Forbidden("This endpoint needs an admin token")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
AdminPrincipal = Annotated[Principal, Depends(require_admin)]
