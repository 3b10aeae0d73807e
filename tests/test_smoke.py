def test_health(anonymous):
    assert anonymous.get("/health").json() == {"status": "ok"}


def test_create_vendor(client):
    r = client.post("/api/dropship-providers.json", json={"name": "Acme"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["name"] == "Acme" and body["countryFilter"] == "all"
    r = client.get("/api/dropship-providers.json")
    assert r.headers["X-Total-Count"] == "1"
