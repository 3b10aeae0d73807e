"""The route class every API endpoint uses: it owns the request's unit of work.

A write request's session commits — with its idempotency record and its API-log row — *before*
the answer leaves, so a 2xx always means the write is durable; a failed commit becomes an error
answer instead. Endpoints never commit, and a new endpoint cannot forget to: `create_app` refuses
any API route of another class.

It also runs a plain `def` endpoint in ONE threadpool hop (FastAPI would make a second hop to
validate its response); each hop costs about a millisecond on small machines. An endpoint
that takes only the request and returns a `Response` (the async inbound API) is called
directly: FastAPI's handler would solve no dependencies for it yet still parse its query string and
cookies and build the solving context, a fifth of the accept path's event-loop time; and its
route's ASGI app is a plain call of that handler, without FastAPI's per-request exit stacks.
"""

import functools
import inspect
import logging
import typing
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator
from typing import Any, cast

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, APIRouter
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.routing import BaseRoute, Host, Mount
from starlette.types import ASGIApp, Receive, Scope, Send

from dropwire.apilog.models import ApiLog
from dropwire.core.db import Database
from dropwire.core.errors import DomainError, Invalid
from dropwire.core.transient import (
    CommitWatch,
    close_quietly,
    discard_quietly,
    loses_connection,
    noted,
)
from dropwire.http.api_log_middleware import LOGGED_KEY, SYNC_API, log_row
from dropwire.http.errors import error_response, unavailable_response
from dropwire.http.idempotency import CLAIM_KEY, remember_in
from dropwire.http.input_policy import ignored_header
from dropwire.http.request_body import BODY_KEY, MAX_JSON_DEPTH, json_nested_deeper_than

log = logging.getLogger("dropwire.http")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SESSION_KEY = "dropwire.session"  # in the scope: a dict lookup (`request.state` raises when unset)
_OPENER_KEY = "dropwire.session_opener"
FINISHED_KEY = "dropwire.finished"  # the endpoint committed its whole unit of work itself
EarlyCheck = Callable[[Request, Session], Awaitable[object]]
_EARLY_MARK = "_dropwire_before_the_body"


def before_the_body(check: EarlyCheck) -> EarlyCheck:
    """Mark a dependency (taking the request and its session) that must run before the body is
    read: authentication, so a caller without a valid token learns nothing about its body. The
    mark is on the function itself: a route finds it among its own dependencies."""
    setattr(check, _EARLY_MARK, True)
    return check


def _early_checks(dependant: Dependant) -> list[EarlyCheck]:
    """The marked dependencies of a route, in the order FastAPI would run them."""
    found: list[EarlyCheck] = []
    for dependency in dependant.dependencies:
        for check in _early_checks(dependency):
            if check not in found:
                found.append(check)
        call = dependency.call
        if call is not None and getattr(call, _EARLY_MARK, False) and call not in found:
            found.append(cast(EarlyCheck, call))
    return found


def _takes_only_the_request(route: APIRoute) -> bool:
    """Whether FastAPI's handler has nothing to do for the route but call it with the request:
    an endpoint with no parameter but the request and no dependency, declared to return a
    `Response` (nothing to validate or serialize)."""
    dependant = route.dependant
    try:
        returns = typing.get_type_hints(route.endpoint).get("return")
    except (NameError, TypeError):
        return False
    return (
        inspect.iscoroutinefunction(route.endpoint)
        and inspect.isclass(returns)
        and issubclass(returns, Response)
        and dependant.request_param_name is not None
        and route.response_field is None
        and not route.response_model
        and not dependant.dependencies
        and not (
            dependant.path_params
            or dependant.query_params
            or dependant.header_params
            or dependant.cookie_params
            or dependant.body_params
        )
        and not (
            dependant.websocket_param_name
            or dependant.http_connection_param_name
            or dependant.response_param_name
            or dependant.background_tasks_param_name
            or dependant.security_scopes_param_name
        )
    )


def one_hop(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(endpoint):
        return endpoint

    @functools.wraps(endpoint)
    async def run(*args: Any, **kwargs: Any) -> Any:
        return await run_in_threadpool(endpoint, *args, **kwargs)

    return run


def request_session(request: Request) -> Session:
    """The request's session, opened on first use by its route, which commits it."""
    session: Session | None = request.scope.get(SESSION_KEY)
    if session is None:
        opener: Callable[[], Session] | None = request.scope.get(_OPENER_KEY)
        if opener is None:
            raise RuntimeError(f"{request.url.path} is not served by a UnitOfWorkRoute")
        session = request.scope[SESSION_KEY] = opener()
    return session


def _opened_session(request: Request) -> Session | None:
    session: Session | None = request.scope.get(SESSION_KEY)
    return session


def request_session_began(request: Request) -> bool:
    """Whether the request's session has begun a transaction (a lookup ran on it)."""
    session = _opened_session(request)
    return session is not None and session.in_transaction()


def release_request_session(request: Request) -> None:
    """End the request session's transaction, if it began one: an endpoint that commits its
    unit of work elsewhere (`http.grouped`) is done with it, and on SQLite it may hold the
    process's write slot. A connection killed meanwhile fails nothing here."""
    session = _opened_session(request)
    if session is not None:
        discard_quietly(session, "rollback")


def commit_failure(exc: Exception, *, commit_sent: bool = False) -> Response:
    """The answer for a commit that failed: 409 conflict, 503 transient, 500 otherwise.

    `commit_sent`: the COMMIT had left when it failed; if the connection broke then, the
    answer says the change may have been saved."""
    if isinstance(exc, IntegrityError):
        return error_response(409, "The change conflicts with data stored meanwhile; nothing saved")
    kind = noted(exc, "commit")
    if kind is not None:
        unknown = commit_sent and loses_connection(kind)
        return unavailable_response(kind, outcome_unknown=unknown, what="nothing was saved")
    log.error("commit failed", exc_info=exc)
    return error_response(500, "Internal server error: nothing was saved")


def _nothing_to_finish(request: Request) -> bool:
    """True when the endpoint committed its whole unit of work itself (`FINISHED_KEY`), or never
    opened the session and no idempotency record or API-log row is due: it wrote nothing (or
    committed on its own, like the group-committed accept)."""
    if request.scope.get(FINISHED_KEY):
        return True
    return (
        _opened_session(request) is None
        and request.scope.get(CLAIM_KEY) is None
        and not _logged_here(request)
    )


def _logged_here(request: Request) -> bool:
    path: str = request.scope["path"]
    return path.startswith(SYNC_API)  # async items are logged as they are applied


def _finish_write(
    session: Session, request: Request, response: Response, watch: list[CommitWatch]
) -> None:
    """Add the idempotency record and the API-log row to the transaction, then commit
    (`watch` gets the thread's `CommitWatch`: whether the COMMIT left before a failure)."""
    watch.append(CommitWatch())
    claim = request.scope.get(CLAIM_KEY)
    if claim is not None:
        remember_in(
            session, claim=claim, response=response, ignored_fields=ignored_header(request.scope)
        )
    logged = _logged_here(request)
    if logged:
        session.execute(insert(ApiLog), [log_row(request.scope, response.status_code)])
    session.commit()
    request.scope[LOGGED_KEY] = logged


async def _call_with_request(
    endpoint: Callable[..., Awaitable[Response]], name: str, request: Request
) -> Response:
    return await endpoint(**{name: request})


def _request_app(handle: Callable[[Request], Awaitable[Response]]) -> ASGIApp:
    """The ASGI app of a route that takes only the request: FastAPI's wrapper would add two exit
    stacks (for dependencies and uploaded files it has none of) and a second exception-handling
    layer (the `ExceptionMiddleware` around the router applies the same handlers)."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        response = await handle(Request(scope, receive, send))
        await response(scope, receive, send)

    return app


class UnitOfWorkRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, one_hop(endpoint), **kwargs)
        if _takes_only_the_request(self) and getattr(self, "max_body_size", None) is None:
            self.app = _request_app(self.get_route_handler())

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle: Callable[[Request], Awaitable[Response]]
        if _takes_only_the_request(self):
            name: str = self.dependant.request_param_name  # type: ignore[assignment]
            handle = functools.partial(_call_with_request, self.endpoint, name)
        else:
            handle = super().get_route_handler()
        early = _early_checks(self.dependant)

        async def run(request: Request) -> Response:
            database: Database = request.app.state.database
            write = request.scope["method"] not in SAFE_METHODS
            request.scope[_OPENER_KEY] = functools.partial(database.session, write=write)
            try:
                for check in early:
                    await check(request, request_session(request))
                if json_nested_deeper_than(request.scope.get(BODY_KEY, b"")):
                    message = f"JSON nested deeper than {MAX_JSON_DEPTH} levels"
                    raise Invalid("body", message)
                response = await handle(request)
                if not write:
                    return response
                if response.status_code >= 400:
                    if (opened := _opened_session(request)) is not None:
                        await run_in_threadpool(discard_quietly, opened, "rollback")
                    return response
                if _nothing_to_finish(request):
                    return response
                session = request_session(request)
                watch: list[CommitWatch] = []
                try:
                    await run_in_threadpool(_finish_write, session, request, response, watch)
                except DomainError:
                    raise
                except Exception as exc:  # the commit failed: answer it, never crash
                    await run_in_threadpool(discard_quietly, session, "rollback")
                    return commit_failure(exc, commit_sent=bool(watch) and watch[0].sent)
                return response
            except BaseException:
                if write and (opened := _opened_session(request)) is not None:
                    await run_in_threadpool(discard_quietly, opened, "rollback")
                raise
            finally:
                if (opened := _opened_session(request)) is not None:
                    if write and opened.in_transaction():
                        await run_in_threadpool(close_quietly, opened, "rollback")
                    else:
                        # a read transaction ends in one quick round trip; a write session
                        # already committed or rolled back holds no connection: no hop
                        close_quietly(opened, "rollback")

        return run


def api_routes(routes: Iterable[BaseRoute]) -> Iterator[APIRoute]:
    """Every FastAPI endpoint under `routes`: FastAPI keeps an included router as a branch (its
    routes are not copied into the app's), and a mounted app keeps its own routes, so both are
    walked, however deep."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)  # FastAPI's included-router branch
        if isinstance(included, APIRouter):
            yield from api_routes(included.routes)
        elif isinstance(route, Mount | Host):
            yield from api_routes(route.routes)


def require_unit_of_work(app: ASGIApp) -> None:
    """Refuse an app with any endpoint not served by `UnitOfWorkRoute`: such a route could
    answer before its commit (`create_app` calls this once everything is mounted)."""
    stray = [
        route.path
        for route in api_routes(getattr(app, "routes", ()))
        if not isinstance(route, UnitOfWorkRoute)
    ]
    if stray:
        raise RuntimeError(f"routes without UnitOfWorkRoute: {', '.join(stray)}")
