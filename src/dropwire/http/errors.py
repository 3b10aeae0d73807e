"""The one place that turns errors into answers: a status per error kind, and one body.

Every error leaves as the contract's body (`spec/API.md`, "errors"): RFC 9457's `title`, `status`
and `detail`, a stable machine `code`, and the older `message` / `errors` members —
`{"title": "Unprocessable Entity", "status": 422, "code": "invalid", "detail": "...",
"message": "...", "errors": [{"field": ..., "message": ...}]}` — as `application/json`.
"""

import html
import logging
import sqlite3
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from dropwire.core.errors import (
    Conflict,
    DomainError,
    ErrorKind,
    FieldProblem,
    Forbidden,
    Invalid,
    Malformed,
    NotFound,
    TooLarge,
    TooManyRequests,
    Unauthorized,
    Unavailable,
)
from dropwire.core.transient import RETRY_AFTER_SECONDS, TransientKind, WriteSlotBusy, noted

log = logging.getLogger("dropwire.http")

DATABASE_ERRORS: tuple[type[Exception], ...] = (
    SQLAlchemyError,
    sqlite3.Error,
    psycopg.Error,
    WriteSlotBusy,
)
"""What a transient database failure is raised as, for the handlers to classify."""

_LOCATION_ROOTS = {"body", "query", "path", "header", "cookie"}


def field_path(loc: Sequence[Any]) -> str:
    """('body', 'lineItems', 0, 'quantity') -> 'lineItems[0].quantity'."""
    parts = list(loc)
    if parts and parts[0] in _LOCATION_ROOTS:
        root = parts.pop(0)
        if not parts:
            return str(root)
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif str(part).startswith(("function-", "json-or-python", "lax-or-strict")):
            continue  # pydantic's internal validator steps, meaningless to a caller
        else:
            path += f".{part}" if path else str(part)
    return path or "body"


STATUS_OF_KIND: dict[ErrorKind, int] = {
    ErrorKind.malformed: 400,
    ErrorKind.unauthorized: 401,
    ErrorKind.forbidden: 403,
    ErrorKind.not_found: 404,
    ErrorKind.conflict: 409,
    ErrorKind.too_large: 413,
    ErrorKind.invalid: 422,
    ErrorKind.throttled: 429,
    ErrorKind.unavailable: 503,
}
"""The one mapping from an error's kind to its HTTP status."""

_GENERIC = (
    Malformed,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    TooLarge,
    Invalid,
    TooManyRequests,
    Unavailable,
)
_CODE_OF_STATUS: dict[int, str] = {
    **{STATUS_OF_KIND[generic.kind]: generic.code for generic in _GENERIC},
    405: "method_not_allowed",
    500: "internal",
}
"""The code of an answer no domain error names (the framework's 404/405, a failed commit)."""


def status_of(error: DomainError) -> int:
    return STATUS_OF_KIND[error.kind]


def error_body(
    status: int,
    message: str,
    problems: Sequence[FieldProblem] = (),
    error_id: str | None = None,
    *,
    code: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": _title(status),
        "status": status,
        "code": code or _CODE_OF_STATUS.get(status, "error"),
        "detail": message,
        "message": message,
        "errors": [{"field": p.field, "message": p.message} for p in problems],
    }
    if error_id is not None:
        body["errorId"] = error_id
    return body


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def error_response(
    status: int,
    message: str,
    problems: Sequence[FieldProblem] = (),
    headers: dict[str, str] | None = None,
    error_id: str | None = None,
    *,
    code: str | None = None,
) -> JSONResponse:
    """An error answer no domain error describes (middleware refusals, the framework's own)."""
    return JSONResponse(
        error_body(status, message, problems, error_id, code=code),
        status_code=status,
        headers=headers,
    )


def domain_error_response(error: DomainError) -> JSONResponse:
    """The answer for a domain error: its kind's status, its code, Retry-After when it passes."""
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after is not None else None
    return error_response(status_of(error), error.message, error.errors, headers, code=error.code)


def _problem_message(error: dict[str, Any]) -> str:
    if error.get("type") == "extra_forbidden":
        return "unknown field"
    message = str(error.get("msg", "invalid value"))
    return message.removeprefix("Value error, ")


def _out_of_range_path_id(error: dict[str, Any]) -> bool:
    in_path = tuple(error.get("loc", ()))[:1] == ("path",)
    return in_path and error.get("type") in ("greater_than_equal", "less_than_equal")


async def _on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(error.get("type") == "json_invalid" for error in errors):
        detail = next(e for e in errors if e.get("type") == "json_invalid")
        reason = (detail.get("ctx") or {}).get("error", "")
        return error_response(
            400,
            f"Malformed JSON body{': ' + reason if reason else ''}",
            [FieldProblem("body", "not valid JSON")],
        )
    if errors and all(_out_of_range_path_id(e) for e in errors):
        return error_response(404, "Not found")  # no record can have such an id
    problems = [FieldProblem(field_path(e.get("loc", ())), _problem_message(e)) for e in errors]
    summary = "; ".join(f"{p.field}: {p.message}" for p in problems[:3])
    return error_response(422, f"Invalid request: {summary}", problems)


async def _on_domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return domain_error_response(exc)


async def _on_http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    messages = {404: "Not found", 405: "Method not allowed"}
    message = exc.detail if isinstance(exc.detail, str) else messages.get(exc.status_code, "Error")
    if exc.status_code == 404 and message == "Not Found":
        message = "No such endpoint"
    return error_response(exc.status_code, message, headers=getattr(exc, "headers", None))


_WHY = {
    TransientKind.connection: "The database cannot be reached right now",
    TransientKind.shutdown: "The database is restarting",
    TransientKind.serialization: "The change clashed with a concurrent one",
    TransientKind.deadlock: "The change clashed with a concurrent one",
    TransientKind.lock_timeout: "The records are held by other work right now",
    TransientKind.statement_timeout: "The database took too long to answer",
    TransientKind.pool_exhausted: "The server has no free database connection right now",
    TransientKind.busy: "The database is busy with other writes",
    TransientKind.disk_full: "The database is out of disk space",
    TransientKind.resources: "The database is out of resources right now",
}

OUTCOME_UNKNOWN = (
    "The connection to the database broke while the change was being committed: it may or "
    "may not have been saved. Retry with the same Idempotency-Key to have it applied once"
)


def unavailable_response(
    kind: TransientKind | None,
    *,
    outcome_unknown: bool = False,
    what: str = "nothing was changed",
) -> JSONResponse:
    """The answer to a transient failure: 503 with Retry-After, saying whether anything may
    have been saved (only a commit whose connection broke after it was sent cannot know).
    `kind` None: a group's commit failed for a reason of no one request (see the log)."""
    why = _WHY[kind] if kind is not None else "The database could not save the change right now"
    message = OUTCOME_UNKNOWN if outcome_unknown else f"{why}; {what}, retry"
    return error_response(503, message, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


_MACHINE_PATHS = ("/api/", "/auth/", "/webhooks/")


def _wants_a_page(request: Request) -> bool:
    """A person's browser asking for a page (not an API client): it gets a page back."""
    path = request.url.path
    return "text/html" in request.headers.get("accept", "") and not path.startswith(_MACHINE_PATHS)


_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="{seconds}"><title>Back in a moment</title></head>
<body><main><h1>Back in a moment</h1><p>{why}. This page tries again by itself.</p></main>
</body></html>"""


async def _on_database_error(request: Request, exc: Exception) -> Response:
    """A database error met anywhere in a route (authentication, a query, a lookup): transient
    ones answer 503; any other goes on to the 500 answer of the API-log middleware."""
    kind = noted(exc, "request")
    if kind is None:
        raise exc
    if _wants_a_page(request):
        page = _PAGE.format(seconds=RETRY_AFTER_SECONDS * 5, why=html.escape(_WHY[kind]))
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        return HTMLResponse(page, status_code=503, headers=headers)
    return unavailable_response(kind)


async def _on_unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return error_response(500, "Internal server error; the problem has been logged")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(DomainError, _on_domain_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    for database_error in DATABASE_ERRORS:
        app.add_exception_handler(database_error, _on_database_error)
    app.add_exception_handler(Exception, _on_unexpected)
