import pytest


@pytest.fixture
def vendor(client):
    return client.post(
        "/api/dropship-providers.json", json={"name": "Northwind", "externalId": "NW"}
    ).json()


@pytest.fixture
def feed(client, vendor):
    response = client.post(
        "/api/inventory-feeds.json", json={"dropshipProviderId": vendor["id"], "name": "NW feed"}
    )
    assert response.status_code == 201, response.text
    return response.json()


def parse(client, feed_id, **body):
    return client.put(f"/api/inventory-feeds/{feed_id}/parse-webhook.json", json=body)


def catalog_variant(client, sku, barcode=None):
    body = {"sku": sku, "name": sku}
    if barcode:
        body["barcode"] = barcode
    return client.post("/api/variants.json", json=body).json()


def available(client, variant_id):
    return client.get(f"/api/variants/{variant_id}/inventory.json").json()["available"]
