"""The list conventions: limit/offset, where filters with operators, order, X-Total-Count."""

import pytest


@pytest.fixture
def vendors(client):
    for index, name in enumerate(["Alpha", "Bravo", "Charlie", "Delta", "Echo"]):
        client.post(
            "/api/dropship-providers.json",
            json={"name": name, "priority": index * 10, "externalId": f"v{index}"},
        )


def names(response):
    return [v["name"] for v in response.json()]


def test_limit_offset_and_total(client, vendors):
    response = client.get("/api/dropship-providers.json?limit=2&offset=1")
    assert names(response) == ["Bravo", "Charlie"]
    assert response.headers["X-Total-Count"] == "5"


def test_equality_filters_are_anded(client, vendors):
    response = client.get("/api/dropship-providers.json?where[name]=Bravo&where[priority]=10")
    assert names(response) == ["Bravo"]
    assert (
        client.get("/api/dropship-providers.json?where[name]=Bravo&where[priority]=0").json() == []
    )


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ("gt", "20", ["Delta", "Echo"]),
        ("gte", "20", ["Charlie", "Delta", "Echo"]),
        ("lt", "10", ["Alpha"]),
        ("lte", "10", ["Alpha", "Bravo"]),
        ("ne", "20", ["Alpha", "Bravo", "Delta", "Echo"]),
        ("in", "0,40", ["Alpha", "Echo"]),
    ],
)
def test_operators(client, vendors, operator, value, expected):
    response = client.get(f"/api/dropship-providers.json?where[priority][{operator}]={value}")
    assert names(response) == expected
    assert response.headers["X-Total-Count"] == str(len(expected))


def test_order_ascending_and_descending(client, vendors):
    assert names(client.get("/api/dropship-providers.json?order=-priority"))[0] == "Echo"
    assert names(client.get("/api/dropship-providers.json?order=name"))[0] == "Alpha"


def test_filter_on_timestamps(client, vendors):
    everything = client.get(
        "/api/dropship-providers.json?where[createdAt][gte]=2000-01-01T00:00:00Z"
    )
    assert len(everything.json()) == 5
    bad = client.get("/api/dropship-providers.json?where[createdAt][gte]=yesterday")
    assert bad.status_code == 422


def test_unknown_filter_field_is_422_naming_it(client, vendors):
    response = client.get("/api/dropship-providers.json?where[password]=x")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "where[password]"


def test_unknown_operator_and_order_field_are_422(client):
    response = client.get("/api/dropship-providers.json?where[priority][like]=1")
    assert response.status_code == 422
    response = client.get("/api/dropship-providers.json?order=-secret")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "order"


@pytest.mark.parametrize(
    "query",
    ["limit=-1", "limit=0", "limit=1001", "limit=abc", "offset=-5", "offset=99999999999999999999"],
)
def test_bad_paging_is_422(client, query):
    response = client.get(f"/api/dropship-providers.json?{query}")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] in ("limit", "offset")


def test_huge_offset_within_range_is_an_empty_page(client, vendors):
    response = client.get("/api/dropship-providers.json?offset=2147483647")
    assert response.status_code == 200
    assert response.json() == []
    assert response.headers["X-Total-Count"] == "5"


def test_bad_filter_value_type_is_422(client):
    response = client.get("/api/dropship-providers.json?where[priority]=high")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "where[priority]"
