from tests.feeds.conftest import available, catalog_variant, parse


def channel(client, connect_to_feed=True):
    return client.post(
        "/api/channels.json", json={"name": "Store", "connectToFeed": connect_to_feed}
    ).json()


def test_import_creates_variants_and_channel_links(client, feed):
    ch = channel(client)
    parse(client, feed["id"], externalId="e1", vendorSku="SHOE-42", inventoryQuantity=9)
    response = client.post(
        f"/api/channels/{ch['id']}/import-connector-variant-batches.json",
        json=[
            {
                "sku": "SHOE-42",
                "name": "Shoe 42",
                "price": 80,
                "externalId": "gid://1",
                "externalGroupId": "p1",
            },
            {"sku": "SHOE-43", "name": "Shoe 43", "externalGroupId": "p1"},
        ],
    )
    assert response.status_code == 200, response.text
    results = response.json()
    assert [r["status"] for r in results] == ["success", "success"]
    assert len(results[0]["feedVariantIds"]) == 1
    assert available(client, results[0]["variantId"]) == 9
    products = client.get("/api/products.json").json()
    assert len(products) == 1
    assert len(products[0]["variants"]) == 2
    links = client.get(f"/api/channel-variants.json?where[channelId]={ch['id']}").json()
    assert {(link["externalSku"], link["status"]) for link in links} == {
        ("SHOE-42", "connected"),
        ("SHOE-43", "connected"),
    }
    again = client.post(
        f"/api/channels/{ch['id']}/import-connector-variant-batch.json",
        json=[{"sku": "SHOE-42", "price": 85}],
    )
    assert again.json()[0]["variantId"] == results[0]["variantId"]
    assert client.get("/api/variants.json").headers["X-Total-Count"] == "2"


def test_import_batch_limit_and_bad_items(client):
    ch = channel(client)
    too_many = client.post(
        f"/api/channels/{ch['id']}/import-connector-variant-batches.json",
        json=[{"sku": f"s{i}"} for i in range(51)],
    )
    assert too_many.status_code == 422
    assert "50" in too_many.json()["message"]
    bad = client.post(
        f"/api/channels/{ch['id']}/import-connector-variant-batches.json", json=[{"name": "no sku"}]
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "[0].sku"
    assert client.get("/api/variants.json").json() == []
    assert (
        client.post("/api/channels/999/import-connector-variant-batches.json", json=[]).status_code
        == 404
    )


def test_acknowledge_connects_several_vendors_to_one_sku(client, feed, vendor):
    ch = channel(client, connect_to_feed=False)
    other_vendor = client.post("/api/dropship-providers.json", json={"name": "Baltic"}).json()
    other_feed = client.post(
        "/api/inventory-feeds.json",
        json={"dropshipProviderId": other_vendor["id"], "automaticallyConnect": False},
    ).json()
    variant = catalog_variant(client, "STORE-SKU")
    parse(client, feed["id"], externalId="n1", vendorSku="NW-9", inventoryQuantity=2)
    parse(client, other_feed["id"], externalId="b1", vendorSku="BL-9", inventoryQuantity=3)
    response = client.put(
        f"/api/channels/{ch['id']}/acknowledge-inventory-feed-variants.json",
        json={
            "sku": "STORE-SKU",
            "vendorSkus": [
                {"vendorSku": "NW-9", "dropshipProviderExternalId": "NW"},
                {"vendorSku": "BL-9", "dropshipProviderId": other_vendor["id"]},
            ],
        },
    )
    assert response.status_code == 200, response.text
    assert len(response.json()["feedVariantIds"]) == 2
    assert available(client, variant["id"]) == 5
    disconnected = client.put(
        f"/api/channels/{ch['id']}/disconnect-inventory-feed-variants.json",
        json={
            "sku": "STORE-SKU",
            "vendorSkus": [{"vendorSku": "NW-9", "dropshipProviderExternalId": "NW"}],
        },
    )
    assert disconnected.status_code == 200
    assert available(client, variant["id"]) == 3


def test_batches_report_per_item_and_one_bad_item_does_not_spoil_others(client, feed):
    ch = channel(client, connect_to_feed=False)
    catalog_variant(client, "OK-1")
    parse(client, feed["id"], externalId="o1", vendorSku="V-OK", inventoryQuantity=1)
    response = client.put(
        f"/api/channels/{ch['id']}/acknowledge-variant-batches.json",
        json=[
            {
                "sku": "OK-1",
                "vendorSkus": [{"vendorSku": "V-OK", "dropshipProviderExternalId": "NW"}],
            },
            {
                "sku": "MISSING",
                "vendorSkus": [{"vendorSku": "V-OK", "dropshipProviderExternalId": "NW"}],
            },
            {
                "sku": "OK-1",
                "vendorSkus": [{"vendorSku": "NOPE", "dropshipProviderExternalId": "NW"}],
            },
        ],
    )
    assert response.status_code == 200
    assert [r["status"] for r in response.json()] == ["success", "error", "error"]
    assert "MISSING" in response.json()[1]["message"]
    fifty_one = [
        {"sku": "OK-1", "vendorSkus": [{"vendorSku": "V-OK", "dropshipProviderId": 1}]}
    ] * 51
    assert (
        client.put(
            f"/api/channels/{ch['id']}/acknowledge-variant-batches.json", json=fifty_one
        ).status_code
        == 422
    )
    assert (
        client.put(
            f"/api/channels/{ch['id']}/disconnect-variant-batches.json", json=response.json()[:0]
        ).status_code
        == 200
    )


def test_acknowledge_needs_a_vendor_reference(client, feed):
    ch = channel(client)
    response = client.put(
        f"/api/channels/{ch['id']}/acknowledge-inventory-feed-variants.json",
        json={"sku": "A", "vendorSkus": [{"vendorSku": "x"}]},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "vendorSkus[0]"
