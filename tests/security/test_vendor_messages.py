"""What vendors receive and can write: their own lines only, their own signing secret, only the
fields the permission table gives them."""

import re
from pathlib import Path

import pytest

from dropwire.feeds.schemas import FEED_VARIANT_WRITABLE, FEED_WRITABLE
from dropwire.vendors.schemas import PROFILE_WRITABLE
from tests.conftest import make_token
from tests.delivery.conftest import drain
from tests.delivery.test_delivery import verify_standard_webhook


@pytest.fixture
def shop(client, receiver):
    """A store and two vendors; one order with a line for each vendor and one in-house line."""
    store = client.post(
        "/api/custom-channels.json",
        json={"name": "Shop", "inventoryEndpoint": receiver.url + "/shared"},
    ).json()
    vendors = {}
    for name in ("alpha", "beta"):
        vendor = client.post(
            "/api/dropship-providers.json",
            json={"name": name, "orderEndpoint": f"{receiver.url}/{name}"},
        ).json()
        feed = client.post("/api/inventory-feeds.json", json={"dropshipProviderId": vendor["id"]})
        client.post("/api/variants.json", json={"sku": f"{name.upper()}-1", "name": name})
        client.put(
            f"/api/inventory-feeds/{feed.json()['id']}/parse-webhook.json",
            json={
                "externalId": name,
                "vendorSku": f"{name.upper()}-1",
                "inventoryQuantity": 5,
                "costPrice": 3,
            },
        )
        vendors[name] = vendor
    client.post("/api/variants.json", json={"sku": "HOUSE-1", "name": "house"})
    client.post(
        f"/api/channels/{store['channelId']}/import-connector-variant-batches.json",
        json=[{"sku": sku, "externalId": sku} for sku in ("ALPHA-1", "BETA-1", "HOUSE-1")],
    )
    variant = client.get("/api/variants.json", params={"where[sku]": "HOUSE-1"}).json()[0]
    client.post("/api/inventory-adjustments.json", json={"variantId": variant["id"], "quantity": 5})
    sale = client.post(
        f"/api/channels/{store['channelId']}/manual-sale.json",
        json={
            "externalId": "o1",
            "saleDefaults": {
                "receiverFirstName": "Ada",
                "receiverAddress1": "1 Way",
                "receiverCountry": "GB",
                "receiverCity": "Leeds",
                "receiverZip": "LS1",
                "receiverPhone": "+44 113 000",
                "reference": "R-77",
                "dateOrdered": "2026-03-04T10:00:00Z",
                "billingAddress1": "Billing Road 9",
                "billingFirstName": "Billie",
                "billingCity": "Billtown",
                "notes": "internal margin note",
            },
            "customer": {"firstName": "Ada", "email": "ada@example.com"},
            "lineItems": [
                {
                    "externalId": "a",
                    "name": "Alpha line",
                    "quantity": 1,
                    "price": 99.5,
                    "variant": {"sku": "ALPHA-1"},
                    "properties": [{"key": "engrave", "value": "A"}],
                },
                {
                    "externalId": "b",
                    "name": "Beta line",
                    "quantity": 1,
                    "price": 77.25,
                    "variant": {"sku": "BETA-1"},
                },
                {
                    "externalId": "h",
                    "name": "House line",
                    "quantity": 1,
                    "price": 10,
                    "variant": {"sku": "HOUSE-1"},
                },
            ],
            "shipping": [{"code": "std", "name": "Standard", "price": 4.99}],
        },
    )
    assert sale.status_code == 200, sale.text
    return store, vendors


def test_a_purchase_order_body_holds_only_that_vendors_lines(
    client, database, receiver, relay, shop
):
    drain(relay, database)
    (alpha,) = [m for m in receiver.received if m.path == "/alpha"]
    body = alpha.body
    text = alpha.raw.decode()
    assert [line["name"] for line in body["sale"]["saleItems"]] == ["Alpha line"]
    assert body["sale"]["saleItems"][0]["properties"] == [{"key": "engrave", "value": "A"}]
    assert [item["name"] for item in body["purchaseItems"]] == ["Alpha line"]
    for foreign in ("Beta line", "BETA-1", "House line", "HOUSE-1", "99.5", "77.25"):
        assert foreign not in text, foreign
    for private in ("Billing Road 9", "internal margin note", "4.99", "billing"):
        assert private not in text, private
    assert body["sale"]["saleDefaults"]["receiverAddress1"] == "1 Way"
    assert body["sale"]["customer"] == {"firstName": "Ada", "email": "ada@example.com"}
    assert body["sale"]["shipping"] == [{"code": "std", "name": "Standard"}]


def test_each_owner_has_its_own_secret_for_the_same_url(client, database, receiver, relay, shop):
    store, vendors = shop
    shared = receiver.url + "/shared"
    client.put(
        f"/api/dropship-providers/{vendors['alpha']['id']}.json", json={"orderEndpoint": shared}
    )
    drain(relay, database)
    receiver.received.clear()
    sale = client.get("/api/sales.json").json()[0]
    assert client.post(f"/api/sales/{sale['id']}/cancel.json", json={}).status_code == 200
    drain(relay, database)
    endpoints = [e for e in client.get("/api/webhook-endpoints.json").json() if e["url"] == shared]
    owners = {(e["ownerType"], e["ownerId"]): e["secret"] for e in endpoints}
    assert set(owners) == {("channel", store["channelId"]), ("vendor", vendors["alpha"]["id"])}
    assert len(set(owners.values())) == 2
    store_secret = owners[("channel", store["channelId"])]
    vendor_secret = owners[("vendor", vendors["alpha"]["id"])]
    to_shared = [m for m in receiver.received if m.path == "/shared"]
    vendor_messages = [m for m in to_shared if "purchase" in m.body]
    store_messages = [m for m in to_shared if "inventory" in m.body]
    assert vendor_messages and store_messages
    for message in vendor_messages:
        assert verify_standard_webhook(vendor_secret, message.headers, message.raw)
        assert not verify_standard_webhook(store_secret, message.headers, message.raw)
    for message in store_messages:
        assert verify_standard_webhook(store_secret, message.headers, message.raw)


def _purchase_of(client, vendor) -> int:
    purchases = client.get(
        "/api/purchases.json", params={"where[dropshipProviderId]": vendor["id"]}
    ).json()
    return purchases[0]["id"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status", "paused"),
        ("priority", 0),
        ("countries", ["DE"]),
        ("countryFilter", "exclude"),
        ("orderSplitting", "splitQuantity"),
        ("externalId", "TAKEN"),
    ],
)
def test_a_vendor_may_not_write_its_routing_fields(vendor_client, field, value):
    path = f"/api/dropship-providers/{vendor_client.vendor_id}.json"
    response = vendor_client.put(path, json={"email": "v@example.com", field: value})
    assert response.status_code == 403
    assert response.json()["errors"] == [{"field": field, "message": response.json()["message"]}]
    assert field in response.json()["message"]
    assert vendor_client.get(path).json()["email"] is None


def test_a_vendor_writes_its_contact_fields(vendor_client):
    path = f"/api/dropship-providers/{vendor_client.vendor_id}.json"
    body = {
        "name": "Renamed",
        "email": "v@example.com",
        "websiteUrl": "https://vendor.example.com",
        "orderEndpoint": "https://vendor.example.com/orders",
        "webhookSecret": "mine",
    }
    response = vendor_client.put(path, json=body)
    assert response.status_code == 200, response.text
    assert {k: response.json()[k] for k in body} == body


def test_a_vendor_reports_on_its_items_but_sets_no_override(client, database, vendor_client):
    feed = client.post(
        "/api/inventory-feeds.json", json={"dropshipProviderId": vendor_client.vendor_id}
    ).json()
    item = vendor_client.put(
        f"/api/inventory-feeds/{feed['id']}/parse-webhook.json",
        json={"externalId": "i", "inventoryQuantity": 1},
    ).json()
    path = f"/api/inventory-feed-variants/{item['id']}.json"
    ok = vendor_client.put(path, json={"inventoryQuantity": 4, "price": 9.5, "name": "Mine"})
    assert ok.status_code == 200 and ok.json()["inventoryQuantity"] == 4
    for field, value in (
        ("variantId", 1),
        ("inventoryQuantityOverride", "manual"),
        ("manualInventoryQuantity", 5000),
        ("allocationBufferOverride", 0),
    ):
        refused = vendor_client.put(path, json={field: value})
        assert refused.status_code == 403
        assert refused.json()["errors"][0]["field"] == field
    feed_path = f"/api/inventory-feeds/{feed['id']}.json"
    refused = vendor_client.put(feed_path, json={"automaticallyConnect": True})
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["field"] == "automaticallyConnect"
    assert client.put(feed_path, json={"allocationBuffer": 2}).status_code == 200


def test_the_readme_lists_the_permission_table():
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    section = readme.split("## Security", 1)[1].split("\n## ", 1)[0]
    for resource in (PROFILE_WRITABLE, FEED_WRITABLE, FEED_VARIANT_WRITABLE):
        line = next(x for x in section.splitlines() if x.startswith(f"| {resource.name} |"))
        listed = set(re.findall(r"`(\w+)`", line))
        assert listed == set(resource.fields), (resource.name, listed ^ resource.fields)


def test_tokens_of_other_vendors_see_nothing_of_the_order(client, database, shop):
    _, vendors = shop
    token = make_token(database, "beta", vendors["beta"]["id"])
    headers = {"Authorization": f"Bearer {token}"}
    alpha_purchase = _purchase_of(client, vendors["alpha"])
    assert client.get(f"/api/purchases/{alpha_purchase}.json", headers=headers).status_code == 404
    listed = client.get("/api/purchases.json", headers=headers).json()
    assert [p["dropshipProviderId"] for p in listed] == [vendors["beta"]["id"]]


def _signed_in_portal(app, database, vendor_id):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from dropwire.auth.users import create_user

    with database.transaction() as session:
        create_user(
            session,
            email="po@alpha.test",
            password="a long password",
            dropship_provider_id=vendor_id,
        )
    portal = TestClient(app, raise_server_exceptions=False)
    form = portal.get("/sign-in")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert csrf is not None
    signed = portal.post(
        "/sign-in",
        data={
            "email": "po@alpha.test",
            "password": "a long password",
            "csrf_token": csrf.group(1),
            "next": "/vendor",
        },
        follow_redirects=False,
    )
    assert signed.status_code == 303
    return portal


def _leaves(value, path=()):  # type: ignore[no-untyped-def]
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _leaves(inner, (*path, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _leaves(inner, (*path, index))
    else:
        yield path, value


def test_a_vendor_sees_one_view_of_a_sale_everywhere(app, client, database, receiver, relay, shop):
    """The purchase-order webhook, `include=Sale` (purchases and fulfillments) with the
    vendor's token and the vendor portal show the same fields of the sale, no more."""
    from html import escape

    _, vendors = shop
    alpha = vendors["alpha"]["id"]
    drain(relay, database)
    (message,) = [m for m in receiver.received if m.path == "/alpha"]
    webhook = dict(message.body["sale"])
    webhook.pop("saleItems")
    token = make_token(database, "alpha", alpha)
    headers = {"Authorization": f"Bearer {token}"}
    included = client.get(
        "/api/purchases.json", params={"include[0][model]": "Sale"}, headers=headers
    ).json()
    (purchase,) = included
    assert purchase["sale"] == webhook  # field by field, nothing more on either side
    shipped = client.post(
        f"/api/purchases/{purchase['id']}/ship.json",
        json={"trackingCompany": "UPS", "trackingNumber": "1Z"},
        headers=headers,
    )
    assert shipped.status_code in (200, 201), shipped.text
    fulfillments = client.get(
        "/api/fulfillments.json", params={"include[0][model]": "Sale"}, headers=headers
    ).json()
    assert [f["sale"] for f in fulfillments] == [webhook]
    admin_view = client.get("/api/purchases.json", params={"include[0][model]": "Sale"}).json()[0][
        "sale"
    ]
    assert admin_view["saleDefaults"]["billingAddress1"] == "Billing Road 9"  # admins see all

    page = _signed_in_portal(app, database, alpha).get(f"/vendor/purchases/{purchase['id']}")
    assert page.status_code == 200
    shown = {
        path: value
        for path, value in _leaves(webhook)
        if isinstance(value, str) and path[-1] != "dateOrdered"  # shown as its day
    }
    assert shown[("saleDefaults", "receiverCity")] == "Leeds"
    missing = [path for path, value in shown.items() if escape(value) not in page.text]
    assert missing == []
    assert webhook["dateOrdered"][:10] in page.text
    for private in ("Billing Road 9", "Billie", "Billtown", "internal margin note", "4.99", "99.5"):
        for place, text in (
            ("webhook", message.raw.decode()),
            ("include", str(included)),
            ("fulfillments", str(fulfillments)),
            ("portal", page.text),
        ):
            assert private not in text, (place, private)
