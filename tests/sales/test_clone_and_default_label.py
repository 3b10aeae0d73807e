"""Onport's sale clone and the vendor portal's "ship with the default label" button."""

from tests.conftest import make_token
from tests.sales.conftest import World


def test_default_label_ships_what_is_left_with_the_vendors_carrier(
    world: World, database, anonymous
):
    world.variant("TENT")
    world.stock("north", "TENT", 10)
    sale = world.post("o-1", [("l1", "TENT", 3)]).json()
    po = sale["purchases"][0]
    url = f"/api/purchases/{po['id']}/default-label.json"
    body = {"inventoryStatus": "shipped", "ids": []}
    refused = world.client.put(url, json=body)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "defaultCarrier"
    vendor_id = world.vendors["north"]["id"]
    world.client.put(
        f"/api/dropship-providers/{vendor_id}.json",
        json={"defaultCarrier": "DHL", "defaultServiceLevel": "Express"},
    )
    headers = {"Authorization": f"Bearer {make_token(database, 'north', vendor_id)}"}
    shipped = anonymous.put(url, json=body, headers=headers)
    assert shipped.status_code == 200, shipped.text
    fulfillment = shipped.json()
    assert fulfillment["trackingCompany"] == "DHL"
    assert fulfillment["serviceLevel"] == "Express"
    assert [i["quantity"] for i in fulfillment["fulfillmentItems"]] == [3]
    assert (
        world.client.get(f"/api/purchases/{po['id']}.json").json()["inventoryStatus"] == "received"
    )
    again = anonymous.put(url, json=body, headers=headers)
    assert again.status_code == 422


def test_default_label_of_chosen_items(world: World):
    world.variant("TENT")
    world.variant("MUG")
    world.stock("north", "TENT", 10)
    world.stock("north", "MUG", 10)
    world.client.put(
        f"/api/dropship-providers/{world.vendors['north']['id']}.json",
        json={"defaultCarrier": "UPS"},
    )
    po = world.post("o-1", [("l1", "TENT", 1), ("l2", "MUG", 2)]).json()["purchases"][0]
    mug = next(i for i in po["purchaseItems"] if i["quantity"] == 2)
    shipped = world.client.put(
        f"/api/purchases/{po['id']}/default-label.json",
        json={"inventoryStatus": "shipped", "ids": [mug["id"]]},
    ).json()
    assert [i["purchaseItemId"] for i in shipped["fulfillmentItems"]] == [mug["id"]]
    after = world.client.get(f"/api/purchases/{po['id']}.json").json()
    assert after["inventoryStatus"] == "partiallyReceived"


def test_clone_makes_an_exchange_with_the_shipping_rates(world: World):
    world.variant("TENT")
    world.variant("MUG")
    world.stock("north", "TENT", 10)
    world.stock("north", "MUG", 10)
    sale = world.post("o-1", [("l1", "TENT", 2), ("l2", "MUG", 1)], billingFirstName="Grace").json()
    cloned = world.client.post(
        f"/api/sales/{sale['id']}/clone.json", json={"cloneShippingRates": True}
    )
    assert cloned.status_code == 201, cloned.text
    clone = cloned.json()
    assert clone["clonedFromSaleId"] == sale["id"]
    assert clone["cloneReason"] == "exchange"
    assert clone["reference"] != sale["reference"]
    assert clone["externalId"] == "o-1-clone-1"
    assert clone["shipping"] == sale["shipping"]
    assert clone["saleDefaults"]["billingFirstName"] == "Grace"
    assert sorted((i["sku"], i["quantity"]) for i in clone["saleItems"]) == [
        ("MUG", 1),
        ("TENT", 2),
    ]
    assert len(clone["purchases"]) == 1  # routed like any sale


def test_clone_of_chosen_items_as_a_new_sale(world: World):
    world.variant("TENT")
    world.variant("MUG")
    world.stock("north", "TENT", 10)
    world.stock("north", "MUG", 10)
    sale = world.post("o-1", [("l1", "TENT", 2), ("l2", "MUG", 1)]).json()
    tent = next(i for i in sale["saleItems"] if i["sku"] == "TENT")
    clone = world.client.post(
        f"/api/sales/{sale['id']}/clone.json",
        json={"cloneReason": "new_sale", "saleItems": [{"id": tent["id"], "quantity": 1}]},
    ).json()
    assert clone["cloneReason"] == "new_sale"
    assert clone["shipping"] == []
    assert [(i["sku"], i["quantity"]) for i in clone["saleItems"]] == [("TENT", 1)]
    second = world.client.post(f"/api/sales/{sale['id']}/clone.json").json()
    assert second["externalId"] == "o-1-clone-2"


def test_clone_refuses_lines_of_another_sale(world: World):
    world.variant("TENT")
    world.stock("north", "TENT", 10)
    sale = world.post("o-1", [("l1", "TENT", 2)]).json()
    other = world.post("o-2", [("l1", "TENT", 1)]).json()
    response = world.client.post(
        f"/api/sales/{sale['id']}/clone.json",
        json={"saleItems": [{"id": other["saleItems"][0]["id"], "quantity": 1}]},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "saleItems[0].id"
    assert len(world.client.get("/api/sales.json").json()) == 2


def test_clone_of_a_sale_with_the_longest_external_id(world: World):
    """Found by schemathesis as a 500: `{externalId}-clone-1` outgrew the 255 characters."""
    world.variant("TENT")
    world.stock("north", "TENT", 10)
    long_id = "x" * 255
    sale = world.post(long_id, [("l1", "TENT", 1)]).json()
    first = world.client.post(f"/api/sales/{sale['id']}/clone.json")
    assert first.status_code == 201, first.text
    assert first.json()["externalId"] == "x" * 247 + "-clone-1"
    second = world.client.post(f"/api/sales/{sale['id']}/clone.json").json()
    assert second["externalId"] == "x" * 247 + "-clone-2"


def test_clone_never_takes_over_a_sale_named_like_a_clone(world: World):
    world.variant("TENT")
    world.stock("north", "TENT", 10)
    sale = world.post("o-1", [("l1", "TENT", 1)]).json()
    namesake = world.post("o-1-clone-1", [("l1", "TENT", 3)]).json()
    clone = world.client.post(f"/api/sales/{sale['id']}/clone.json").json()
    assert clone["externalId"] == "o-1-clone-2"
    kept = world.client.get(f"/api/sales/{namesake['id']}.json").json()
    assert [i["quantity"] for i in kept["saleItems"]] == [3]
