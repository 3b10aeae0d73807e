"""Onport's token login (`POST /auth/login`) and `?access_token=`."""

import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from dropwire.apilog.models import ApiLog
from dropwire.app import create_app
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


def test_failed_logins_are_throttled_per_account(anonymous, people):
    for _ in range(5):  # DROPWIRE_SIGN_IN_LIMIT_ACCOUNT: 5/minute
        assert login(anonymous, email="admin@example.com", password="wrong!").status_code == 401
    refused = login(anonymous, role="api", email="ADMIN@example.com", password=PASSWORD)
    assert refused.status_code == 429  # even the right password waits, in any letter case
    assert int(refused.headers["Retry-After"]) >= 1
    assert "Too many failed logins" in refused.json()["message"]
    other = login(anonymous, role="dropship_provider", email="kiln@example.com", password=PASSWORD)
    assert other.status_code == 200


def test_failed_logins_are_throttled_per_address_at_both_paths(database, settings, people):
    tight = settings.model_copy(update={"sign_in_limit_ip": "3/minute"})
    with TestClient(create_app(database, tight)) as client:
        for n, path in enumerate(["/auth/login", "/api/auth/login", "/auth/login"]):
            body = {"email": f"nobody{n}@example.com", "password": "wrong"}
            assert client.post(path, json=body).status_code == 401
        good = {"role": "api", "email": "admin@example.com", "password": PASSWORD}
        assert client.post("/api/auth/login", json=good).status_code == 429
        assert client.post("/auth/login", json=good).status_code == 429


def test_login_failures_count_against_web_sign_in_too(anonymous, people):
    """One set of counters: the API login and the web form check the same passwords."""
    for _ in range(5):
        login(anonymous, email="admin@example.com", password="wrong!")
    form = anonymous.get("/sign-in")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert csrf is not None
    answer = anonymous.post(
        "/sign-in",
        data={"email": "admin@example.com", "password": PASSWORD, "csrf_token": csrf.group(1)},
        follow_redirects=False,
    )
    assert answer.status_code == 429


def test_logins_are_in_the_api_log_at_both_paths(anonymous, database, people):
    ok = login(anonymous, role="api", email="admin@example.com", password=PASSWORD)
    anonymous.post("/api/auth/login", json={"email": "admin@example.com", "password": "nope!"})
    anonymous.app.state.api_log_writer.flush()
    with database.session(write=False) as session:
        rows = list(session.scalars(select(ApiLog).order_by(ApiLog.id)))
    assert [(r.method, r.endpoint, r.http_status) for r in rows] == [
        ("POST", "/auth/login", 200),
        ("POST", "/api/auth/login", 401),
    ]
    assert rows[0].api_user_id == ok.json()["id"]
    assert rows[0].api_user_name == "login: admin@example.com"
    assert rows[0].payload is None  # a success keeps no body (and the token is never logged)
    assert rows[1].problem == "Wrong email, password or role"
    assert "nope!" not in json.dumps(rows[1].payload)  # the password is redacted
    assert rows[1].payload["email"] == "admin@example.com"
