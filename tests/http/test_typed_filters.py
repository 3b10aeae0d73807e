"""Filters and orders are checked against each field's type: an operator the type doesn't
support is a 422 naming the field and the operator, never a database error. A property test
generates `where`/`order` over every list endpoint's fields and operators."""

import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

OPERATORS = [
    "eq", "ne", "gt", "gte", "lt", "lte", "in", "$eq", "$ne", "$is", "$not", "$gt", "$gte",
    "$lt", "$lte", "$in", "$notIn", "notIn", "$like", "$iLike",
]  # fmt: skip
EDGE_VALUES = [
    "", "0", "1", "-1", "true", "no", "null", "2026-01-01", "2026-01-01T00:00:00Z",
    "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "99999999999999999999",
    "2147483648", "-9223372036854775809", "1e999", "NaN", "Infinity", "1.5", "%", "a_b", "[",
    "active", "pending", "csv", "x,y", "1,2,3",
]  # fmt: skip
VALUES = st.one_of(
    st.sampled_from(EDGE_VALUES),
    st.text(max_size=12),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)


FIXED_LISTS = {"/api/email-templates.json"}  # one entry per email event: nothing to filter


def list_endpoints(app: FastAPI) -> list[str]:
    """Every API collection (from the OpenAPI document): a GET without path parameters whose
    answer is an array."""
    found = []
    for path, operations in app.openapi()["paths"].items():
        get = operations.get("get")
        if not path.startswith("/api/") or "{" in path or get is None or path in FIXED_LISTS:
            continue
        content = get["responses"].get("200", {}).get("content", {})
        schema = content.get("application/json", {}).get("schema", {})
        if schema.get("type") == "array":
            found.append(path)
    return sorted(found)


def filter_fields(client: TestClient, path: str) -> list[str]:
    """The fields an endpoint filters on, as its 422 for an unknown field lists them."""
    answer = client.get(path, params={"where[noSuchField]": "1"})
    assert answer.status_code == 422, (path, answer.text)
    found = re.search(r"allowed: ([^\"]+)", answer.json()["errors"][0]["message"])
    assert found, (path, answer.text)
    return found.group(1).split(", ")


@pytest.fixture
def catalogue(app: FastAPI, client: TestClient) -> dict[str, list[str]]:
    return {path: filter_fields(client, path) for path in list_endpoints(app)}


def test_every_collection_filters_on_named_fields(catalogue: dict[str, list[str]]) -> None:
    assert len(catalogue) >= 20
    assert "enabled" in catalogue["/api/inventory-feeds.json"]
    assert {"restock", "locationId"} <= set(catalogue["/api/sale-returns.json"])


@pytest.mark.parametrize(
    ("path", "where", "operator"),
    [
        ("/api/inventory-feeds.json", "where[enabled][gt]", "gt"),
        ("/api/inventory-feeds.json", "where[enabled][$lte]", "$lte"),
        ("/api/sale-returns.json", "where[restock][gt]", "gt"),
        ("/api/sale-returns.json", "where[restock][$like]", "$like"),
        ("/api/sale-returns.json", "where[locationId][$iLike]", "$iLike"),
    ],
)
def test_an_operator_the_type_lacks_is_a_422_naming_field_and_operator(
    client: TestClient, vendor_client: TestClient, path: str, where: str, operator: str
) -> None:
    for caller in (client, vendor_client):
        answer = caller.get(path, params={where: "0"})
        if caller is vendor_client and answer.status_code == 403:
            continue  # an admin-only collection
        assert answer.status_code == 422, answer.text
        (problem,) = answer.json()["errors"]
        assert problem["field"] == where
        field = where.split("[")[1].rstrip("]")
        assert f"'{field}'" in problem["message"] and f"'{operator}'" in problem["message"]


def test_yes_no_fields_still_match_and_null_filters_work(
    client: TestClient, vendor_client: TestClient
) -> None:
    assert vendor_client.get("/api/inventory-feeds.json?where[enabled][ne]=0").status_code == 200
    assert client.get("/api/inventory-feeds.json?where[enabled][ne]=0").status_code == 200
    assert client.get("/api/sale-returns.json?where[locationId][$ne]=").status_code == 200
    assert client.get("/api/sale-returns.json?where[locationId][gt]=3").status_code == 200
    assert client.get("/api/sale-returns.json?order=-locationId").status_code == 200


def _query(field: str, operator: str, value: str, order: str, descending: bool) -> list[Any]:
    key = f"where[{field}][{operator}]"
    params: list[tuple[str, str]] = []
    if operator in ("$in", "$notIn"):
        params += [(f"{key}[0]", value), (f"{key}[1]", value + "0")]
    else:
        params.append((key, value))
    params += [("order[0][0]", order), ("order[0][1]", "DESC" if descending else "ASC")]
    return params


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_where_or_order_is_a_server_error(
    data: st.DataObject,
    catalogue: dict[str, list[str]],
    client: TestClient,
    vendor_client: TestClient,
) -> None:
    path = data.draw(st.sampled_from(sorted(catalogue)))
    fields = catalogue[path]
    params = _query(
        data.draw(st.sampled_from(fields)),
        data.draw(st.sampled_from(OPERATORS)),
        data.draw(VALUES),
        data.draw(st.sampled_from(fields)),
        data.draw(st.booleans()),
    )
    caller = data.draw(st.sampled_from([client, vendor_client]))
    answer = caller.get(path, params=params)
    assert answer.status_code < 500, (path, params, answer.text)
    assert answer.status_code in (200, 403, 422), (path, params, answer.text)
    assert answer.status_code != 403 or caller is vendor_client
