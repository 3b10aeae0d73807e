"""`/api/users.json`: API users and their tokens, as Onport's CLI lists and creates them."""

from urllib.parse import quote

from tests.conftest import make_token

NOT_VENDOR_USERS = (
    "where[role][$notIn][0]=dropship_provider&where[role][$notIn][1]=reseller"
    "&attributes[0]=id&attributes[1]=email&attributes[2]=firstName&attributes[3]=lastName"
    "&attributes[4]=role&order[attribute]=createdAt&order[descending]=true&from=0"
)


def test_auth_token_creates_an_api_user_whose_token_works(client, anonymous):
    created = client.post("/api/users.json", json={"email": "dev@example.com", "role": "api"})
    assert created.status_code == 201, created.text
    token = created.json()["token"]
    assert created.json()["role"] == "api"
    mine = anonymous.get("/api/users.json", headers={"Authorization": f"Bearer {token}"})
    assert mine.status_code == 200
    assert "dev@example.com" in [u["email"] for u in mine.json()]
    assert "token" not in mine.json()[0]


def test_users_list_filters_roles_as_the_cli_asks(client):
    vendor = client.post("/api/dropship-providers.json", json={"name": "Acme"}).json()
    client.post("/api/users.json", json={"email": "admin@example.com", "role": "admin"})
    client.post(
        "/api/users.json",
        json={
            "email": "vendor@example.com",
            "role": "dropship_provider",
            "dropshipProviderId": vendor["id"],
        },
    )
    rows = client.get(f"/api/users.json?{NOT_VENDOR_USERS}").json()
    # newest first; the last is the test client's own token
    assert [(r["email"], r["role"]) for r in rows] == [("admin@example.com", "api"), (None, "api")]
    assert set(rows[0]) == {"id", "email", "firstName", "lastName", "role"}


def test_a_vendor_token_sees_and_creates_only_its_own_vendors_users(client, anonymous, database):
    acme = client.post("/api/dropship-providers.json", json={"name": "Acme"}).json()
    other = client.post("/api/dropship-providers.json", json={"name": "Other"}).json()
    client.post(
        "/api/users.json",
        json={
            "email": "o@example.com",
            "role": "dropship_provider",
            "dropshipProviderId": other["id"],
        },
    )
    headers = {"Authorization": f"Bearer {make_token(database, 'acme', acme['id'])}"}
    created = anonymous.post(
        "/api/users.json", json={"email": "x@acme.example", "role": "api"}, headers=headers
    )
    assert created.status_code == 201
    assert created.json()["role"] == "dropship_provider"
    assert created.json()["dropshipProviderId"] == acme["id"]
    listed = anonymous.get("/api/users.json", headers=headers).json()
    assert {u["dropshipProviderId"] for u in listed} == {acme["id"]}
    others = client.get(f"/api/users.json?where[dropshipProviderId]={other['id']}").json()
    assert anonymous.get(f"/api/users/{others[0]['id']}.json", headers=headers).status_code == 404


def test_bad_user_bodies_are_422_naming_the_field(client):
    response = client.post("/api/users.json", json={"email": "nobody", "role": "api"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "email"
    response = client.post(
        "/api/users.json", json={"email": "v@example.com", "role": "dropship_provider"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "dropshipProviderId"
    too_long = "a" * 250 + "@b.example"  # stored as the user's name too (255 characters)
    response = client.post("/api/users.json", json={"email": too_long, "role": "api"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "email"
    response = client.post(f"/api/users.json?x={quote('y')}", json={"email": "a@b.c", "role": "x"})
    assert response.status_code == 422


def test_revoking_a_user_stops_its_token(client, anonymous):
    created = client.post("/api/users.json", json={"email": "gone@example.com"}).json()
    assert client.delete(f"/api/users/{created['id']}.json").status_code == 204
    headers = {"Authorization": f"Bearer {created['token']}"}
    assert anonymous.get("/api/users.json", headers=headers).status_code == 401


def test_a_token_cannot_revoke_itself(client, anonymous):
    created = client.post("/api/users.json", json={"email": "self@example.com"}).json()
    own = {"Authorization": f"Bearer {created['token']}"}
    refused = anonymous.delete(f"/api/users/{created['id']}.json", headers=own)
    assert refused.status_code == 409
    assert "cannot revoke itself" in refused.json()["title"] + refused.json()["detail"]
    assert anonymous.get("/api/users.json", headers=own).status_code == 200
    assert client.delete(f"/api/users/{created['id']}.json").status_code == 204
