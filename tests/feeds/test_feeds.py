from tests.feeds.conftest import available, catalog_variant, parse


def test_feed_fields_defaults_and_hash(client, vendor):
    response = client.post(
        "/api/inventory-feed.json",
        json={
            "dropshipProviderId": vendor["id"],
            "resourceType": "csv",
            "resourceLocation": "ftp://user:s3cret@ftp.example.com/stock.csv",
            "fetchFrequency": "daily",
            "allocationBuffer": 2,
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["name"] == "Northwind inventory"
    assert body["automaticallyConnect"] is True
    assert body["resourceLocation"] == "ftp://user:***@ftp.example.com/stock.csv"
    assert len(body["hash"]) == 40
    rotated = client.post(f"/api/inventory-feeds/{body['id']}/rotate-hash.json").json()
    assert rotated["hash"] != body["hash"]
    logs = client.get("/api/api-logs.json").text
    assert "s3cret" not in logs


def test_bad_feed_input(client, vendor):
    cases = [
        ({}, "dropshipProviderId"),
        ({"dropshipProviderId": 999}, "dropshipProviderId"),
        (
            {"dropshipProviderId": vendor["id"], "resourceLocation": "file:///etc/passwd"},
            "resourceLocation",
        ),
        ({"dropshipProviderId": vendor["id"], "fetchFrequency": "weekly"}, "fetchFrequency"),
    ]
    for body, field in cases:
        response = client.post("/api/inventory-feeds.json", json=body)
        assert response.status_code == 422, body
        assert response.json()["errors"][0]["field"] == field
    assert client.get("/api/inventory-feeds.json").json() == []


def test_parse_webhook_creates_then_updates_never_duplicates(client, feed):
    first = parse(client, feed["id"], externalId="1234", vendorSku="1234", inventoryQuantity=10)
    assert first.status_code == 200, first.text
    second = parse(client, feed["id"], externalId="1234", vendorSku="1234", inventoryQuantity=7)
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["inventoryQuantity"] == 7
    listing = client.get(f"/api/inventory-feed-variants.json?where[inventoryFeedId]={feed['id']}")
    assert listing.headers["X-Total-Count"] == "1"


def test_auto_connect_by_sku_stocks_the_feed_location(client, feed):
    variant = catalog_variant(client, "TENT-1")
    body = parse(client, feed["id"], externalId="a", vendorSku="TENT-1", inventoryQuantity=6).json()
    assert body["variantId"] == variant["id"]
    assert body["connected"] is True
    detail = client.get(f"/api/variants/{variant['id']}/inventory.json").json()
    assert detail["available"] == 6
    assert detail["locations"][0]["locationKind"] == "feed"
    assert detail["feedVariants"][0]["vendorSku"] == "TENT-1"
    assert detail["feedVariants"][0]["dropshipProviderName"] == "Northwind"
    movements = client.get(f"/api/inventory-movements.json?where[variantId]={variant['id']}").json()
    assert [(m["cause"], m["deltaStocked"]) for m in movements] == [("feed", 6)]


def test_unchanged_repost_writes_nothing(client, feed):
    catalog_variant(client, "TENT-1")
    first = parse(
        client,
        feed["id"],
        externalId="a",
        vendorSku="TENT-1",
        inventoryQuantity=6,
        price=12.5,
        tags=["x"],
    ).json()
    again = parse(
        client,
        feed["id"],
        externalId="a",
        vendorSku="TENT-1",
        inventoryQuantity=6,
        price=12.5,
        tags=["x"],
    ).json()
    assert again["updatedAt"] == first["updatedAt"]
    assert client.get("/api/inventory-movements.json").headers["X-Total-Count"] == "1"


def test_barcode_and_case_insensitive_connect(client, vendor):
    feed = client.post(
        "/api/inventory-feeds.json",
        json={
            "dropshipProviderId": vendor["id"],
            "automaticallyConnectByBarcode": True,
            "caseInsensitiveSkus": True,
        },
    ).json()
    by_case = catalog_variant(client, "MUG-SAGE")
    by_barcode = catalog_variant(client, "KETTLE", barcode="0123456789012")
    assert (
        parse(client, feed["id"], externalId="1", vendorSku="mug-sage").json()["variantId"]
        == by_case["id"]
    )
    body = parse(
        client, feed["id"], externalId="2", vendorSku="K-77", barcode="0123456789012"
    ).json()
    assert body["variantId"] == by_barcode["id"]
    clash = parse(client, feed["id"], externalId="3", vendorSku="MUG-sage")
    assert clash.status_code == 409
    assert clash.json()["errors"][0]["field"] == "vendorSku"


def test_overrides_and_buffers(client, feed):
    variant = catalog_variant(client, "S-1")
    fv = parse(client, feed["id"], externalId="s1", vendorSku="S-1", inventoryQuantity=20).json()
    url = f"/api/inventory-feed-variants/{fv['id']}.json"
    assert (
        client.put(
            url, json={"inventoryQuantityOverride": "maximum", "manualInventoryQuantity": 5}
        ).status_code
        == 200
    )
    assert available(client, variant["id"]) == 5
    client.put(url, json={"inventoryQuantityOverride": "manual", "manualInventoryQuantity": 30})
    assert available(client, variant["id"]) == 30
    client.put(url, json={"inventoryQuantityOverride": "none"})
    assert available(client, variant["id"]) == 20
    client.put(f"/api/inventory-feeds/{feed['id']}.json", json={"allocationBuffer": 3})
    detail = client.get(f"/api/variants/{variant['id']}/inventory.json").json()
    assert detail["locations"][0]["buffer"] == 3
    client.put(url, json={"allocationBufferOverride": 1})
    detail = client.get(f"/api/variants/{variant['id']}/inventory.json").json()
    assert detail["locations"][0]["buffer"] == 1
    bad = client.put(
        url, json={"inventoryQuantityOverride": "manual", "manualInventoryQuantity": None}
    )
    assert bad.status_code == 422


def test_feed_variant_post_and_filters(client, feed):
    created = client.post(
        "/api/inventory-feed-variants.json",
        json={
            "inventoryFeedId": feed["id"],
            "externalId": "x1",
            "vendorSku": "X-1",
            "inventoryQuantity": 3,
        },
    )
    assert created.status_code == 201
    catalog_variant(client, "Y-1")
    parse(client, feed["id"], externalId="y1", vendorSku="Y-1", inventoryQuantity=1)
    assert len(client.get("/api/inventory-feed-variants.json?connected=true").json()) == 1
    assert len(client.get("/api/inventory-feed-variants.json?connected=false").json()) == 1
    assert (
        client.get("/api/inventory-feed-variants.json?where[vendorSku]=X-1").json()[0]["externalId"]
        == "x1"
    )


def test_bad_parse_webhook_input_writes_nothing(client, feed):
    cases = [
        ({"vendorSku": "a", "inventoryQuantity": 1}, 422, "externalId"),
        ({"externalId": "a", "inventoryQuantity": -1}, 422, "inventoryQuantity"),
        ({"externalId": "a", "inventoryQuantity": 1.5}, 422, "inventoryQuantity"),
        ({"externalId": "a", "inventoryQuantity": "10"}, 422, "inventoryQuantity"),
        ({"externalId": "a", "price": "cheap"}, 422, "price"),
    ]
    for body, status, field in cases:
        response = parse(client, feed["id"], **body)
        assert response.status_code == status, body
        assert response.json()["errors"][0]["field"] == field
    assert parse(client, 999, externalId="a").status_code == 404
    assert client.get("/api/inventory-feed-variants.json").json() == []


def test_vendor_token_only_reaches_its_own_feeds(client, feed, vendor_client):
    own = client.post(
        "/api/inventory-feeds.json", json={"dropshipProviderId": vendor_client.vendor_id}
    ).json()
    assert (
        vendor_client.put(
            f"/api/inventory-feeds/{own['id']}/parse-webhook.json",
            json={"externalId": "v1", "inventoryQuantity": 2},
        ).status_code
        == 200
    )
    other = vendor_client.put(
        f"/api/inventory-feeds/{feed['id']}/parse-webhook.json",
        json={"externalId": "v1", "inventoryQuantity": 2},
    )
    assert other.status_code == 404
    assert [f["id"] for f in vendor_client.get("/api/inventory-feeds.json").json()] == [own["id"]]
    assert len(vendor_client.get("/api/inventory-feed-variants.json").json()) == 1
    assert (
        vendor_client.post(
            "/api/inventory-feeds.json", json={"dropshipProviderId": vendor_client.vendor_id}
        ).status_code
        == 403
    )
    theirs = parse(client, feed["id"], externalId="t1").json()
    assert vendor_client.get(f"/api/inventory-feed-variants/{theirs['id']}.json").status_code == 404


def test_daily_sku_limit(client, feed, configure):

    configure(daily_sku_limit="2")
    assert parse(client, feed["id"], externalId="1", inventoryQuantity=1).status_code == 200
    assert parse(client, feed["id"], externalId="2", inventoryQuantity=1).status_code == 200
    assert parse(client, feed["id"], externalId="1", inventoryQuantity=5).status_code == 200
    refused = parse(client, feed["id"], externalId="3", inventoryQuantity=1)
    assert refused.status_code == 429
    assert "limit of 2" in refused.json()["message"]
    assert "resets at" in refused.json()["message"]
    assert int(refused.headers["Retry-After"]) > 0
    assert client.get("/api/inventory-feed-variants.json").headers["X-Total-Count"] == "2"


def test_delete_feed_zeroes_its_stock(client, feed):
    variant = catalog_variant(client, "Z-1")
    parse(client, feed["id"], externalId="z", vendorSku="Z-1", inventoryQuantity=4)
    assert client.delete(f"/api/inventory-feeds/{feed['id']}.json").status_code == 204
    assert available(client, variant["id"]) == 0
    assert client.get(f"/api/inventory-feeds/{feed['id']}.json").status_code == 404


def test_default_feed_name_fits_a_long_vendor_name(client):
    """Found by schemathesis on PostgreSQL (which enforces VARCHAR lengths): a 500 before."""
    vendor = client.post("/api/dropship-providers.json", json={"name": "V" * 255}).json()
    created = client.post("/api/inventory-feeds.json", json={"dropshipProviderId": vendor["id"]})
    assert created.status_code == 201, created.text
    assert created.json()["name"] == "V" * 245 + " inventory"
