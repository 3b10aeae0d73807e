"""Unknown body fields: ignored and named (`Dropwire-Ignored-Fields`, the API log), or refused.

Onport's clients send fields Dropwire does not use; refusing them would break the drop-in promise.
Each request gets an `InputReport` that its input models fill while FastAPI validates the body;
`DROPWIRE_STRICT_INPUT=true` makes them refuse unknown fields with a 422 instead.
"""

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dropwire.core.schemas import input_report

HEADER = "Dropwire-Ignored-Fields"
IGNORED_KEY = "dropwire.ignored_fields"
_MAX_HEADER = 2000


class InputPolicyMiddleware:
    def __init__(self, app: ASGIApp, strict: bool) -> None:
        self.app = app
        self.strict = strict

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        with input_report(strict=self.strict) as report:
            scope[IGNORED_KEY] = report.ignored

            async def named(message: Message) -> None:
                if (
                    message["type"] == "http.response.start"
                    and report.ignored
                    and (value := ignored_header(scope))
                ):
                    MutableHeaders(scope=message).append(HEADER, value)
                await send(message)

            await self.app(scope, receive, named)


def ignored_header(scope: Scope) -> str | None:
    """The `Dropwire-Ignored-Fields` value of a request (also kept to replay an idempotent one).

    Field names are any JSON strings; a header carries printable ASCII only, so others are
    escaped (`\\xe9`, `\\u20ac`, `\\n`) rather than failing the answer.
    """
    ignored = scope.get(IGNORED_KEY)
    if not ignored:
        return None
    names = (name.encode("unicode_escape").decode("ascii") for name in ignored)
    return ", ".join(names)[:_MAX_HEADER]


def ignored_note(scope: Scope) -> str | None:
    """The API log's note for a request whose body had fields Dropwire ignored."""
    names = ignored_header(scope)  # escaped: PostgreSQL stores no NUL, logs stay one line
    return f"ignored fields: {names}" if names else None
