from tests.sales.conftest import World


def vendor_of(world: World, purchase: dict) -> str:
    return next(
        name for name, v in world.vendors.items() if v["id"] == purchase["dropshipProviderId"]
    )


def test_one_sale_split_into_a_purchase_order_per_vendor(world: World):
    for sku, vendor in (("TENT", "north"), ("DUVET", "baltic"), ("MUG", "kiln")):
        world.variant(sku)
        world.stock(vendor, sku, 10)
    response = world.post("o-1", [("l1", "TENT", 2), ("l2", "DUVET", 1), ("l3", "MUG", 1)])
    assert response.status_code == 200, response.text
    sale = response.json()
    assert sale["reference"] == "10001"
    assert sale["saleItems"][0]["quantityOpen"] == 2
    by_vendor = {vendor_of(world, p): p for p in sale["purchases"]}
    assert set(by_vendor) == {"north", "baltic", "kiln"}
    assert sorted(p["externalReference"] for p in sale["purchases"]) == [
        "10001-01",
        "10001-02",
        "10001-03",
    ]
    assert by_vendor["north"]["purchaseItems"][0]["quantity"] == 2
    detail = world.client.get(f"/api/variants/{world.variants['TENT']['id']}/inventory.json").json()
    assert (detail["stocked"], detail["allocated"], detail["available"]) == (10, 2, 8)
    assert detail["recentSales"][0]["reference"] == "10001"


def test_split_quantity_makes_a_purchase_order_per_unit(world: World):
    world.variant("MUG")
    world.stock("kiln", "MUG", 5)
    sale = world.post("o-1", [("l1", "MUG", 3)]).json()
    assert len(sale["purchases"]) == 3
    assert all(p["purchaseItems"][0]["quantity"] == 1 for p in sale["purchases"])


def test_in_stock_then_priority_then_cost(world: World):
    world.variant("TENT")
    world.stock("north", "TENT", 1, cost=50)
    world.stock("baltic", "TENT", 5, cost=40)
    sale = world.post("o-1", [("l1", "TENT", 1)]).json()
    assert vendor_of(world, sale["purchases"][0]) == "north"  # priority beats cost
    sale = world.post("o-2", [("l1", "TENT", 2)]).json()
    assert vendor_of(world, sale["purchases"][0]) == "baltic"  # north is out of stock now
    world.client.put(
        f"/api/dropship-providers/{world.vendors['north']['id']}.json", json={"priority": 20}
    )
    world.stock("north", "TENT", 10, cost=50)
    sale = world.post("o-3", [("l1", "TENT", 1)]).json()
    assert vendor_of(world, sale["purchases"][0]) == "baltic"  # same priority: cheaper wins


def test_vendors_that_do_not_ship_to_the_country_are_skipped(world: World):
    world.variant("TENT")
    world.client.put(
        f"/api/dropship-providers/{world.vendors['north']['id']}.json",
        json={"countries": ["DE"], "countryFilter": "exclude"},
    )
    world.stock("north", "TENT", 5)
    world.stock("baltic", "TENT", 5)
    sale = world.post("o-1", [("l1", "TENT", 1)], country="DE").json()
    assert vendor_of(world, sale["purchases"][0]) == "baltic"
    sale = world.post("o-2", [("l1", "TENT", 1)], country="FR").json()
    assert vendor_of(world, sale["purchases"][0]) == "north"


def test_in_house_stock_goes_first(world: World):
    variant = world.variant("TENT")
    world.stock("north", "TENT", 5)
    world.client.post(
        "/api/inventory-adjustments.json", json={"variantId": variant["id"], "quantity": 3}
    )
    sale = world.post("o-1", [("l1", "TENT", 2)]).json()
    purchase = sale["purchases"][0]
    assert purchase["isDropship"] is False
    assert purchase["warehouseId"] is not None


def test_unroutable_and_unknown_lines_are_kept_with_problems(world: World):
    world.variant("TENT")
    world.stock("north", "TENT", 1)
    sale = world.post("o-1", [("l1", "TENT", 3), ("l2", "NOPE", 1)]).json()
    assert sale["purchases"] == []
    assert len(sale["saleItems"]) == 2
    problems = " ".join(sale["dropshipProblems"])
    assert "no source can supply 3 of TENT" in problems
    assert "NOPE" in problems


def test_identical_repost_changes_nothing(world: World):
    world.variant("TENT")
    world.stock("north", "TENT", 5)
    first = world.post("o-1", [("l1", "TENT", 2)]).json()
    movements = world.client.get("/api/inventory-movements.json").headers["X-Total-Count"]
    again = world.post("o-1", [("l1", "TENT", 2)]).json()
    assert again["id"] == first["id"]
    assert again["updatedAt"] == first["updatedAt"]
    assert again["saleItems"] == first["saleItems"]
    assert world.client.get("/api/inventory-movements.json").headers["X-Total-Count"] == movements
    assert world.client.get("/api/sales.json").headers["X-Total-Count"] == "1"


def test_repost_applies_differences(world: World):
    world.variant("TENT")
    world.variant("MUG")
    world.stock("north", "TENT", 10)
    world.stock("baltic", "MUG", 10)
    world.post("o-1", [("l1", "TENT", 2), ("l2", "MUG", 1)])
    sale = world.post("o-1", [("l1", "TENT", 5), ("l3", "MUG", 2)]).json()
    items = {i["externalId"]: i for i in sale["saleItems"]}
    assert items["l1"]["quantity"] == 5
    assert items["l2"]["quantityCancelled"] == 1
    assert items["l3"]["quantity"] == 2
    north = next(p for p in sale["purchases"] if vendor_of(world, p) == "north")
    assert sum(i["quantity"] - i["quantityCancelled"] for i in north["purchaseItems"]) == 5
    tent = world.client.get(f"/api/variants/{world.variants['TENT']['id']}/inventory.json").json()
    assert tent["allocated"] == 5
    sale = world.post("o-1", [("l1", "TENT", 1), ("l3", "MUG", 2)]).json()
    tent = world.client.get(f"/api/variants/{world.variants['TENT']['id']}/inventory.json").json()
    assert tent["allocated"] == 1
    assert {i["externalId"]: i["quantity"] for i in sale["saleItems"]}["l1"] == 1


def test_partial_shipment_then_cancel_the_rest(world: World):
    world.variant("TENT")
    world.stock("north", "TENT", 10)
    sale = world.post("o-1", [("l1", "TENT", 4)]).json()
    purchase = sale["purchases"][0]
    item = purchase["purchaseItems"][0]
    shipped = world.client.post(
        f"/api/purchases/{purchase['id']}/ship.json",
        json={
            "trackingNumber": "1Z999",
            "trackingCompany": "UPS",
            "purchaseItems": [{"id": item["id"], "quantity": 1}],
        },
    )
    assert shipped.status_code == 201, shipped.text
    assert shipped.json()["reference"] == "10001-01-01"
    assert (
        world.client.get(f"/api/purchases/{purchase['id']}.json").json()["inventoryStatus"]
        == "partiallyReceived"
    )
    sale = world.client.get(f"/api/sales/{sale['id']}.json").json()
    assert sale["inventoryStatus"] == "partiallyFulfilled"
    over = world.client.post(
        f"/api/sales/{sale['id']}/cancel.json",
        json={"saleItems": [{"id": sale["saleItems"][0]["id"], "quantity": 4}]},
    )
    assert over.status_code == 422
    cancelled = world.client.post(
        f"/api/sales/{sale['id']}/cancel.json", json={"cancelReason": "customer"}
    )
    assert cancelled.status_code == 200, cancelled.text
    body = cancelled.json()
    assert body["cancellationStatus"] == "partial"
    assert body["inventoryStatus"] == "fulfilled"
    line = body["saleItems"][0]
    assert (
        line["quantity"],
        line["quantityShipped"],
        line["quantityCancelled"],
        line["quantityOpen"],
    ) == (4, 1, 3, 0)
    tent = world.client.get(f"/api/variants/{world.variants['TENT']['id']}/inventory.json").json()
    assert (tent["stocked"], tent["allocated"]) == (9, 0)
    ship_again = world.client.post(f"/api/purchases/{purchase['id']}/ship.json", json={})
    assert ship_again.status_code == 422


def test_ship_everything_left_and_fulfillment_listing(world: World):
    world.variant("TENT")
    world.stock("north", "TENT", 10)
    sale = world.post("o-1", [("l1", "TENT", 2)]).json()
    purchase = sale["purchases"][0]
    first = world.client.post(
        f"/api/purchases/{purchase['id']}/ship.json", json={"trackingNumber": "A"}
    ).json()
    assert first["fulfillmentItems"][0]["quantity"] == 2
    assert (
        world.client.get(f"/api/sales/{sale['id']}.json").json()["inventoryStatus"] == "fulfilled"
    )
    assert (
        world.client.get(f"/api/fulfillments.json?where[saleId]={sale['id']}").headers[
            "X-Total-Count"
        ]
        == "1"
    )
    assert world.client.get(f"/api/fulfillments/{first['id']}.json").json()["trackingNumber"] == "A"
    over = world.client.post(f"/api/purchases/{purchase['id']}/ship.json", json={})
    assert over.status_code == 422


def test_shipping_more_than_ordered_is_422(world: World):
    world.variant("TENT")
    world.stock("north", "TENT", 10)
    purchase = world.post("o-1", [("l1", "TENT", 2)]).json()["purchases"][0]
    response = world.client.post(
        f"/api/purchases/{purchase['id']}/ship.json",
        json={"purchaseItems": [{"id": purchase["purchaseItems"][0]["id"], "quantity": 3}]},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "purchaseItems[0].quantity"
    assert world.client.get("/api/fulfillments.json").json() == []


def test_channel_cancellation_cancels_when_the_channel_says_so(world: World):
    world.variant("TENT")
    world.stock("north", "TENT", 10)
    world.post("o-1", [("l1", "TENT", 2)])
    sale = world.post("o-1", [("l1", "TENT", 2)], cancelled=True, cancelReason="fraud").json()
    assert sale["cancellationStatus"] == "full"
    assert sale["cancelReason"] == "fraud"
    assert sale["purchases"][0]["cancellationStatus"] == "full"
    tent = world.client.get(f"/api/variants/{world.variants['TENT']['id']}/inventory.json").json()
    assert tent["allocated"] == 0


def test_move_dropship_provider(world: World):
    world.variant("TENT")
    world.stock("north", "TENT", 10)
    world.stock("baltic", "TENT", 10)
    purchase = world.post("o-1", [("l1", "TENT", 3)]).json()["purchases"][0]
    assert vendor_of(world, purchase) == "north"
    moved = world.client.put(
        f"/api/purchases/{purchase['id']}/move-dropship-provider.json",
        json={"dropshipProviderId": world.vendors["baltic"]["id"]},
    )
    assert moved.status_code == 200, moved.text
    assert vendor_of(world, moved.json()) == "baltic"
    detail = world.client.get(f"/api/variants/{world.variants['TENT']['id']}/inventory.json").json()
    allocated = {loc["inventoryFeedId"]: loc["allocated"] for loc in detail["locations"]}
    assert allocated == {world.feeds["north"]["id"]: 0, world.feeds["baltic"]["id"]: 3}


def test_vendor_tokens_see_and_ship_only_their_purchase_orders(world: World, database, anonymous):
    from tests.conftest import make_token

    world.variant("TENT")
    world.variant("MUG")
    world.stock("north", "TENT", 10)
    world.stock("baltic", "MUG", 10)
    sale = world.post("o-1", [("l1", "TENT", 1), ("l2", "MUG", 1)]).json()
    north_po = next(p for p in sale["purchases"] if vendor_of(world, p) == "north")
    baltic_po = next(p for p in sale["purchases"] if vendor_of(world, p) == "baltic")
    headers = {
        "Authorization": f"Bearer {make_token(database, 'north', world.vendors['north']['id'])}"
    }
    listed = anonymous.get("/api/purchases.json", headers=headers).json()
    assert [p["id"] for p in listed] == [north_po["id"]]
    assert (
        anonymous.get(f"/api/purchases/{baltic_po['id']}.json", headers=headers).status_code == 404
    )
    assert (
        anonymous.post(
            f"/api/purchases/{baltic_po['id']}/ship.json", json={}, headers=headers
        ).status_code
        == 404
    )
    assert (
        anonymous.post(
            f"/api/purchases/{north_po['id']}/ship.json", json={}, headers=headers
        ).status_code
        == 201
    )
    assert anonymous.get("/api/sales.json", headers=headers).status_code == 403
    assert (
        world.client.get(f"/api/purchases/{baltic_po['id']}.json").json()["inventoryStatus"]
        == "notReceived"
    )


def test_bad_manual_sale_input_changes_nothing(world: World):
    world.variant("TENT")
    world.stock("north", "TENT", 10)
    url = f"/api/channels/{world.channel_id}/manual-sale.json"
    line = {"externalId": "l1", "quantity": 1, "price": 10, "variant": {"sku": "TENT"}}
    cases = [
        ({"externalId": "x", "lineItems": [{**line, "quantity": 0}]}, "lineItems[0].quantity"),
        ({"externalId": "x", "lineItems": [{**line, "quantity": -2}]}, "lineItems[0].quantity"),
        (
            {
                "externalId": "x",
                "lineItems": [{k: v for k, v in line.items() if k != "externalId"}],
            },
            "lineItems[0].externalId",
        ),
        ({"externalId": "x", "lineItems": [{**line, "price": "ten"}]}, "lineItems[0].price"),
        ({"externalId": "x", "lineItems": [{**line, "variant": {}}]}, "lineItems[0].variant"),
        ({"lineItems": [line]}, "externalId"),
        ({"externalId": "x", "lineItems": []}, "lineItems"),
        ({"externalId": "x", "lineItems": [line, line]}, "body"),
        (
            {"externalId": "x", "lineItems": [line], "saleDefaults": {"receiverCountry": "USA"}},
            "saleDefaults.receiverCountry",
        ),
    ]
    for body, field in cases:
        response = world.client.post(url, json=body)
        assert response.status_code == 422, body
        assert field in [e["field"] for e in response.json()["errors"]], (body, response.json())
    assert (
        world.client.post(
            "/api/channels/999/manual-sale.json", json={"externalId": "x", "lineItems": [line]}
        ).status_code
        == 404
    )
    assert world.client.get("/api/sales.json").json() == []
    assert world.client.get("/api/inventory-movements.json?where[cause]=allocation").json() == []


def test_async_manual_sale(world: World, anonymous, database):
    from dropwire.jobs.service import run_pending

    custom = world.client.post(
        "/api/custom-channels.json", json={"name": "Async", "channelId": world.channel_id}
    ).json()
    world.variant("TENT")
    world.stock("north", "TENT", 5)
    body = {
        "externalId": "a-1",
        "lineItems": [{"externalId": "l1", "quantity": 2, "variant": {"sku": "TENT"}}],
    }
    response = anonymous.post(
        "/webhooks/custom-channels/manual-sale.json",
        json=body,
        headers={"jetti-webhook-hash": custom["webhookHash"]},
    )
    assert response.json() == {"queued": 1}
    bad = {
        "externalId": "a-2",
        "lineItems": [{"externalId": "l1", "quantity": 0, "variant": {"sku": "TENT"}}],
    }
    anonymous.post(
        "/webhooks/custom-channels/manual-sale.json",
        json=bad,
        headers={"jetti-webhook-hash": custom["webhookHash"]},
    )
    run_pending(database)
    imports = world.client.get("/api/sale-imports.json?order=id").json()
    assert [(i["externalId"], i["status"]) for i in imports] == [
        ("a-1", "success"),
        ("a-2", "error"),
    ]
    assert "quantity" in imports[1]["problem"]
    assert world.client.get("/api/sales.json?where[externalId]=a-1").json()[0]["purchases"]


def test_channel_cancellation_of_a_shipped_sale_changes_nothing(world: World):
    world.variant("TENT")
    world.stock("north", "TENT", 10)
    sale = world.post("o-1", [("l1", "TENT", 1)]).json()
    world.client.post(f"/api/purchases/{sale['purchases'][0]['id']}/ship.json", json={})
    response = world.post("o-1", [("l1", "TENT", 1)], cancelled=True)
    assert response.status_code == 200
    assert response.json()["cancellationStatus"] == "none"
    assert response.json()["inventoryStatus"] == "fulfilled"


def test_a_reference_chosen_by_a_channel_is_never_generated_again(world):
    world.variant("REF-1")
    world.stock("north", "REF-1", 10)
    first = world.post("ext-1", [("1", "REF-1", 1)])
    taken = str(int(first.json()["reference"]) + 1)
    assert world.post("ext-2", [("1", "REF-1", 1)], reference=taken).status_code in (200, 201)
    third = world.post("ext-3", [("1", "REF-1", 1)])
    assert third.status_code in (200, 201), third.text
    assert third.json()["reference"] not in (first.json()["reference"], taken)
    renamed = world.post("ext-3", [("1", "REF-1", 1)], reference=taken)
    assert renamed.status_code == 409
    assert renamed.json()["errors"][0]["field"] == "saleDefaults.reference"


def test_an_empty_line_list_is_refused_never_an_empty_fulfillment(world: World):
    world.variant("TARP")
    world.stock("north", "TARP", 10)
    sale = world.post("o-empty", [("l1", "TARP", 3)]).json()
    purchase = sale["purchases"][0]
    empty = world.client.post(
        f"/api/purchases/{purchase['id']}/ship.json", json={"purchaseItems": []}
    )
    assert empty.status_code == 422
    assert empty.json()["errors"][0]["field"] == "purchaseItems"
    nothing = world.client.post(f"/api/sales/{sale['id']}/cancel.json", json={"saleItems": []})
    assert nothing.status_code == 422
    everything = world.client.post(f"/api/purchases/{purchase['id']}/ship.json", json={"ids": []})
    assert [item["quantity"] for item in everything.json()["fulfillmentItems"]] == [3]


def test_a_line_named_twice_is_refused_and_changes_nothing(world: World):
    """Each repeat used to count against the open units alone: a 500 (found by schemathesis)."""
    world.variant("TENT")
    world.stock("north", "TENT", 10)
    sale = world.post("o-twice", [("l1", "TENT", 4)]).json()
    purchase = sale["purchases"][0]
    line = {"id": sale["saleItems"][0]["id"], "quantity": 3}
    cancel = world.client.post(
        f"/api/sales/{sale['id']}/cancel.json", json={"saleItems": [line] * 2}
    )
    assert cancel.status_code == 422, cancel.text
    assert cancel.json()["errors"][0]["field"] == "saleItems"
    po_line = {"id": purchase["purchaseItems"][0]["id"], "quantity": 3}
    ship = world.client.post(
        f"/api/purchases/{purchase['id']}/ship.json", json={"purchaseItems": [po_line] * 2}
    )
    assert ship.status_code == 422, ship.text
    by_ids = world.client.put(
        f"/api/purchases/{purchase['id']}/cancel.json", json={"ids": [po_line["id"]] * 2}
    )
    assert by_ids.status_code == 422, by_ids.text
    after = world.client.get(f"/api/sales/{sale['id']}.json").json()
    assert after["saleItems"][0]["quantityCancelled"] == 0
    assert after["saleItems"][0]["quantityShipped"] == 0


def test_a_reference_a_sale_gave_up_stays_its_own(world):
    """A sale's old reference names its purchase orders (10001-01): another sale asking for it
    would number its own orders the same. It is refused, naming the field, and changes nothing."""
    world.variant("OLD-1")
    world.stock("north", "OLD-1", 10)
    first = world.post("ext-1", [("1", "OLD-1", 1)]).json()
    old = first["reference"]
    assert first["purchases"][0]["externalReference"] == f"{old}-01"
    renamed = world.post("ext-1", [("1", "OLD-1", 2)], reference="R-NEW")
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["reference"] == "R-NEW"

    reused = world.post("ext-2", [("1", "OLD-1", 1)], reference=old)
    assert reused.status_code == 409, reused.text
    assert reused.json()["errors"][0]["field"] == "saleDefaults.reference"
    assert world.client.get("/api/sales.json", params={"where[externalId]": "ext-2"}).json() == []
    other = world.post("ext-3", [("1", "OLD-1", 1)]).json()
    assert world.post("ext-3", [("1", "OLD-1", 1)], reference=old).status_code == 409
    by_put = world.client.put(f"/api/sales/{other['id']}.json", json={"reference": old})
    assert by_put.status_code == 409, by_put.text
    assert by_put.json()["errors"][0]["field"] == "reference"

    back = world.post("ext-1", [("1", "OLD-1", 3)], reference=old)  # its own: it may go back
    assert back.status_code == 200, back.text
    references = [p["externalReference"] for p in back.json()["purchases"]]
    assert len(set(references)) == len(references)


def test_a_reference_given_up_through_put_stays_reserved(world):
    world.variant("OLD-2")
    world.stock("north", "OLD-2", 10)
    first = world.post("ext-1", [("1", "OLD-2", 1)]).json()
    moved = world.client.put(f"/api/sales/{first['id']}.json", json={"reference": "R-PUT"})
    assert moved.status_code == 200, moved.text
    reused = world.post("ext-2", [("1", "OLD-2", 1)], reference=first["reference"])
    assert reused.status_code == 409, reused.text
    assert reused.json()["errors"][0]["field"] == "saleDefaults.reference"
