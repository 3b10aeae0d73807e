def test_create_variant_creates_its_product(client):
    response = client.post(
        "/api/variants.json",
        json={"sku": "TENT-2P", "name": "Two-person tent", "price": 199.9, "costPrice": "120.455"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["sku"] == "TENT-2P"
    assert body["price"] == 199.9
    assert body["costPrice"] == 120.46
    assert body["inventoryPolicy"] == "track"
    assert body["inventoryQuantity"] == 0
    products = client.get("/api/products.json").json()
    assert products[0]["name"] == "Two-person tent"
    assert [v["sku"] for v in products[0]["variants"]] == ["TENT-2P"]


def test_variants_of_one_product(client):
    first = client.post("/api/variants.json", json={"sku": "MUG-R", "name": "Mug red"}).json()
    second = client.post(
        "/api/variants.json",
        json={
            "sku": "MUG-B",
            "name": "Mug blue",
            "productId": first["productId"],
            "options": [{"name": "Colour", "value": "Blue"}],
        },
    )
    assert second.status_code == 201
    assert second.json()["options"] == [{"name": "Colour", "value": "Blue"}]
    listing = client.get(f"/api/variants.json?where[productId]={first['productId']}")
    assert listing.headers["X-Total-Count"] == "2"


def test_duplicate_sku_is_409_naming_sku(client):
    client.post("/api/variants.json", json={"sku": "A-1", "name": "A"})
    response = client.post("/api/variants.json", json={"sku": "A-1", "name": "B"})
    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "sku"
    assert client.get("/api/variants.json").headers["X-Total-Count"] == "1"
    assert client.get("/api/products.json").headers["X-Total-Count"] == "1"


def test_case_insensitive_skus_setting(client, configure):

    client.post("/api/variants.json", json={"sku": "abc-1", "name": "A"})
    assert client.post("/api/variants.json", json={"sku": "ABC-1", "name": "B"}).status_code == 201
    configure(case_insensitive_skus="true")
    response = client.post("/api/variants.json", json={"sku": "Abc-1", "name": "C"})
    assert response.status_code == 409


def test_update_variant(client):
    variant = client.post("/api/variants.json", json={"sku": "A-1", "name": "A"}).json()
    response = client.put(
        f"/api/variants/{variant['id']}.json", json={"inventoryPolicy": "continue", "sku": "A-2"}
    )
    assert response.status_code == 200
    assert response.json()["inventoryPolicy"] == "continue"
    assert response.json()["sku"] == "A-2"
    assert response.json()["name"] == "A"


def test_bad_variant_input(client):
    cases = [
        ({"sku": "", "name": "x"}, "sku"),
        ({"sku": "x"}, "name"),
        ({"sku": "x", "name": "x", "price": "cheap"}, "price"),
        ({"sku": "x", "name": "x", "price": -1}, "price"),
        ({"sku": "x", "name": "x", "inventoryPolicy": "sometimes"}, "inventoryPolicy"),
        ({"sku": "x", "name": "x", "productId": 999}, "productId"),
    ]
    for body, field in cases:
        response = client.post("/api/variants.json", json=body)
        assert response.status_code == 422, body
        assert response.json()["errors"][0]["field"] == field
    assert client.get("/api/variants.json").json() == []
    assert client.get("/api/products.json").json() == []
    assert client.get("/api/variants/999.json").status_code == 404
