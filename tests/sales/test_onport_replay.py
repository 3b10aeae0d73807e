"""A sequence of requests shaped like Onport's documentation and its public clients, replayed.

Nothing here is Dropwire's own dialect: bodies are Onport's (numeric ids, Onport's address names,
read-only fields sent back), lists are built the way `qs.stringify` encodes Sequelize objects, and
the vendor signs in with `POST /auth/login`.
"""

from urllib.parse import urlencode

from dropwire.auth.users import create_user
from dropwire.jobs.service import run_pending


def qs(**params: object) -> str:
    """What `qs.stringify` sends (brackets percent-encoded)."""
    return urlencode(params)


def test_onport_replay(client, anonymous, database):
    # 1. the merchant creates a vendor (partial body) and its feed; the vendor signs in
    vendor = client.post(
        "/api/dropship-providers.json", json={"name": "Test Dropship 1", "externalId": 889}
    ).json()
    assert vendor["externalId"] == "889"
    feed = client.post(
        "/api/inventory-feed.json", json={"dropshipProviderId": vendor["id"], "name": "Stock"}
    ).json()
    with database.transaction() as session:
        create_user(
            session,
            email="orders@vendor.example",
            password="a long vendor password",
            dropship_provider_id=vendor["id"],
        )
    login = anonymous.post(
        "/auth/login",
        json={
            "role": "dropship_provider",
            "email": "orders@vendor.example",
            "password": "a long vendor password",
        },
    )
    assert login.status_code == 200, login.text
    vendor_headers = {"Authorization": f"Bearer {login.json()['token']}"}

    # 2. the store's products, then the vendor pushes stock (numeric ids, Onport's minimal body)
    channel = client.post("/api/channels.json", json={"name": "Custom store"}).json()
    client.post(
        "/api/custom-channels.json",
        json={
            "name": "Custom store hooks",
            "channelId": channel["id"],
            "fulfillmentEndpoint": "http://127.0.0.1:9/fulfillments",
        },
    )
    imported = client.post(
        f"/api/channels/{channel['id']}/import-connector-variant-batch.json",
        json=[{"sku": "TEE-M", "name": "Tee M", "externalId": 4242, "price": 20}],
    )
    assert imported.json()[0]["status"] == "success", imported.text
    pushed = anonymous.put(
        f"/api/inventory-feeds/{feed['id']}/parse-webhook.json",
        json={"externalId": 1234, "vendorSku": "TEE-M", "inventoryQuantity": 10, "costPrice": 8},
        headers=vendor_headers,
    )
    assert pushed.status_code == 200, pushed.text
    acknowledged = client.put(
        f"/api/channels/{channel['id']}/acknowledge-inventory-feed-variants.json",
        json={
            "sku": "TEE-M",
            "vendorSkus": [{"vendorSku": "TEE-M", "dropshipProviderId": vendor["id"]}],
        },
    )
    assert acknowledged.status_code == 200, acknowledged.text

    # 3. a manual sale exactly as Onport documents it
    sale = client.post(
        f"/api/channels/{channel['id']}/manual-sale.json",
        json={
            "externalId": 1234,
            "source": "custom",
            "saleDefaults": {
                "reference": "10001",
                "shippingFirstName": "Test",
                "shippingLastName": "Customer",
                "shippingAddressLineOne": "123 N university",
                "shippingCity": "Rome",
                "shippingCountry": "IT",
                "shippingState": "BA",
                "shippingZip": "11000",
                "notes": "Test",
                "locked": 0,
            },
            "customer": {"firstName": "Test", "lastName": "user", "email": "test@user.com"},
            "lineItems": [
                {
                    "externalId": "line-external-id",
                    "name": "Tee M",
                    "quantity": 2,
                    "price": 20,
                    "taxable": True,
                    "variant": {"externalId": 4242},
                    "properties": [{"key": "gift", "value": "yes"}],
                }
            ],
            "shipping": [
                {"code": "shipping-code", "name": "Standard", "serviceLevel": "ground", "price": 10}
            ],
        },
    )
    assert sale.status_code == 200, sale.text
    assert sale.headers["Dropwire-Ignored-Fields"] == "saleDefaults.locked"
    assert sale.json()["source"] == "custom"
    sale = sale.json()
    assert sale["saleDefaults"]["receiverCity"] == "Rome"
    assert sale["shipping"][0]["serviceLevel"] == "ground"

    # 4. the vendor lists its purchase orders the Onport way
    query = qs(
        **{
            "where[saleId][$ne]": "",
            "where[inventoryStatus][$in][0]": "notReceived",
            "where[inventoryStatus][$in][1]": "partiallyReceived",
            "order[attribute]": "createdAt",
            "order[descending]": "true",
            "attributes[0]": "id",
            "attributes[1]": "reference",
            "attributes[2]": "saleId",
            "include[0][model]": "Sale",
            "include[0][attributes][0]": "reference",
            "include[0][attributes][1]": "saleDefaults",
            "include[1][models]": "DropshipProvider",
            "include[1][attributes][0]": "name",
        }
    )
    listed = anonymous.get(f"/api/purchases.json?{query}", headers=vendor_headers)
    assert listed.status_code == 200, listed.text
    (purchase,) = listed.json()
    assert purchase["reference"] == "10001-01"
    assert purchase["sale"]["reference"] == "10001"
    assert purchase["sale"]["saleDefaults"]["receiverAddress1"] == "123 N university"
    assert purchase["dropshipProvider"] == {"name": "Test Dropship 1"}
    assert listed.headers["X-Total-Count"] == "1"

    # 5. the vendor acknowledges it and ships it with Onport's body
    statuses = anonymous.get(
        "/api/purchase-statuses.json?where[name]=Acknowledged", headers=vendor_headers
    ).json()
    acknowledged = anonymous.put(
        f"/api/purchases/{purchase['id']}.json",
        json={"purchaseStatusId": statuses[0]["id"]},
        headers=vendor_headers,
    )
    assert acknowledged.status_code == 200
    shipped = anonymous.post(
        f"/api/purchases/{purchase['id']}/ship.json",
        json={
            "inventoryStatus": "shipped",
            "trackingNumber": "1Z999",
            "trackingCompany": "UPS",
            "serviceLevel": "ground",
            "ids": [],
        },
        headers=vendor_headers,
    )
    assert shipped.status_code == 201, shipped.text
    assert shipped.json()["reference"] == "10001-01-01"

    # 6. one tee comes back; the merchant restocks it in its warehouse
    line = sale["saleItems"][0]
    returned = client.post(
        f"/api/sales/{sale['id']}/returns.json",
        json={
            "saleReturnItems": [{"saleItemId": line["id"], "quantity": 1}],
            "notes": "too small",
            "restock": True,
            "refundAmount": 20,
        },
    )
    assert returned.status_code == 201, returned.text
    items = client.get(
        "/api/sale-return-items.json?"
        + qs(**{"where[saleReturnId]": returned.json()["id"]})  # Elastic Path's component
    ).json()
    assert [(i["saleItemId"], i["quantity"]) for i in items] == [(line["id"], 1)]
    final = client.get(
        f"/api/sales.json?{qs(**{'where[externalId]': 1234, 'include[0][model]': 'Customer'})}"
    ).json()[0]
    assert final["inventoryStatus"] == "fulfilled"
    assert final["returnStatus"] == "partiallyReturned"
    assert final["customer"]["firstName"] == "Test"
    events = [d["event"] for d in client.get("/api/webhook-deliveries.json").json()]
    assert events.count("fulfillment") == 1
    assert events.count("return.created") == 1
    run_pending(database)  # nothing queued is left failing
