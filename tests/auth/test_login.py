"""Onport's token login (`POST /auth/login`) and `?access_token=`."""

import pytest

from dropwire.auth.users import create_user
from dropwire.vendors.models import DropshipProvider

PASSWORD = "correct horse battery"


@pytest.fixture
def people(database):
    with database.transaction() as session:
        vendor = DropshipProvider(name="Kiln")
        session.add(vendor)
        session.flush()
        create_user(session, email="admin@example.com", password=PASSWORD)
        create_user(
            session, email="kiln@example.com", password=PASSWORD, dropship_provider_id=vendor.id
        )
        return vendor.id


def login(client, **body):
    return client.post("/auth/login", json=body)


def test_an_api_user_logs_in_and_uses_the_token(anonymous, people):
    response = login(anonymous, role="api", email="Admin@Example.com", password=PASSWORD)
    assert response.status_code == 200, response.text
    token = response.json()["token"]
    assert response.json()["dropshipProviderId"] is None
    headers = {"Authorization": f"Bearer {token}"}
    assert anonymous.get("/api/channels.json", headers=headers).status_code == 200


def test_a_vendor_user_gets_a_token_scoped_to_its_vendor(anonymous, people):
    response = login(
        anonymous, role="dropship_provider", email="kiln@example.com", password=PASSWORD
    )
    assert response.status_code == 200
    token = response.json()["token"]
    vendors = anonymous.get(f"/api/dropship-providers.json?access_token={token}").json()
    assert [v["id"] for v in vendors] == [people]
    assert anonymous.get(f"/api/channels.json?access_token={token}").status_code == 403


@pytest.mark.parametrize(
    ("role", "email", "password"),
    [
        ("api", "admin@example.com", "wrong password!"),
        ("api", "nobody@example.com", PASSWORD),
        ("dropship_provider", "admin@example.com", PASSWORD),  # not a vendor user
        ("api", "kiln@example.com", PASSWORD),  # a vendor user is not an API user
    ],
)
def test_bad_logins_are_the_same_401(anonymous, people, role, email, password):
    response = login(anonymous, role=role, email=email, password=password)
    assert response.status_code == 401
    assert response.json()["message"] == "Wrong email, password or role"


def test_access_token_query_parameter(anonymous, admin_token):
    assert anonymous.get(f"/api/channels.json?access_token={admin_token}").status_code == 200
    assert anonymous.get("/api/channels.json?access_token=nope").status_code == 401
    assert anonymous.get("/api/channels.json?access_token=").status_code == 401


def test_login_is_also_under_api(anonymous, people):
    response = anonymous.post(
        "/api/auth/login", json={"role": "api", "email": "admin@example.com", "password": PASSWORD}
    )
    assert response.status_code == 200
