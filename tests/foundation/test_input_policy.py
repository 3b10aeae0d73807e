"""Unknown fields are ignored and named; DROPWIRE_STRICT_INPUT=true refuses them."""

import pytest
from fastapi.testclient import TestClient

from dropwire.app import create_app
from dropwire.jobs.service import run_pending


@pytest.fixture
def strict_client(database, settings, admin_token):
    app = create_app(database, settings.model_copy(update={"strict_input": True}))
    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {admin_token}"
        yield client


@pytest.fixture
def store(client):
    channel = client.post("/api/channels.json", json={"name": "Store"}).json()
    client.post("/api/variants.json", json={"sku": "CUP", "name": "Cup"})
    return channel


ONPORT_SALE = {
    "externalId": 5001,  # a number: stored as "5001"
    "source": "shopify",
    "saleDefaults": {
        "reference": 7001,
        "shippingFirstName": "Ada",
        "shippingAddressLineOne": "1 Main St",
        "shippingCountry": "GB",
        "billingState": "London",
        "resellerId": 12,
    },
    "customer": {"firstName": "Ada", "email": "ada@example.com"},
    "lineItems": [
        {
            "externalId": 1,
            "quantity": 1,
            "price": 9,
            "variant": {"sku": "CUP", "externalSku": "cup-ext"},
        }
    ],
}


def test_onports_manual_sale_is_accepted_and_the_ignored_fields_named(client, store):
    response = client.post(f"/api/channels/{store['id']}/manual-sale.json", json=ONPORT_SALE)
    assert response.status_code == 200, response.text
    assert response.headers["Dropwire-Ignored-Fields"] == (
        "source, saleDefaults.resellerId, lineItems[0].variant.externalSku"
    )
    sale = response.json()
    assert sale["externalId"] == "5001"
    assert sale["reference"] == "7001"
    assert sale["saleItems"][0]["externalId"] == "1"
    assert sale["saleDefaults"] == {
        "reference": "7001",
        "receiverFirstName": "Ada",
        "receiverAddress1": "1 Main St",
        "receiverCountry": "GB",
        "billingProvince": "London",
    }
    assert sale["receiverCountry"] == "GB"
    log = client.get("/api/api-logs.json?where[endpoint][$like]=%25manual-sale%25").json()
    assert log[0]["problem"] == (
        "ignored fields: source, saleDefaults.resellerId, lineItems[0].variant.externalSku"
    )
    assert log[0]["status"] == "success"


def test_our_name_wins_over_onports_alias(client, store):
    body = {
        **ONPORT_SALE,
        "saleDefaults": {"receiverCity": "Leeds", "shippingCity": "York"},
    }
    sale = client.post(f"/api/channels/{store['id']}/manual-sale.json", json=body).json()
    assert sale["saleDefaults"]["receiverCity"] == "Leeds"


def test_custom_channel_put_with_onport_only_fields(client):
    custom = client.post("/api/custom-channels.json", json={"name": "Shop"}).json()
    response = client.put(
        f"/api/custom-channels/{custom['id']}.json",
        json={"inventoryEndpointPrice": True, "name": "Shop 2"},
    )
    assert response.status_code == 200
    assert response.json()["name"] == "Shop 2"
    assert response.headers["Dropwire-Ignored-Fields"] == "inventoryEndpointPrice"


def test_no_header_when_nothing_was_ignored(client):
    response = client.post("/api/dropship-providers.json", json={"name": "A"})
    assert "Dropwire-Ignored-Fields" not in response.headers


def test_strict_input_refuses_unknown_fields_naming_each_path(strict_client, store):
    response = strict_client.post(f"/api/channels/{store['id']}/manual-sale.json", json=ONPORT_SALE)
    assert response.status_code == 422
    fields = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert fields == {
        "source": "unknown field",
        "saleDefaults.resellerId": "unknown field",
        "lineItems[0].variant.externalSku": "unknown field",
    }
    assert strict_client.get("/api/sales.json").json() == []
    other = strict_client.post("/api/dropship-providers.json", json={"name": "A", "colour": "r"})
    assert other.status_code == 422
    assert other.json()["errors"] == [{"field": "colour", "message": "unknown field"}]


def test_async_items_log_what_they_ignored(client, store, database):
    custom = client.post(
        "/api/custom-channels.json", json={"name": "Hooks", "channelId": store["id"]}
    ).json()
    response = client.post(
        "/webhooks/custom-channels/manual-sale.json",
        json=ONPORT_SALE,
        headers={"jetti-webhook-hash": custom["webhookHash"]},
    )
    assert response.status_code == 200
    run_pending(database)
    (row,) = client.get("/api/sale-imports.json").json()
    assert row["status"] == "success"
    assert row["problem"] == (
        "ignored fields: source, saleDefaults.resellerId, lineItems[0].variant.externalSku"
    )


def test_ignored_field_names_outside_ascii_are_escaped_in_the_header(client):
    response = client.post(
        "/api/channels.json", json={"name": "Store", "prénom€": 1, "a\nb": 2, "ok": 3}
    )
    assert response.status_code == 201  # was a 500: a header value must be latin-1
    assert response.headers["Dropwire-Ignored-Fields"] == "pr\\xe9nom\\u20ac, a\\nb, ok"
