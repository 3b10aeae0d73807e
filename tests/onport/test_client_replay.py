"""Public Onport client code's calls, replayed as recorded: an order-import script (find the
channel, post each order with Onport's manual-sale body, tag it with custom fields, read it
back with its purchase orders) and a checkout shipping app (a cart's rates per vendor, the
variants' weights, a purchase order's rates). Each request is what the client sends: Onport's
field names, numeric ids, lists built by `qs.stringify`. Every answer is a 2xx with the
attributes and includes asked for; every error answer a body with `title` (the clients print it).
"""

import pytest

from tests.onport.test_jetti_cli_replay import cli_url

ORDER = {  # the order-import script's body for one row of its source
    "externalId": 100234,
    "saleDefaults": {
        "reference": "#1042",
        "dateOrdered": "2026-11-30T10:00:00Z",
        "shippingFirstName": "Ada",
        "shippingLastName": "Lovelace",
        "shippingAddressLineOne": "1 Analytical Row",
        "shippingCity": "London",
        "shippingZip": "N1 1AA",
        "shippingCountry": "GB",
        "billingFirstName": "Charles",
        "billingLastName": "Babbage",
        "billingAddressLineOne": "2 Engine St",
        "billingCity": "London",
        "billingCountry": "GB",
        "locked": False,
    },
    "customer": {"firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com"},
    "lineItems": [
        {
            "externalId": 5001,
            "name": "Tent",
            "quantity": 2,
            "price": 30,
            "taxable": True,
            "variant": {"sku": "TENT"},
            "properties": [{"key": "gift", "value": "yes"}],
        }
    ],
    "shipping": [{"code": "std", "name": "Standard", "serviceLevel": "standard", "price": 5}],
    "options": {},
}


@pytest.fixture
def account(client, anonymous):
    """A merchant with a vendor (stock, a rate table) and a store channel; the clients' token."""
    vendor = client.post(
        "/api/dropship-providers.json", json={"name": "Acme", "defaultCarrier": "DHL"}
    ).json()
    feed = client.post(
        "/api/inventory-feeds.json", json={"dropshipProviderId": vendor["id"], "name": "Stock"}
    ).json()
    client.post("/api/variants.json", json={"sku": "TENT", "name": "Tent", "grams": 1500})
    client.put(
        f"/api/inventory-feeds/{feed['id']}/parse-webhook.json",
        json={"externalId": "TENT", "vendorSku": "TENT", "inventoryQuantity": 10},
    )
    for name, price, low, high in (("Light", 3.5, 0, 2000), ("Heavy", 9, 2000, None)):
        client.post(
            "/api/shipping-rates.json",
            json={
                "dropshipProviderId": vendor["id"],
                "name": name,
                "price": price,
                "countries": ["GB"],
                "minGrams": low,
                "maxGrams": high,
            },
        )
    channel = client.post("/api/channels.json", json={"name": "Store"}).json()
    client.post(
        "/api/custom-fields.json",
        json={"resource": "sale", "key": "source_order", "label": "Source order"},
    )

    class Account:
        pass

    found = Account()
    found.client = anonymous
    found.headers = dict(anonymous.headers)
    found.vendor, found.channel = vendor, channel
    return found


def test_order_import_script(account):
    http, headers = account.client, account.headers
    channels = http.get(
        cli_url("channels", {"where": {"name": "Store"}, "attributes": ["id", "name"]}),
        headers=headers,
    )
    assert channels.status_code == 200, channels.text
    assert channels.json() == [{"id": account.channel["id"], "name": "Store"}]
    posted = http.post(
        cli_url(f"channels/{channels.json()[0]['id']}/manual-sale"), json=ORDER, headers=headers
    )
    assert posted.status_code == 200, posted.text
    sale = posted.json()
    tagged = http.put(
        cli_url(f"sales/{sale['id']}/sync-custom-fields"),
        json={"customFields": [{"key": "source_order", "value": "#1042"}]},
        headers=headers,
    )
    assert tagged.status_code == 200, tagged.text
    again = http.post(
        cli_url(f"channels/{account.channel['id']}/manual-sale"), json=ORDER, headers=headers
    )
    assert again.status_code == 200 and again.json()["id"] == sale["id"]  # no duplicate

    search = {
        "where": {"externalId": "100234", "companyId": 1},
        "attributes": ["id", "reference", "externalId"],
        "include": [
            {"model": "SaleItem", "attributes": ["sku", "quantity"]},
            {
                "model": "CustomFieldSale",
                "attributes": ["value"],
                "include": [{"model": "CustomField", "attributes": ["key"]}],
            },
            {
                "model": "Purchase",
                "attributes": ["id", "reference"],
                "include": [{"model": "DropshipProvider", "attributes": ["name"]}],
            },
        ],
        "from": 0,
    }
    read = http.get(cli_url("sales", search), headers=headers)
    assert read.status_code == 200, read.text
    (row,) = read.json()
    assert (row["reference"], row["externalId"]) == ("#1042", "100234")
    assert row["saleItems"] == [{"sku": "TENT", "quantity": 2}]
    assert row["customFieldSales"] == [{"value": "#1042", "customField": {"key": "source_order"}}]
    assert [p["dropshipProvider"]["name"] for p in row["purchases"]] == ["Acme"]

    address = [
        "reference",
        "receiverFirstName",
        "receiverLastName",
        "receiverAddress1",
        "receiverCity",
        "receiverZip",
        "receiverCountry",
        "receiverFullName",
        "billingFirstName",
        "billingLastName",
        "billingAddress1",
        "billingCity",
        "billingCountry",
        "billingFullName",
    ]
    purchases = http.get(
        cli_url("purchases", {"where": {"saleId": sale["id"]}, "attributes": address}),
        headers=headers,
    )
    assert purchases.status_code == 200, purchases.text
    (purchase,) = purchases.json()
    assert list(purchase) == address
    assert purchase["receiverFullName"] == "Ada Lovelace"
    assert purchase["receiverAddress1"] == "1 Analytical Row"
    assert purchase["billingFullName"] == "Charles Babbage"
    assert purchase["billingAddress1"] == "2 Engine St"


def test_checkout_shipping_app(account):
    http, headers = account.client, account.headers
    cart = {
        "destination": {"country": "GB", "zip": "N1 1AA"},
        "items": [{"sku": "TENT", "quantity": 1}],
    }
    routed = http.post(
        cli_url(f"channels/{account.channel['id']}/route-shipments"), json=cart, headers=headers
    )
    assert routed.status_code == 200, routed.text
    (shipment,) = routed.json()
    assert shipment["dropshipProviderId"] == account.vendor["id"]
    assert [(r["name"], r["price"]) for r in shipment["rates"]] == [("Light", 3.5)]
    assert shipment["cheapest"] == 3.5
    heavy = http.post(
        cli_url(f"channels/{account.channel['id']}/route-shipments"),
        json=cart | {"items": [{"sku": "TENT", "quantity": 2}]},
        headers=headers,
    )
    assert [r["name"] for r in heavy.json()[0]["rates"]] == ["Heavy"]
    variants = http.get(
        cli_url(
            "variants",
            {"where": {"sku": {"$in": ["TENT"]}}, "attributes": ["id", "sku", "grams"]},
        ),
        headers=headers,
    )
    assert variants.status_code == 200, variants.text
    assert [(v["sku"], v["grams"]) for v in variants.json()] == [("TENT", 1500)]
    rates = http.get(
        cli_url(
            "shipping-rates",
            {
                "where": {"dropshipProviderId": {"$in": [account.vendor["id"]]}},
                "attributes": ["name", "price", "countries"],
                "order": [["price", "ASC"]],
            },
        ),
        headers=headers,
    )
    assert rates.status_code == 200, rates.text
    assert rates.json() == [
        {"name": "Light", "price": 3.5, "countries": ["GB"]},
        {"name": "Heavy", "price": 9.0, "countries": ["GB"]},
    ]
    sale = http.post(
        cli_url(f"channels/{account.channel['id']}/manual-sale"), json=ORDER, headers=headers
    ).json()
    quotes = http.post(cli_url(f"purchases/{sale['purchases'][0]['id']}/rates"), headers=headers)
    assert quotes.status_code == 200, quotes.text
    assert [(q["name"], q["grams"]) for q in quotes.json()] == [("Heavy", 3000)]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "field"),
    [
        ("get", "sales/999999", None, 404, None),
        ("post", "channels/{channel}/route-shipments", {"items": []}, 422, "items"),
        (
            "post",
            "channels/{channel}/manual-sale",
            ORDER | {"lineItems": [{"quantity": 1, "variant": {"sku": "NOPE"}}]},
            422,
            None,
        ),
        ("put", "sales/999999/sync-custom-fields", {"customFields": []}, 404, None),
        (
            "get",
            "purchases?include[0][model]=CustomFieldSomething",
            None,
            422,
            "include[0][model]",
        ),
    ],
)
def test_error_answers_carry_a_title(account, method, path, body, status, field):
    """The clients print `title` (and the CLI nothing useful without it)."""
    target = path.replace("{channel}", str(account.channel["id"]))
    url = cli_url(target) if "?" not in target else "/api/" + target.replace("?", ".json?", 1)
    answer = account.client.request(method, url, json=body, headers=account.headers)
    assert answer.status_code == status, answer.text
    error = answer.json()
    assert error["title"] and error["status"] == status and error["code"]
    if field is not None:
        assert field in {e["field"] for e in error["errors"]}
