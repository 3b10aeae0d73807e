"""Reads each request body once, up front, refusing anything over the size limit with 413.

The body is kept in the scope (`dropwire.body`) for the API log and idempotency keys and replayed
to the application unchanged.
"""

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dropwire.http.errors import error_response

BODY_KEY = "dropwire.body"
MAX_JSON_DEPTH = 64
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_BRACKET = re.compile(rb"[\[\]{}]")


def json_nested_deeper_than(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether a JSON body nests arrays/objects deeper than `limit`, found without parsing it
    (a parser would recurse once per level and run out of stack)."""
    if not raw.lstrip().startswith((b"[", b"{")) or raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    depth = 0
    for bracket in _BRACKET.finditer(_JSON_STRING.sub(b'""', raw)):
        if bracket.group() in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def request_header(scope: Scope, name: bytes) -> bytes | None:
    """A request header's raw value (the last one sent, as `dict(scope["headers"])` would give),
    found without building a mapping of every header. `name` is lower case, as servers send."""
    found = None
    for key, value in scope["headers"]:
        if key == name:
            found = value
    return found


class BodyTooLarge(Exception):
    pass


class RequestBodyMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = request_header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        scope[BODY_KEY] = body
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[BODY_KEY] = b""
        scope["dropwire.problem"] = f"body larger than {self.max_bytes} bytes"
        response = error_response(
            413, f"Request body too large: the limit is {self.max_bytes} bytes"
        )
        await response(scope, receive, send)
