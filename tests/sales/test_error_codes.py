"""The sales rules a client can act on answer with their own stable codes."""

from tests.sales.conftest import World


def test_a_quantity_below_the_shipped_units_is_refused_with_its_code(world: World):
    world.variant("TENT")
    world.stock("north", "TENT", 10)
    sale = world.post("o-1", [("l1", "TENT", 4)]).json()
    purchase = sale["purchases"][0]
    item = purchase["purchaseItems"][0]
    shipped = world.client.post(
        f"/api/purchases/{purchase['id']}/ship.json",
        json={"purchaseItems": [{"id": item["id"], "quantity": 3}]},
    )
    assert shipped.status_code == 201, shipped.text

    smaller = world.post("o-1", [("l1", "TENT", 2)])

    assert smaller.status_code == 422, smaller.text
    body = smaller.json()
    assert body["code"] == "sale.quantity_below_shipped"
    assert body["title"] == "Unprocessable Entity"
    assert body["errors"][0]["field"] == "lineItems[0].quantity"
    assert "can't go below 3" in body["detail"]


def test_shipping_more_than_is_open_is_refused_with_its_code(world: World):
    world.variant("TENT")
    world.stock("north", "TENT", 10)
    purchase = world.post("o-1", [("l1", "TENT", 2)]).json()["purchases"][0]
    item = purchase["purchaseItems"][0]

    over = world.client.post(
        f"/api/purchases/{purchase['id']}/ship.json",
        json={"purchaseItems": [{"id": item["id"], "quantity": 5}]},
    )

    assert over.status_code == 422, over.text
    assert over.json()["code"] == "purchase.quantity_too_high"
    assert over.json()["errors"][0]["field"] == "purchaseItems[0].quantity"
