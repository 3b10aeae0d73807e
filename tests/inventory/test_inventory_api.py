def variant(client, sku="A-1"):
    return client.post("/api/variants.json", json={"sku": sku, "name": sku}).json()["id"]


def test_adjust_by_delta_and_set(client):
    v = variant(client)
    first = client.post("/api/inventory-adjustments.json", json={"variantId": v, "quantity": 10})
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["level"]["stocked"] == 10
    assert body["level"]["available"] == 10
    assert body["movement"]["cause"] == "adjustment"
    assert body["movement"]["actor"] == "admin"
    second = client.post(
        "/api/inventory-adjustments.json", json={"variantId": v, "setStocked": 4, "reason": "count"}
    ).json()
    assert second["movement"]["deltaStocked"] == -6
    assert second["movement"]["reason"] == "count"
    assert client.get(f"/api/variants/{v}.json").json()["inventoryQuantity"] == 4


def test_adjust_a_named_warehouse(client):
    v = variant(client)
    east = client.post("/api/warehouses.json", json={"name": "East"}).json()
    response = client.post(
        "/api/inventory-adjustments.json",
        json={"variantId": v, "warehouseId": east["id"], "quantity": 2},
    )
    assert response.json()["warehouseId"] == east["id"]
    detail = client.get(f"/api/variants/{v}/inventory.json").json()
    assert [(loc["locationName"], loc["stocked"]) for loc in detail["locations"]] == [("East", 2)]


def test_movements_are_listed_with_filters(client):
    a, b = variant(client, "A"), variant(client, "B")
    client.post("/api/inventory-adjustments.json", json={"variantId": a, "quantity": 1})
    client.post("/api/inventory-adjustments.json", json={"variantId": b, "quantity": 2})
    response = client.get(f"/api/inventory-movements.json?where[variantId]={b}")
    assert [m["deltaStocked"] for m in response.json()] == [2]
    assert client.get("/api/inventory-movements.json").headers["X-Total-Count"] == "2"


def test_bad_adjustments_write_nothing(client):
    v = variant(client)
    client.post("/api/inventory-adjustments.json", json={"variantId": v, "quantity": 3})
    cases = [
        ({"variantId": v, "quantity": -5}, "quantity"),
        ({"variantId": v, "setStocked": -1}, "setStocked"),
        ({"variantId": v, "quantity": 1, "setStocked": 1}, "body"),
        ({"variantId": v}, "body"),
        ({"variantId": v, "quantity": 1.5}, "quantity"),
        ({"variantId": v, "quantity": "two"}, "quantity"),
        ({"variantId": 999, "quantity": 1}, "variantId"),
        ({"variantId": v, "warehouseId": 999, "quantity": 1}, "warehouseId"),
        ({"variantId": v, "available": 1}, "body"),  # `available` is ignored: no change given
    ]
    for body, field in cases:
        response = client.post("/api/inventory-adjustments.json", json=body)
        assert response.status_code == 422, body
        assert field in [e["field"] for e in response.json()["errors"]], (body, response.json())
    assert client.get("/api/inventory-movements.json").headers["X-Total-Count"] == "1"
    assert client.get(f"/api/variants/{v}.json").json()["inventoryQuantity"] == 3


def test_variant_inventory_detail(client, database):
    from dropwire.inventory import service
    from dropwire.inventory.locations import location_for_warehouse
    from dropwire.inventory.warehouses import ensure_default_warehouse

    v = variant(client)
    client.post("/api/inventory-adjustments.json", json={"variantId": v, "quantity": 5})
    with database.transaction() as session:
        location = location_for_warehouse(
            session, warehouse_id=ensure_default_warehouse(session).id
        )
        service.allocate(
            session,
            requests=[service.AllocationRequest(v, location.id, 2, sale_id=7, sale_item_id=70)],
        )
    detail = client.get(f"/api/variants/{v}/inventory.json").json()
    assert (detail["stocked"], detail["allocated"], detail["available"]) == (5, 2, 3)
    assert detail["locations"][0]["locationKind"] == "warehouse"
    assert detail["allocations"][0]["saleItemId"] == 70
    assert detail["allocations"][0]["openQuantity"] == 2
    assert isinstance(detail["feedVariants"], list)
    assert isinstance(detail["recentSales"], list)
    assert client.get("/api/variants/999/inventory.json").status_code == 404
