"""Dropship providers, warehouses, channels and custom channels: the contract's fields and rules."""


def test_partial_vendor_post_fills_defaults(client):
    response = client.post("/api/dropship-providers.json", json={"name": "Test Dropship 1"})
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "Test Dropship 1"
    assert body["status"] == "accepted"
    assert body["countryFilter"] == "all"
    assert body["countries"] == []
    assert body["orderSplitting"] == "group"
    assert body["externalId"] is None
    assert body["createdAt"].endswith("Z")


def test_vendor_update_is_partial_and_returns_full_object(client):
    vendor = client.post("/api/dropship-providers.json", json={"name": "A", "priority": 5}).json()
    response = client.put(
        f"/api/dropship-providers/{vendor['id']}.json",
        json={"countries": ["us", "CA"], "countryFilter": "include"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["countries"] == ["CA", "US"]
    assert body["priority"] == 5
    assert body["name"] == "A"


def test_vendor_external_id_is_unique(client):
    client.post("/api/dropship-providers.json", json={"name": "A", "externalId": "x1"})
    response = client.post("/api/dropship-providers.json", json={"name": "B", "externalId": "x1"})
    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "externalId"
    assert client.get("/api/dropship-providers.json").headers["X-Total-Count"] == "1"


def test_vendor_delete(client):
    vendor = client.post("/api/dropship-providers.json", json={"name": "Gone"}).json()
    assert client.delete(f"/api/dropship-providers/{vendor['id']}.json").status_code == 204
    assert client.get(f"/api/dropship-providers/{vendor['id']}.json").status_code == 404


def test_vendor_order_endpoint_must_be_http(client):
    response = client.post(
        "/api/dropship-providers.json", json={"name": "A", "orderEndpoint": "ftp://x.example/po"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "orderEndpoint"


def test_a_default_warehouse_exists(client):
    warehouses = client.get("/api/warehouses.json").json()
    assert len(warehouses) == 1
    assert warehouses[0]["isDefault"] is True


def test_making_another_warehouse_default_moves_the_flag(client):
    first = client.get("/api/warehouses.json").json()[0]
    second = client.post("/api/warehouses.json", json={"name": "East", "isDefault": True}).json()
    assert second["isDefault"] is True
    assert client.get(f"/api/warehouses/{first['id']}.json").json()["isDefault"] is False
    response = client.put(f"/api/warehouses/{second['id']}.json", json={"isDefault": False})
    assert response.status_code == 422
    defaults = client.get("/api/warehouses.json?where[isDefault]=true").json()
    assert [w["id"] for w in defaults] == [second["id"]]


def test_channel_inventory_sync_values(client):
    for value in ("all", "feeds", "none"):
        response = client.post("/api/channels.json", json={"name": value, "inventorySync": value})
        assert response.status_code == 201
        assert response.json()["inventorySync"] == value
    response = client.post("/api/channels.json", json={"name": "x", "inventorySync": "some"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "inventorySync"


def test_channel_defaults_and_update(client):
    channel = client.post("/api/channels.json", json={"name": "Store"}).json()
    assert channel["parentChannel"] == "custom"
    assert channel["inventorySync"] == "all"
    assert channel["automaticallyCancelSales"] is True
    updated = client.put(f"/api/channels/{channel['id']}.json", json={"inventorySync": "none"})
    assert updated.json()["inventorySync"] == "none"
    assert updated.json()["name"] == "Store"


def test_channel_with_missing_warehouse_is_422(client):
    response = client.post("/api/channels.json", json={"name": "x", "warehouseId": 999})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "warehouseId"


def test_custom_channel_creates_its_channel_and_hash(client):
    response = client.post(
        "/api/custom-channels.json",
        json={"name": "Shop", "inventoryEndpoint": "https://shop.example/inventory"},
    )
    assert response.status_code == 201
    body = response.json()
    assert len(body["webhookHash"]) == 40
    assert body["publishingAcknowledgement"] == "sync"
    assert body["inventoryEndpoint"] == "https://shop.example/inventory"
    channel = client.get(f"/api/channels/{body['channelId']}.json").json()
    assert channel["name"] == "Shop"


def test_custom_channel_hash_is_read_only_and_rotatable(client):
    custom = client.post("/api/custom-channels.json", json={"name": "Shop"}).json()
    response = client.put(f"/api/custom-channels/{custom['id']}.json", json={"webhookHash": "mine"})
    assert response.status_code == 200  # read-only fields sent back are ignored, and named
    assert response.headers["Dropwire-Ignored-Fields"] == "webhookHash"
    assert response.json()["webhookHash"] == custom["webhookHash"]
    rotated = client.post(f"/api/custom-channels/{custom['id']}/rotate-hash.json").json()
    assert rotated["webhookHash"] != custom["webhookHash"]


def test_custom_channel_urls_must_be_http(client):
    for field in (
        "inventoryEndpoint",
        "publishingEndpoint",
        "fulfillmentEndpoint",
        "priceEndpoint",
    ):
        response = client.post(
            "/api/custom-channels.json", json={"name": "S", field: "javascript:alert(1)"}
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == field
    assert client.get("/api/custom-channels.json").json() == []
    assert client.get("/api/channels.json").json() == []


def test_one_custom_channel_per_channel(client):
    channel = client.post("/api/channels.json", json={"name": "S"}).json()
    first = client.post("/api/custom-channels.json", json={"name": "S", "channelId": channel["id"]})
    assert first.status_code == 201
    second = client.post(
        "/api/custom-channels.json", json={"name": "S", "channelId": channel["id"]}
    )
    assert second.status_code == 409
    missing = client.post("/api/custom-channels.json", json={"name": "S", "channelId": 999})
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "channelId"
