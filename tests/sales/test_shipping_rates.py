"""Vendors' rate tables: `purchases/{id}/rates.json` and `channels/{id}/route-shipments.json`."""

from tests.conftest import make_token
from tests.sales.conftest import World


def rate_table(world: World, vendor: str) -> None:
    vendor_id = world.vendors[vendor]["id"]
    for body in (
        {"name": "Flat", "price": 9.5},
        {"name": "Light UK", "price": 3, "countries": ["gb"], "maxGrams": 1000},
        {"name": "Heavy UK", "price": 7, "countries": ["GB"], "minGrams": 1000},
    ):
        created = world.client.post(
            "/api/shipping-rates.json", json={"dropshipProviderId": vendor_id, **body}
        )
        assert created.status_code == 201, created.text


def test_purchase_rates_follow_weight_band_and_country(world: World, database, anonymous):
    tent = world.variant("TENT")
    world.client.put(f"/api/variants/{tent['id']}.json", json={"grams": 600})
    world.stock("north", "TENT", 10)
    rate_table(world, "north")
    one = world.post("o-1", [("l1", "TENT", 1)], country="GB").json()["purchases"][0]
    two = world.post("o-2", [("l1", "TENT", 2)], country="GB").json()["purchases"][0]
    abroad = world.post("o-3", [("l1", "TENT", 1)], country="FR").json()["purchases"][0]
    headers = {"Authorization": f"Bearer {make_token(database, 'n', world.vendors['north']['id'])}"}

    def names(po: dict) -> list[tuple[str, float, int]]:
        response = anonymous.post(f"/api/purchases/{po['id']}/rates.json", headers=headers)
        assert response.status_code == 200, response.text
        return [(q["name"], q["price"], q["grams"]) for q in response.json()]

    assert names(one) == [("Light UK", 3.0, 600), ("Flat", 9.5, 600)]
    assert names(two) == [("Heavy UK", 7.0, 1200), ("Flat", 9.5, 1200)]
    assert names(abroad) == [("Flat", 9.5, 600)]


def test_another_vendors_purchase_has_no_rates_for_a_vendor_token(world, database, anonymous):
    world.variant("TENT")
    world.stock("north", "TENT", 10)
    po = world.post("o-1", [("l1", "TENT", 1)]).json()["purchases"][0]
    headers = {
        "Authorization": f"Bearer {make_token(database, 'b', world.vendors['baltic']['id'])}"
    }
    response = anonymous.post(f"/api/purchases/{po['id']}/rates.json", headers=headers)
    assert response.status_code == 404


def test_route_shipments_groups_the_cart_by_vendor_with_rates(world: World):
    world.variant("TENT")
    world.variant("MUG")
    world.variant("GHOST")
    world.stock("north", "TENT", 10)
    world.stock("baltic", "MUG", 10)
    rate_table(world, "north")
    response = world.client.post(
        f"/api/channels/{world.channel_id}/route-shipments.json",
        json={
            "destination": {"country": "GB"},
            "items": [
                {"sku": "TENT", "quantity": 2, "grams": 400},
                {"sku": "MUG", "quantity": 1},
                {"sku": "GHOST", "quantity": 1},
            ],
        },
    )
    assert response.status_code == 200, response.text
    by_vendor = {s["dropshipProviderId"]: s for s in response.json()}
    north = by_vendor[world.vendors["north"]["id"]]
    assert north["grams"] == 800
    assert [r["name"] for r in north["rates"]] == ["Light UK", "Flat"]
    assert north["cheapest"] == 3.0
    assert by_vendor[world.vendors["baltic"]["id"]]["rates"] == []
    assert [i["sku"] for i in by_vendor[None]["items"]] == ["GHOST"]


def test_bad_rate_bodies_are_422_naming_the_field(world: World):
    vendor_id = world.vendors["north"]["id"]
    bad = world.client.post(
        "/api/shipping-rates.json",
        json={"dropshipProviderId": vendor_id, "name": "x", "price": 1, "countries": ["GBR"]},
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"].startswith("countries")
    unknown = world.client.post(
        f"/api/channels/{world.channel_id}/route-shipments.json",
        json={"items": [{"sku": "NOPE"}]},
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "items[0]"
