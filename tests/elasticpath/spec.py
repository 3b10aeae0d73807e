"""Requests to Elastic Path checked against its published OpenAPI descriptions (vendored in
`openapi/`, see its README) with a JSON Schema 2020-12 validator (OpenAPI 3.1 schemas are
JSON Schema; the 3.0 ones used here validate the same way)."""

import re
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml

HERE = Path(__file__).parent / "openapi"
SPECS = ("cartsorders.yaml", "integrations.yaml", "inventory.yaml", "pim.yaml")
MLI_HEADER = "ep-inventories-multi-location"
MLI_TRANSACTION = {
    "type": "object",
    "required": ["data"],
    "properties": {
        "data": {
            "type": "object",
            "required": ["attributes"],
            "properties": {
                "attributes": {
                    "type": "object",
                    "required": ["type", "action", "quantity", "product_id"],
                    "properties": {
                        "type": {"const": "stock-transaction"},
                        "action": {
                            "enum": ["increment", "decrement", "allocate", "deallocate", "set"]
                        },
                        "quantity": {"type": "integer"},
                        "product_id": {"type": "string"},
                        "location": {"type": "string"},
                    },
                }
            },
        }
    },
}
"""The JavaScript SDK's multi-location transaction (`MultiLocationInventories.SetStock`)."""


def _errata(spec: dict[str, Any]) -> dict[str, Any]:
    """Two defects of the published integrations description, mended in memory (the files stay
    as published): `IntegrationCreate` requires `observers` where its property (and the API) is
    `observes`, and `configuration` is a `oneOf` whose webhook, SQS and STOMP shapes overlap, so
    a valid webhook configuration matches more than one (read as `anyOf`)."""
    schemas = spec.get("components", {}).get("schemas", {})
    for name in ("IntegrationCreate", "IntegrationUpdate"):
        schema = schemas.get(name)
        if schema is None:
            continue
        schema["required"] = [
            "observes" if field == "observers" else field for field in schema.get("required", [])
        ]
        configuration = schema.get("properties", {}).get("configuration", {})
        if "oneOf" in configuration:
            configuration["anyOf"] = configuration.pop("oneOf")
    return spec


@cache
def _operations() -> list[tuple[str, re.Pattern[str], Any]]:
    """(method, path pattern, a validator of the request body) for every vendored operation."""
    found = []
    for name in SPECS:
        spec = _errata(yaml.safe_load((HERE / name).read_text()))
        for path, operations in spec["paths"].items():
            pattern = re.compile(re.sub(r"\{[^}]+\}", "[^/]+", path) + "$")
            for method, operation in operations.items():
                if not isinstance(operation, dict) or "requestBody" not in operation:
                    continue
                content = operation["requestBody"].get("content", {})
                schema = content.get("application/json", {}).get("schema")
                if schema is None:
                    continue
                rooted = {**schema, "components": spec.get("components", {})}
                found.append((method.upper(), pattern, jsonschema_rs.Draft202012Validator(rooted)))
    return found


def _operation(method: str, path: str) -> Any:
    for candidate in (path, path.removeprefix("/v2")):  # some files state /v2 in their server
        for known_method, pattern, validator in _operations():
            if known_method == method and pattern.fullmatch(candidate):
                return validator
    return None


def problems(method: str, path: str, body: Any, multi_location: bool = False) -> list[str]:
    """Why a request's JSON body is not one the descriptions allow ([] if it is, or if no
    vendored description covers the path)."""
    if body is None or method not in ("POST", "PUT", "PATCH"):
        return []
    if multi_location and path.endswith("/transactions"):
        validator = jsonschema_rs.Draft202012Validator(MLI_TRANSACTION)
    else:
        validator = _operation(method, path)
    if validator is None:
        return []
    return [f"{method} {path}: {error.message}" for error in validator.iter_errors(body)]


def covered(method: str, path: str) -> bool:
    return _operation(method, path) is not None
