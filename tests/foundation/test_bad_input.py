"""Bad input gets the contract's 4xx naming the problem, and nothing is written."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def count(client, path="/api/dropship-providers.json"):
    return int(client.get(path).headers["X-Total-Count"])


def test_malformed_json_is_400(client):
    response = client.post(
        "/api/dropship-providers.json",
        content=b'{"name": "A",',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "body", "message": "not valid JSON"}]
    assert count(client) == 0


def test_wrong_types_name_each_field(client):
    response = client.post(
        "/api/dropship-providers.json",
        json={"name": 12, "priority": "high", "countries": "US"},
    )
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"name", "priority", "countries"}
    assert count(client) == 0


def test_unknown_fields_are_ignored_and_named(client):
    response = client.post("/api/dropship-providers.json", json={"name": "A", "colour": "red"})
    assert response.status_code == 201
    assert response.headers["Dropwire-Ignored-Fields"] == "colour"
    assert "colour" not in response.json()
    assert count(client) == 1


def test_nested_paths_are_named(client):
    response = client.post(
        "/api/dropship-providers.json", json={"name": "A", "countries": ["US", 7]}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "countries[1]"


def test_missing_required_field(client):
    response = client.post("/api/dropship-providers.json", json={})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "name"


def test_array_where_object_expected(client):
    response = client.post("/api/dropship-providers.json", json=[{"name": "A"}])
    assert response.status_code == 422
    assert count(client) == 0


def test_ids_that_do_not_exist_are_404(client):
    for path in (
        "/api/dropship-providers/999.json",
        "/api/warehouses/999.json",
        "/api/channels/999.json",
        "/api/custom-channels/999.json",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "999" in response.json()["message"]
    assert client.put("/api/channels/999.json", json={"name": "x"}).status_code == 404
    assert client.delete("/api/dropship-providers/999.json").status_code == 404


def test_non_integer_id_is_422(client):
    response = client.get("/api/channels/abc.json")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "channel_id"


def test_oversized_body_is_413(client):
    body = json.dumps({"name": "A", "email": "x" * 1_100_000}).encode()
    response = client.post(
        "/api/dropship-providers.json", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert "1048576" in response.json()["message"]
    assert count(client) == 0


def test_unknown_endpoint_and_method(client):
    assert client.get("/api/nothing-here.json").status_code == 404
    response = client.patch("/api/channels.json", json={})
    assert response.status_code == 405
    assert "message" in response.json()


def test_null_for_required_field_on_update_leaves_it(client):
    vendor = client.post("/api/dropship-providers.json", json={"name": "A"}).json()
    response = client.put(f"/api/dropship-providers/{vendor['id']}.json", json={"name": None})
    assert response.status_code == 200
    assert response.json()["name"] == "A"


def test_empty_name_is_422(client):
    response = client.post("/api/dropship-providers.json", json={"name": "   "})
    assert response.status_code == 422
    assert count(client) == 0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
field_names = st.sampled_from(
    [
        "name",
        "externalId",
        "priority",
        "countries",
        "countryFilter",
        "status",
        "orderEndpoint",
        "inventorySync",
        "warehouseId",
        "isDefault",
        "channelId",
        "publishingAcknowledgement",
        "x",
    ]
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    path=st.sampled_from(
        [
            "/api/dropship-providers.json",
            "/api/channels.json",
            "/api/warehouses.json",
            "/api/custom-channels.json",
        ]
    ),
    body=st.one_of(json_values, st.dictionaries(field_names, json_values, max_size=5)),
)
def test_random_bodies_never_cause_a_server_error(client, path, body):
    response = client.post(
        path, content=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
    assert response.status_code < 500, response.text


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    key=st.text(alphabet="abcdefghijklmnopqrstuvwxyz[]_-.0123456789", max_size=25),
    value=st.text(max_size=20),
)
def test_random_query_strings_never_cause_a_server_error(client, key, value):
    response = client.get("/api/dropship-providers.json", params={key: value})
    assert response.status_code < 500, response.text
