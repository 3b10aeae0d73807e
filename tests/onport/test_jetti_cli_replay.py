"""The open-source Jetti CLI's API commands, replayed as the CLI sends them.

Each request is what the CLI's `throttle` helper builds: `{host}/api/{path}.json?` plus
`qs.stringify(searchParams)` (brackets percent-encoded, arrays indexed, null as an empty value),
a JSON body where the command has one, and `from` added by its `paginate` helper. Every answer
must be a 2xx carrying the attributes and includes the command asked for.
"""

from typing import Any
from urllib.parse import quote

import pytest

from dropwire.auth.users import create_user
from dropwire.jobs.service import run_pending


def qs_stringify(value: Any, prefix: str = "") -> list[str]:
    """`qs.stringify` of a JSON-like value (its defaults: indices, RFC 3986 encoding)."""
    if isinstance(value, dict):
        pairs = []
        for key, item in value.items():
            pairs += qs_stringify(item, f"{prefix}[{key}]" if prefix else str(key))
        return pairs
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in qs_stringify(item, f"{prefix}[{i}]")]
    text = "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)
    return [f"{quote(prefix, safe='')}={quote(text, safe='')}"]


def cli_url(path: str, search: dict[str, Any] | None = None) -> str:
    return "/api/" + path + ".json?" + "&".join(qs_stringify(search or {}))


@pytest.fixture
def cli(client, anonymous, database):
    """A merchant account with a vendor, stock and one sale, and the CLI signed in."""
    with database.transaction() as session:
        create_user(session, email="owner@shop.example", password="a long owner password")
    login = anonymous.post(
        "/auth/login",
        json={"role": "api", "email": "owner@shop.example", "password": "a long owner password"},
    )
    assert login.status_code == 200, login.text
    assert login.json()["companyId"] == 1
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    vendor = client.post(
        "/api/dropship-providers.json", json={"name": "Acme", "defaultCarrier": "DHL"}
    ).json()
    feed = client.post(
        "/api/inventory-feeds.json", json={"dropshipProviderId": vendor["id"], "name": "Stock"}
    ).json()
    client.post("/api/variants.json", json={"sku": "TENT", "name": "Tent", "grams": 500})
    client.put(
        f"/api/inventory-feeds/{feed['id']}/parse-webhook.json",
        json={"externalId": "TENT", "vendorSku": "TENT", "inventoryQuantity": 10},
    )
    client.post(
        "/api/shipping-rates.json",
        json={"dropshipProviderId": vendor["id"], "name": "Standard", "price": 4.5},
    )
    channel = client.post("/api/channels.json", json={"name": "Store"}).json()
    sale = client.post(
        f"/api/channels/{channel['id']}/manual-sale.json",
        json={
            "externalId": 1001,
            "saleDefaults": {"receiverCountry": "GB"},
            "lineItems": [
                {"externalId": 1, "quantity": 2, "price": 30, "variant": {"sku": "TENT"}}
            ],
            "shipping": [{"code": "std", "name": "Standard", "price": 5}],
        },
    ).json()
    client.post(f"/api/inventory-feeds/{feed['id']}/export.json")
    run_pending(database)

    class Account:
        pass

    account = Account()
    account.client = anonymous
    account.headers = headers
    account.sale = sale
    account.purchase = sale["purchases"][0]
    account.vendor = vendor
    return account


def test_auth_token_then_users_list_and_create(cli):
    token = cli.client.post(
        cli_url("users"), json={"email": "dev@shop.example", "role": "api"}, headers=cli.headers
    )
    assert token.status_code == 201, token.text
    headers = {"Authorization": f"Bearer {token.json()['token']}"}  # the CLI switches to it
    created = cli.client.post(
        cli_url("users"), json={"email": "admin@shop.example", "role": "admin"}, headers=headers
    )
    assert created.status_code == 201
    assert created.json()["email"] == "admin@shop.example"
    search = {
        "where": {"role": {"$notIn": ["dropship_provider", "reseller"]}},
        "attributes": ["id", "email", "firstName", "lastName", "role"],
        "order": {"attribute": "createdAt", "descending": True},
        "from": 0,
    }
    listed = cli.client.get(cli_url("users", search), headers=headers)
    assert listed.status_code == 200, listed.text
    assert listed.json()[0]["email"] == "admin@shop.example"
    assert all(set(row) == set(search["attributes"]) for row in listed.json())


def test_inventory_feeds_list(cli):
    search = {
        "where": {},
        "include": [{"model": "DropshipProvider", "attributes": ["name"]}],
        "attributes": ["id", "name", "resourceType"],
        "order": {"attribute": "createdAt", "descending": True},
        "from": 0,
    }
    response = cli.client.get(cli_url("inventory-feeds", search), headers=cli.headers)
    assert response.status_code == 200, response.text
    (feed,) = response.json()
    assert feed["name"] == "Stock"
    assert feed["resourceType"] == "webhook"
    assert feed["dropshipProvider"] == {"name": "Acme"}


def test_purchases_list(cli):
    search = {
        "limit": 10,
        "where": {"saleId": {"$ne": None}},
        "attributes": ["id", "reference"],
        "include": [{"models": "DropshipProvider", "attributes": ["name"]}],
        "order": {"attribute": "createdAt", "descending": True},
    }
    response = cli.client.get(cli_url("purchases", search), headers=cli.headers)
    assert response.status_code == 200, response.text
    assert response.json() == [
        {
            "id": cli.purchase["id"],
            "reference": cli.purchase["reference"],
            "dropshipProvider": {"name": "Acme"},
        }
    ]


def test_data_exports_list(cli):
    search = {
        "limit": 10,
        "where": {"status": "complete"},
        "attributes": ["exportType", "status", "fileUri"],
        "order": {"attribute": "createdAt", "descending": True},
    }
    response = cli.client.get(cli_url("data-exports", search), headers=cli.headers)
    assert response.status_code == 200, response.text
    assert [(e["exportType"], e["status"]) for e in response.json()] == [
        ("inventory_feed", "complete")
    ]
    assert response.json()[0]["fileUri"].endswith("/download")


def test_purchases_rates_then_default_label(cli):
    path = f"purchases/{cli.purchase['id']}"
    rates = cli.client.post(cli_url(f"{path}/rates"), headers=cli.headers)
    assert rates.status_code == 200, rates.text
    assert [(r["name"], r["price"], r["grams"]) for r in rates.json()] == [("Standard", 4.5, 1000)]
    label = cli.client.put(cli_url(f"{path}/default-label"), headers=cli.headers)
    assert label.status_code == 200, label.text
    assert label.json()["trackingCompany"] == "DHL"


def test_sales_clone_and_update(cli):
    sale_id = cli.sale["id"]
    clone = cli.client.post(
        cli_url(f"sales/{sale_id}/clone"), json={"cloneShippingRates": True}, headers=cli.headers
    )
    assert clone.status_code == 201, clone.text
    assert clone.json()["shipping"] == cli.sale["shipping"]
    updated = cli.client.put(
        cli_url(f"sales/{sale_id}"), json={"notes": "call first"}, headers=cli.headers
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["saleDefaults"]["notes"] == "call first"


def test_api_batch(cli):
    ids = cli.client.get(
        cli_url("dropship-providers", {"attributes": ["id"], "from": 0}), headers=cli.headers
    )
    assert ids.status_code == 200
    assert ids.json() == [{"id": cli.vendor["id"]}]
    for row in ids.json():
        put = cli.client.put(
            cli_url(f"dropship-providers/{row['id']}"), json={"priority": 5}, headers=cli.headers
        )
        assert put.status_code == 200, put.text
        assert put.json()["priority"] == 5


def test_data_imports_list(cli):
    search = {
        "limit": 10,
        "where": {},
        "attributes": ["id", "importType", "status", "rowsFailed", "createdAt"],
        "order": {"attribute": "createdAt", "descending": True},
    }
    empty = cli.client.get(cli_url("data-imports", search), headers=cli.headers)
    assert empty.status_code == 200, empty.text
    assert empty.json() == []
    queued = cli.client.post(
        cli_url("data-imports"),
        json={"importType": "variants", "content": "sku,grams\nTENT,600\n"},
        headers=cli.headers,
    )
    assert queued.status_code == 202, queued.text
    listed = cli.client.get(cli_url("data-imports", search), headers=cli.headers).json()
    assert [(i["importType"], i["status"]) for i in listed] == [("variants", "pending")]
    assert set(listed[0]) == set(search["attributes"])
