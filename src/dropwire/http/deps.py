"""Request-scoped dependencies: the database session and the authenticated principal."""

import time
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from dropwire.auth.errors import AdminOnly
from dropwire.auth.service import Principal, authenticate, digest
from dropwire.core.db import Database
from dropwire.core.errors import Unauthorized
from dropwire.core.schemas import MAX_ID
from dropwire.core.settings import Settings
from dropwire.http.credentials import bearer_token
from dropwire.http.routing import before_the_body, request_session


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> Session:
    """The request's session; its route (`UnitOfWorkRoute`) commits it before answering."""
    return request_session(request)


DbSession = Annotated[Session, Depends(get_session)]

PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
"""A record id in the path: outside 1..MAX_ID nothing can match it, so the answer is 404."""


class PrincipalCache:
    """Recently authenticated tokens (by digest), so most requests skip the lookup.

    A revoked token stops working within `auth_cache_seconds` (0 turns the cache off).
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._entries: dict[str, tuple[float, Principal]] = {}

    def get(self, token_digest: str) -> Principal | None:
        entry = self._entries.get(token_digest)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, token_digest: str, principal: Principal) -> None:
        if self.seconds > 0:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[token_digest] = (time.monotonic() + self.seconds, principal)


@before_the_body
async def get_principal(request: Request, session: DbSession) -> Principal:
    """The caller: from the short-lived cache, else looked up on the request's own session.

    It runs before the request body is read (`before_the_body`), so a request without a valid
    token is a 401 whatever its body; the route's later call finds the principal already set.
    """
    known: Principal | None = getattr(request.state, "principal", None)
    if known is not None:
        return known
    token = bearer_token(request.scope)
    cache: PrincipalCache = request.app.state.principal_cache
    key = digest(token)
    principal = cache.get(key)
    if principal is None:
        settings = get_settings(request)
        bootstrap = settings.admin_token.get_secret_value() if settings.admin_token else None
        principal = await run_in_threadpool(
            authenticate, session, token=token, bootstrap_token=bootstrap
        )
        if principal is None:
            raise Unauthorized("Unknown or revoked API token")
        cache.put(key, principal)
    request.state.principal = principal
    return principal


async def require_admin(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
    if not principal.is_admin:
        raise AdminOnly("This endpoint needs an admin token")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
AdminPrincipal = Annotated[Principal, Depends(require_admin)]
