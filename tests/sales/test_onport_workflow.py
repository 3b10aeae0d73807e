"""The vendor workflow Onport integrations use: statuses, rejections, fulfillments, returns."""

import pytest

from tests.conftest import make_token


@pytest.fixture
def sold(world):
    """Sale 10001: 3 MUG routed to `north` (it has stock; `baltic` has some too)."""
    world.variant("MUG")
    world.stock("north", "MUG", 5, cost=4)
    world.stock("baltic", "MUG", 5, cost=3)
    sale = world.post("s-1", [("l1", "MUG", 3)]).json()
    assert [p["dropshipProviderId"] for p in sale["purchases"]] == [world.vendors["north"]["id"]]
    return sale


def vendor_client(app, database, vendor_id):
    from fastapi.testclient import TestClient

    client = TestClient(app, raise_server_exceptions=False)
    client.headers["Authorization"] = f"Bearer {make_token(database, 'v', vendor_id)}"
    return client


def test_sale_shape_is_onports(world, sold):
    assert sold["customer"] == {
        "firstName": "Ada",
        "lastName": "Lovelace",
        "email": "ada@example.com",
    }
    assert sold["shipping"] == [{"code": "std", "name": "Standard", "price": 5.0}]
    assert sold["saleDefaults"] == {"receiverCountry": "US"}
    assert sold["status"] == "finalized"
    assert sold["invoiceStatus"] == "notInvoiced"
    assert sold["returnStatus"] == "notReturned"
    assert sold["companyId"] == 1
    purchase = sold["purchases"][0]
    assert purchase["reference"] == purchase["externalReference"] == "10001-01"
    assert purchase["companyId"] == 1
    assert purchase["purchaseStatusId"] is None


def test_purchase_statuses_are_seeded_and_a_vendor_sets_its_own(app, database, world, sold):
    client = world.client
    vendor = vendor_client(app, database, world.vendors["north"]["id"])
    statuses = vendor.get("/api/purchase-statuses.json").json()
    assert [s["name"] for s in statuses] == ["Unacknowledged", "Acknowledged", "Rejected"]
    purchase_id = sold["purchases"][0]["id"]
    acknowledged = statuses[1]["id"]
    response = vendor.put(
        f"/api/purchases/{purchase_id}.json", json={"purchaseStatusId": acknowledged}
    )
    assert response.status_code == 200
    assert response.json()["purchaseStatusId"] == acknowledged
    listed = client.get(f"/api/purchases.json?where[purchaseStatusId]={acknowledged}").json()
    assert [p["id"] for p in listed] == [purchase_id]
    bad = vendor.put(f"/api/purchases/{purchase_id}.json", json={"purchaseStatusId": 999})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "purchaseStatusId"
    assert vendor.post("/api/purchase-statuses.json", json={"name": "Mine"}).status_code == 403
    other = vendor_client(app, database, world.vendors["baltic"]["id"])
    assert (
        other.put(
            f"/api/purchases/{purchase_id}.json", json={"purchaseStatusId": acknowledged}
        ).status_code
        == 404
    )
    created = client.post(
        "/api/purchase-statuses.json", json={"name": "Packed", "level": "warning", "position": 5}
    )
    assert created.status_code == 201
    renamed = client.put(
        f"/api/purchase-statuses/{created.json()['id']}.json", json={"name": "Boxed"}
    )
    assert renamed.json()["name"] == "Boxed"
    assert client.delete(f"/api/purchase-statuses/{acknowledged}.json").status_code == 204
    assert client.get(f"/api/purchases/{purchase_id}.json").json()["purchaseStatusId"] is None


def test_vendor_rejects_a_purchase_order_and_its_lines_are_routed_again(app, database, world, sold):
    client = world.client
    north = vendor_client(app, database, world.vendors["north"]["id"])
    purchase_id = sold["purchases"][0]["id"]
    response = north.put(f"/api/purchases/{purchase_id}/cancel.json", json={"reason": "no"})
    assert response.status_code == 200, response.text
    assert response.json()["cancellationStatus"] == "full"
    sale = client.get(f"/api/sales/{sold['id']}.json").json()
    open_purchases = [p for p in sale["purchases"] if p["cancellationStatus"] == "none"]
    assert [p["dropshipProviderId"] for p in open_purchases] == [world.vendors["baltic"]["id"]]
    assert open_purchases[0]["reference"] == "10001-02"
    assert sale["saleItems"][0]["quantityCancelled"] == 0  # the customer's order stands
    inventory = client.get(f"/api/variants/{world.variants['MUG']['id']}.json").json()
    assert inventory["inventoryAllocated"] == 3
    # the second vendor rejects too: nobody else has it, the line keeps a problem
    baltic = vendor_client(app, database, world.vendors["baltic"]["id"])
    assert baltic.put(f"/api/purchases/{open_purchases[0]['id']}/cancel.json").status_code == 200
    sale = client.get(f"/api/sales/{sold['id']}.json").json()
    assert sale["dropshipProblems"] == ["l1: no source can supply 3 of MUG"]
    assert (
        client.get(f"/api/variants/{world.variants['MUG']['id']}.json").json()["inventoryAllocated"]
        == 0
    )


def test_ship_with_onports_body_and_post_fulfillments(app, database, world, sold):
    north = vendor_client(app, database, world.vendors["north"]["id"])
    purchase = sold["purchases"][0]
    item_id = purchase["purchaseItems"][0]["id"]
    response = north.post(
        "/api/fulfillments.json",
        json={
            "purchaseId": purchase["id"],
            "trackingNumber": "1Z1",
            "trackingCompany": "UPS",
            "fulfillmentItems": [{"purchaseItemId": item_id, "quantity": 1}],
        },
    )
    assert response.status_code == 201, response.text
    assert response.json()["reference"] == "10001-01-01"
    shipped = north.post(
        f"/api/purchases/{purchase['id']}/ship.json",
        json={
            "inventoryStatus": "shipped",
            "trackingNumber": "1Z2",
            "trackingCompany": "UPS",
            "serviceLevel": "ground",
            "ids": [],
        },
    )
    assert shipped.status_code == 201, shipped.text
    assert shipped.json()["fulfillmentItems"][0]["quantity"] == 2
    sale = world.client.get(f"/api/sales/{sold['id']}.json").json()
    assert sale["inventoryStatus"] == "fulfilled"


def test_put_sale_takes_onports_top_level_fields(world, sold):
    response = world.client.put(
        f"/api/sales/{sold['id']}.json",
        json={
            "shippingCity": "Rome",
            "shippingAddressLineOne": "Via Roma 1",
            "paymentStatus": "paid",
            "customer": {"phone": "+39 06 000"},
            "locked": 0,
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["paymentStatus"] == "paid"
    assert body["saleDefaults"]["receiverCity"] == "Rome"
    assert body["saleDefaults"]["receiverAddress1"] == "Via Roma 1"
    assert body["saleDefaults"]["receiverCountry"] == "US"
    assert body["customer"]["phone"] == "+39 06 000"
    assert body["customer"]["firstName"] == "Ada"
    assert response.headers["Dropwire-Ignored-Fields"] == "locked"


def test_a_return_restocks_through_the_ledger_and_tells_the_channel(world, sold):
    client = world.client
    client.post(
        "/api/custom-channels.json",
        json={
            "name": "Hooks",
            "channelId": world.channel_id,
            "fulfillmentEndpoint": "http://127.0.0.1:9/fulfillments",
        },
    )
    purchase = sold["purchases"][0]
    client.post(
        f"/api/purchases/{purchase['id']}/ship.json",
        json={"purchaseItems": [{"id": purchase["purchaseItems"][0]["id"], "quantity": 2}]},
    )
    line = sold["saleItems"][0]
    response = client.post(
        f"/api/sales/{sold['id']}/returns.json",
        json={
            "items": [{"saleItemId": line["id"], "quantity": 2}],
            "reason": "damaged box",
            "restock": True,
            "refundAmount": 40,
        },
    )
    assert response.status_code == 201, response.text
    sale_return = response.json()
    assert sale_return["reference"] == "10001-R01"
    assert sale_return["saleReturnItems"][0]["quantityRestocked"] == 2
    sale = client.get(f"/api/sales/{sold['id']}.json").json()
    assert sale["returnStatus"] == "partiallyReturned"
    assert sale["saleItems"][0]["quantityReturned"] == 2
    variant_id = world.variants["MUG"]["id"]
    movements = client.get(
        f"/api/inventory-movements.json?where[cause]=return&where[variantId]={variant_id}"
    ).json()
    assert [(m["deltaStocked"], m["referenceType"]) for m in movements] == [(2, "sale_return")]
    items = client.get(
        f"/api/sale-return-items.json?where[saleReturnId]={sale_return['id']}"
    ).json()
    assert [i["quantity"] for i in items] == [2]
    deliveries = client.get("/api/webhook-deliveries.json?where[event]=return.created").json()
    assert len(deliveries) == 1
    # the last open unit comes back unshipped: it is cancelled, nothing is restocked
    again = client.post(
        f"/api/sales/{sold['id']}/returns.json",
        json={"items": [{"saleItemId": line["id"], "quantity": 1}]},
    )
    assert again.json()["saleReturnItems"][0]["quantityCancelled"] == 1
    sale = client.get(f"/api/sales/{sold['id']}.json").json()
    assert sale["returnStatus"] == "returned"
    too_many = client.post(
        f"/api/sales/{sold['id']}/returns.json",
        json={"items": [{"saleItemId": line["id"], "quantity": 1}]},
    )
    assert too_many.status_code == 422
    assert too_many.json()["errors"][0]["field"] == "items[0].quantity"


def test_set_level_endpoints(world):
    client = world.client
    variant = world.variant("LAMP")
    response = client.put(
        f"/api/variants/{variant['id']}/set-level.json",
        json={"quantity": 10, "adjustmentReasonId": 1, "notes": "count"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["level"]["stocked"] == 10
    assert response.headers["Dropwire-Ignored-Fields"] == "adjustmentReasonId"
    client.post(
        f"/api/channels/{world.channel_id}/import-connector-variant-batches.json",
        json=[{"sku": "LAMP", "externalId": "4711"}],
    )
    by_listing = client.put(
        f"/api/channels/{world.channel_id}/set-variant-level.json",
        json={"quantity": 7, "externalId": 4711},
    )
    assert by_listing.status_code == 200, by_listing.text
    assert by_listing.json()["level"]["stocked"] == 7
    missing = client.put(
        f"/api/channels/{world.channel_id}/set-variant-level.json",
        json={"quantity": 7, "externalId": "nope"},
    )
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "externalId"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/sale-returns/{id}.json", {}),
        ("GET", "/api/purchase-statuses/{id}.json", {}),
        ("PUT", "/api/purchase-statuses/{id}.json", {}),
        ("DELETE", "/api/purchase-statuses/{id}.json", {}),
        ("PUT", "/api/sales/{id}.json", {}),
        ("POST", "/api/sales/{id}/returns.json", {"items": [{"saleItemId": 1, "quantity": 1}]}),
        ("PUT", "/api/purchases/{id}/cancel.json", {}),
        ("PUT", "/api/variants/{id}/set-level.json", {"quantity": 1}),
        ("PUT", "/api/channels/{id}/set-variant-level.json", {"quantity": 1, "sku": "A"}),
        ("GET", "/api/inventory-feeds/{id}/runs.json", {}),
        ("GET", "/api/inventory-feed-runs/{id}.json", {}),
        ("POST", "/api/inventory-feed-runs/{id}/approve.json", {}),
    ],
)
def test_ids_beyond_the_integer_columns_are_404_not_500(client, method, path, body):
    """Schemathesis found these answering 500 (SQLite overflows, PostgreSQL refuses the int)."""
    for record_id in (2**31, 10**22):
        response = client.request(method, path.format(id=record_id), json=body)
        assert response.status_code == 404, (path, response.text)
