"""The OpenAPI document with links from the operations that create a record to those that use it,
so a client (or a stateful fuzzer) knows where the id in one answer goes in the next request, and
with the error body every refusal really has (FastAPI describes its own validation error).

Links sit on the response objects, which FastAPI does not let a route declare, so they are added
to the generated document here, in one place."""

from typing import Any

from fastapi import FastAPI

Source = tuple[str, str, str]
"""(method, path, status) of the answer that carries the id."""

Target = tuple[str, str, str, str]
"""(method, path, path parameter, runtime expression giving its value)."""

_ID = "$response.body#/id"
_VENDOR = "/api/dropship-providers/{vendor_id}.json"
_STATUS = "/api/purchase-statuses/{status_id}.json"
_RUN = "/api/inventory-feed-runs/{run_id}"
_SALE = "/api/sales/{sale_id}"

LINKS: dict[Source, tuple[Target, ...]] = {
    ("post", "/api/dropship-providers.json", "201"): (
        ("get", _VENDOR, "vendor_id", _ID),
        ("put", _VENDOR, "vendor_id", _ID),
        ("delete", _VENDOR, "vendor_id", _ID),
    ),
    ("post", "/api/purchase-statuses.json", "201"): (
        ("get", _STATUS, "status_id", _ID),
        ("put", _STATUS, "status_id", _ID),
        ("delete", _STATUS, "status_id", _ID),
    ),
    ("post", "/api/inventory-feeds/{feed_id}/fetch.json", "202"): (
        ("get", f"{_RUN}.json", "run_id", _ID),
        ("post", f"{_RUN}/approve.json", "run_id", _ID),
        ("post", f"{_RUN}/discard.json", "run_id", _ID),
    ),
    ("get", "/api/inventory-feeds/{feed_id}/runs.json", "200"): (
        ("get", f"{_RUN}.json", "run_id", "$response.body#/0/id"),
    ),
    ("post", "/api/channels/{channel_id}/manual-sale.json", "200"): (
        ("get", f"{_SALE}.json", "sale_id", _ID),
        ("post", f"{_SALE}/cancel.json", "sale_id", _ID),
        ("post", f"{_SALE}/returns.json", "sale_id", _ID),
    ),
}


def add_links(document: dict[str, Any]) -> dict[str, Any]:
    """Put `LINKS` into `document` (in place); a link whose operation is missing is an error."""
    paths = document["paths"]
    for (method, path, status), targets in LINKS.items():
        response = paths[path][method]["responses"][status]
        links = response.setdefault("links", {})
        for target_method, target_path, parameter, expression in targets:
            operation_id = paths[target_path][target_method]["operationId"]
            links[operation_id] = {
                "operationId": operation_id,
                "parameters": {parameter: expression},
            }
    return document


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "description": (
        "Every error: RFC 9457 members (`title`, `status`, `detail`), a stable machine `code`, "
        "and `message` / `errors` naming the fields at fault"
    ),
    "properties": {
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "code": {"type": "string"},
        "detail": {"type": "string"},
        "message": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                "required": ["field", "message"],
            },
        },
        "errorId": {"type": "string"},
    },
    "required": ["title", "status", "code", "detail", "message", "errors"],
}
_FASTAPI_ERROR = "#/components/schemas/HTTPValidationError"
_PROBLEM = "#/components/schemas/Problem"


def describe_problems(document: dict[str, Any]) -> dict[str, Any]:
    """Point every response FastAPI describes as its validation error at `PROBLEM_SCHEMA`."""

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("$ref") == _FASTAPI_ERROR:
                node["$ref"] = _PROBLEM
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document["paths"])
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["Problem"] = PROBLEM_SCHEMA
    return document


def install_links(app: FastAPI) -> None:
    """Serve the document with `LINKS` and the error body (generated once, like FastAPI's own)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = describe_problems(add_links(generate()))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
