"""Fields Onport's clients send that Dropwire used to ignore, now applied."""

from tests.conftest import make_token
from tests.sales.conftest import World


def test_manual_sale_keeps_its_source_and_finds_variants_by_external_sku(world: World):
    world.variant("TENT")
    world.stock("north", "TENT", 10)
    channel = world.channel_id
    response = world.client.post(
        f"/api/channels/{channel}/manual-sale.json",
        json={
            "externalId": "o-9",
            "source": "custom",
            "lineItems": [
                {"externalId": "a", "quantity": 1, "variant": {"externalSku": "TENT"}},
                {"externalId": "b", "quantity": 1, "variant": {"externalSku": "NOPE"}},
            ],
        },
    )
    assert response.status_code == 200, response.text
    assert "Dropwire-Ignored-Fields" not in response.headers
    sale = response.json()
    assert sale["source"] == "custom"
    found, missing = sale["saleItems"]
    assert (found["variantId"], found["sku"]) == (world.variants["TENT"]["id"], "TENT")
    assert missing["variantId"] is None
    assert "NOPE" in missing["problem"]


def test_purchase_status_with_notes(world: World, database, anonymous):
    world.variant("TENT")
    world.stock("north", "TENT", 10)
    po = world.post("o-1", [("l1", "TENT", 1)]).json()["purchases"][0]
    statuses = world.client.get("/api/purchase-statuses.json?where[name]=Acknowledged").json()
    headers = {"Authorization": f"Bearer {make_token(database, 'n', world.vendors['north']['id'])}"}
    response = anonymous.put(
        f"/api/purchases/{po['id']}.json",
        json={"purchaseStatusId": statuses[0]["id"], "notes": "ships Monday"},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    assert "Dropwire-Ignored-Fields" not in response.headers
    assert response.json()["notes"] == "ships Monday"
    assert world.client.get(f"/api/purchases/{po['id']}.json").json()["notes"] == "ships Monday"


def test_purchase_cancel_with_status_and_whole_lines(world: World):
    world.variant("TENT")
    world.stock("north", "TENT", 10)
    po = world.post("o-1", [("l1", "TENT", 3)]).json()["purchases"][0]
    item = po["purchaseItems"][0]
    response = world.client.put(
        f"/api/purchases/{po['id']}/cancel.json",
        json={
            "setQuantities": False,
            "purchaseItems": [{"id": item["id"], "quantity": 1}],
            "status": "rejected",
            "notes": "out of stock",
        },
    )
    assert response.status_code == 200, response.text
    assert "Dropwire-Ignored-Fields" not in response.headers
    cancelled = response.json()
    assert cancelled["purchaseItems"][0]["quantityCancelled"] == 3
    assert cancelled["notes"] == "out of stock"
    rejected = world.client.get("/api/purchase-statuses.json?where[name]=Rejected").json()[0]
    assert cancelled["purchaseStatusId"] == rejected["id"]


def test_purchase_cancel_with_quantities_and_an_unknown_status(world: World):
    world.variant("TENT")
    world.stock("north", "TENT", 10)
    po = world.post("o-1", [("l1", "TENT", 3)]).json()["purchases"][0]
    item = po["purchaseItems"][0]
    url = f"/api/purchases/{po['id']}/cancel.json"
    unknown = world.client.put(
        url, json={"purchaseItems": [{"id": item["id"], "quantity": 1}], "status": "Lost"}
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "status"
    assert world.client.get(f"/api/purchases/{po['id']}.json").json()["purchaseStatusId"] is None
    partial = world.client.put(
        url, json={"setQuantities": True, "purchaseItems": [{"id": item["id"], "quantity": 1}]}
    ).json()
    assert partial["purchaseItems"][0]["quantityCancelled"] == 1
