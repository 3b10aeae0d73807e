"""The API token a request presents: `Authorization: Bearer <token>`, else `?access_token=`.

Authentication, the per-token throttle and idempotency keys all read the token here, so a caller
is one identity wherever it puts its token (Onport allows the query parameter; the header wins
when both are sent).
"""

from starlette.datastructures import Headers, QueryParams
from starlette.types import Scope

from dropwire.core.errors import Unauthorized


def bearer_token(scope: Scope) -> str:
    """The presented token; `Unauthorized` says what is missing or malformed."""
    header = Headers(scope=scope).get("authorization", "")
    if not header:
        query = QueryParams(scope.get("query_string", b""))
        token = query.get("access_token", "").strip()
        if token:
            return token
        raise Unauthorized("Missing Authorization header; send 'Authorization: Bearer <token>'")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authorization header must be 'Bearer <token>'")
    return token.strip()


def presented_token(scope: Scope) -> str | None:
    """The token, or None when the request presents none (its route will answer 401)."""
    try:
        return bearer_token(scope)
    except Unauthorized:
        return None
