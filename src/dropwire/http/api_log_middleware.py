"""Writes one API-log row per `/api` and `/auth` request (and per refused `/webhooks` request),
and counts every HTTP request in the Prometheus metrics (`dropwire.http.metrics.observe`).

Every answer carries `X-Request-Id`, the id of its log row, so a client can quote it. For errors
the row keeps the redacted, truncated request body and the error message we answered. An
unexpected exception becomes a 500 here, inside the log (Starlette's own handler would answer it
outside every middleware), with the request id as `errorId` and one log record.
"""

import json
import logging
import random
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dropwire.apilog.models import Direction, LogStatus
from dropwire.apilog.redaction import loggable_body
from dropwire.apilog.writer import ApiLogWriter
from dropwire.core.time import utcnow
from dropwire.core.transient import noted
from dropwire.http.errors import error_response, unavailable_response
from dropwire.http.input_policy import ignored_note
from dropwire.http.metrics import observe
from dropwire.http.request_body import BODY_KEY

_ERROR_EXCERPT = 2000


SYNC_API = ("/api/", "/auth/")
"""The synchronous API: `/api/...` and Onport's `/auth/login` beside it (served at both places)."""
_LOGGED = (*SYNC_API, "/webhooks/")
LOGGED_KEY = "dropwire.logged"  # set once the request's row is in its own transaction
STARTED_KEY = "dropwire.started"
REQUEST_ID_KEY = "dropwire.request_id"
REQUEST_ID_HEADER = b"x-request-id"

log = logging.getLogger("dropwire.http")


def log_row(
    scope: Scope, status: int, *, error_body: bytes = b"", body_limit: int = 0
) -> dict[str, Any]:
    """The API-log row of one request; errors keep the redacted body and the answer's message."""
    asynchronous = scope["path"].startswith("/webhooks/")
    principal = scope.get("state", {}).get("principal")
    started = scope.get(STARTED_KEY, time.perf_counter())
    failed = status >= 400
    return {
        "direction": Direction.inbound_async if asynchronous else Direction.inbound_sync,
        "method": scope["method"],
        "endpoint": scope["path"][:512],
        "status": LogStatus.error if failed else LogStatus.success,
        "http_status": status,
        "problem": (scope.get("dropwire.problem") or _error_message(error_body))
        if failed
        else ignored_note(scope),
        "payload": loggable_body(scope.get(BODY_KEY, b""), body_limit) if failed else None,
        "api_user_id": getattr(principal, "api_user_id", None),
        "api_user_name": getattr(principal, "name", None),
        "channel_id": None,
        "inventory_feed_id": None,
        "external_id": None,
        "kind": None,
        "duration_ms": round((time.perf_counter() - started) * 1000, 3),
        "created_at": utcnow(),
        "request_id": scope.get(REQUEST_ID_KEY),
    }


class ApiLogMiddleware:
    def __init__(self, app: ASGIApp, writer: ApiLogWriter, body_limit: int) -> None:
        self.app = app
        self.writer = writer
        self.body_limit = body_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        if not scope["path"].startswith(_LOGGED):
            await self._count_only(scope, receive, send, started)
            return
        scope[STARTED_KEY] = started
        # unique, not secret: `random` (reseeded in a forked child), not a read of the OS's entropy
        # per request (that syscall was 7% of the async accept path's event-loop time)
        request_id = scope[REQUEST_ID_KEY] = f"{random.getrandbits(64):016x}"
        status = 500
        answering = False
        error_chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status, answering
            if message["type"] == "http.response.start":
                status, answering = message["status"], True
                headers = [*message.get("headers", []), (REQUEST_ID_HEADER, request_id.encode())]
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body":
                if status >= 400:
                    error_chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    self._record(scope, status, b"".join(error_chunks))
            await send(message)

        try:
            await self.app(scope, receive, capture)
        except Exception as exc:
            kind = noted(exc, "request")
            if kind is not None:  # raised outside a route (a middleware's lookup): one line
                if not answering:
                    scope["dropwire.problem"] = f"transient {kind} failure"
                    await unavailable_response(kind)(scope, receive, capture)
                return  # an answer under way is cut short: the client sees the connection end
            log.error(
                "request %s %s failed: %s: %s (errorId %s)",
                scope["method"],
                scope["path"],
                type(exc).__name__,
                str(exc)[:300],
                request_id,
                exc_info=exc,
            )
            if answering:
                raise  # the answer is under way; nothing better can be sent
            scope["dropwire.problem"] = (
                f"internal error {type(exc).__name__} (errorId {request_id})"
            )
            answer = error_response(
                500, f"Internal server error; quote errorId {request_id}", error_id=request_id
            )
            await answer(scope, receive, capture)
        finally:
            observe(scope, status, started)

    async def _count_only(self, scope: Scope, receive: Receive, send: Send, started: float) -> None:
        """A request without an API-log row (web pages, health, docs): only its metrics."""
        status = 500
        answering = False

        async def capture(message: Message) -> None:
            nonlocal status, answering
            if message["type"] == "http.response.start":
                status, answering = message["status"], True
            await send(message)

        try:
            await self.app(scope, receive, capture)
        except Exception as exc:
            kind = noted(exc, "request")
            if kind is None:
                raise
            if not answering:  # a page's lookup failed: 503, not a 500
                await unavailable_response(kind)(scope, receive, capture)
        finally:
            observe(scope, status, started)

    def _record(self, scope: Scope, status: int, error_body: bytes) -> None:
        if scope.get(LOGGED_KEY):
            return
        if scope["path"].startswith("/webhooks/") and status < 400:
            return  # accepted async items are logged one by one as they are applied
        self.writer.add(log_row(scope, status, error_body=error_body, body_limit=self.body_limit))


def _error_message(body: bytes) -> str:
    try:
        parsed = json.loads(body)
    except ValueError:
        return body[:_ERROR_EXCERPT].decode("utf-8", errors="replace")
    if isinstance(parsed, dict) and "message" in parsed:
        details = "; ".join(
            f"{e.get('field')}: {e.get('message')}"
            for e in parsed.get("errors", [])
            if isinstance(e, dict)
        )
        text = str(parsed["message"]) + (f" ({details})" if details else "")
        return text[:_ERROR_EXCERPT]
    return json.dumps(parsed)[:_ERROR_EXCERPT]
