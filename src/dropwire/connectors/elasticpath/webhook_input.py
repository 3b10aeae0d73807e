"""The Elastic Path webhook's body guards: the same an API body gets, for a route that reads
its body raw (the secret may sit inside it).

The size is bounded before anything here runs (the request-body middleware's 413). The JSON is
measured for depth without parsing it (a parser recurses once per level), and so is the
`resources` string of the legacy format, which holds JSON of its own; the identifiers we store
or key on refuse control characters and unpaired surrogates. Every refusal is a 422 naming the
field (a body that isn't JSON at all is a 400).
"""

import json
from typing import Any

from dropwire.core.errors import DomainError, Invalid, Malformed
from dropwire.core.schemas import unstorable_character
from dropwire.http.request_body import MAX_JSON_DEPTH, json_nested_deeper_than

_ID_FIELDS = ("id", "triggered_by", "trigger", "store_id", "org_id")


def _too_deep(field: str) -> DomainError:
    return Invalid(field, f"JSON nested deeper than {MAX_JSON_DEPTH} levels")


def _loads(raw: bytes | str, field: str) -> Any:
    encoded = raw.encode() if isinstance(raw, str) else raw
    if json_nested_deeper_than(encoded):
        raise _too_deep(field)
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        if field == "body":
            raise Malformed("Malformed JSON body", problem="not valid JSON") from None
        raise Invalid(field, "not valid JSON") from None
    except RecursionError:  # nesting the depth scan can't see (never expected): still a 422
        raise _too_deep(field) from None


def _check_text(value: Any, field: str) -> None:
    if isinstance(value, str) and (problem := unstorable_character(value)):
        raise Invalid(field, problem)


def checked_body(raw: bytes) -> Any:
    """The delivery, parsed once its depth is known to be safe; a `resources` string is parsed
    here too (under the same guards), so nothing downstream parses unchecked JSON."""
    body = _loads(raw, "body")
    if not isinstance(body, dict):
        return body
    for name in _ID_FIELDS:
        _check_text(body.get(name), name)
    if isinstance(body.get("resources"), str):
        body["resources"] = _loads(body["resources"], "resources")
    for name, resource in (("payload", body.get("payload")), ("resources", body.get("resources"))):
        data = resource.get("data", resource) if isinstance(resource, dict) else None
        if isinstance(data, dict):
            _check_text(data.get("id"), f"{name}.data.id")
    return body


def store_id_of(body: Any) -> str | None:
    """The store a store-level event says it comes from, if it says."""
    value = body.get("store_id") if isinstance(body, dict) else None
    return value if isinstance(value, str) and value else None
