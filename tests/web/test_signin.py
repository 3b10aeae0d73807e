"""Sign-in rules over HTTP: cookie flags, throttling per account and address, sign-out, scope."""

import base64
import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from dropwire.app import create_app
from dropwire.core.db import Database
from dropwire.core.settings import Settings
from dropwire.feeds.models import InventoryFeed, InventoryFeedRun, RunStatus
from tests.web.conftest import ADMIN, OTHER_VENDOR, PASSWORD, VENDOR, Demo


def _post_sign_in(client: TestClient, email: str, password: str, next_path: str = "/"):  # type: ignore[no-untyped-def]
    form = client.get("/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    return client.post(
        "/sign-in",
        data={
            "email": email,
            "password": password,
            "csrf_token": token.group(1),
            "next": next_path,
        },
        follow_redirects=False,
    )


@pytest.fixture
def browser_client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_session_cookie_is_httponly_lax_and_secure_over_tls(app: FastAPI, demo: Demo) -> None:
    with TestClient(app, base_url="https://testserver") as client:
        answer = _post_sign_in(client, ADMIN, PASSWORD)
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("dw_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" in cookie
    with TestClient(app) as plain:
        plain_cookie = _post_sign_in(plain, ADMIN, PASSWORD).headers["set-cookie"]
    assert "Secure" not in plain_cookie.split("dw_signin")[0]


def test_failed_sign_ins_are_throttled_per_account(browser_client: TestClient, demo: Demo) -> None:
    for _ in range(5):
        assert _post_sign_in(browser_client, ADMIN, "not the password").status_code == 401
    refused = _post_sign_in(browser_client, ADMIN, PASSWORD)  # even the right password waits
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert "Too many failed sign-ins" in refused.text
    assert _post_sign_in(browser_client, OTHER_VENDOR, PASSWORD).status_code == 303


def test_failed_sign_ins_are_throttled_per_address(database: Database, demo: Demo) -> None:
    settings = Settings(
        database_url=database.url,
        worker_in_process=False,
        sign_in_limit_ip="3/minute",
        _env_file=None,  # type: ignore[call-arg]
    )
    with TestClient(create_app(database, settings)) as client:
        for n in range(3):
            assert _post_sign_in(client, f"nobody{n}@x.test", "wrong password").status_code == 401
        assert _post_sign_in(client, ADMIN, PASSWORD).status_code == 429


def test_sign_in_form_needs_its_csrf_pair(browser_client: TestClient, demo: Demo) -> None:
    answer = browser_client.post(
        "/sign-in", data={"email": ADMIN, "password": PASSWORD, "csrf_token": "forged"}
    )
    assert answer.status_code == 403
    assert "dw_session" not in browser_client.cookies


def test_sign_out_ends_the_session_and_next_is_same_site_only(
    browser_client: TestClient, demo: Demo
) -> None:
    answer = _post_sign_in(browser_client, ADMIN, PASSWORD, next_path="//evil.example/x")
    assert answer.headers["location"] == "/"
    stolen = browser_client.cookies["dw_session"]
    page = browser_client.get("/")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    assert browser_client.post("/sign-out", data={"csrf_token": "wrong"}).status_code == 403
    out = browser_client.post(
        "/sign-out", data={"csrf_token": csrf.group(1)}, follow_redirects=False
    )
    assert out.status_code == 303
    browser_client.cookies.set("dw_session", stolen)
    again = browser_client.get("/", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"].startswith("/sign-in")


def test_vendor_users_reach_only_their_portal(browser_client: TestClient, demo: Demo) -> None:
    answer = _post_sign_in(browser_client, OTHER_VENDOR, PASSWORD)
    assert answer.headers["location"] == "/vendor"
    assert browser_client.get("/vendor").status_code == 200
    front = browser_client.get("/", follow_redirects=False)
    assert (front.status_code, front.headers["location"]) == (303, "/vendor")
    for path in ["/sales", "/inventory", f"/purchases/{demo.baltic_purchase_id}"]:
        assert browser_client.get(path).status_code == 404, path
    assert browser_client.get(f"/vendor/purchases/{demo.baltic_purchase_id}").status_code == 404
    own = browser_client.get("/vendor/feeds")
    assert own.status_code == 200 and len(re.findall(r'href="/vendor/feeds/\d+"', own.text)) == 1
    assert "BL-DUVET" not in browser_client.get("/vendor/inventory").text
    assert "NW-TENT-2P" in browser_client.get("/vendor/inventory").text


def test_pages_send_security_headers_and_docs_assets_are_local(
    browser_client: TestClient, demo: Demo
) -> None:
    _post_sign_in(browser_client, ADMIN, PASSWORD)
    page = browser_client.get("/")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    docs = browser_client.get("/docs").text
    assert "cdn" not in docs.lower() and "/static/api-docs/swagger-ui-bundle.js" in docs
    assert browser_client.get("/static/api-docs/swagger-ui-bundle.js").status_code == 200


def _csrf(client: TestClient, path: str) -> str:
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert token is not None
    return token.group(1)


def _flash(answer) -> str:  # type: ignore[no-untyped-def]
    raw = answer.cookies.get("dw_flash") or ""
    return base64.urlsafe_b64decode(raw.encode()).decode() if raw else ""


def test_feed_runs_are_scoped_and_only_admins_decide_held_runs(
    app: FastAPI, database: Database, demo: Demo
) -> None:
    with database.transaction() as session:
        feeds = dict(
            session.execute(select(InventoryFeed.dropship_provider_id, InventoryFeed.id)).all()
        )
        held = InventoryFeedRun(inventory_feed_id=feeds[demo.baltic_id], status=RunStatus.held)
        done = InventoryFeedRun(inventory_feed_id=feeds[demo.baltic_id], status=RunStatus.succeeded)
        session.add_all([held, done])
        session.flush()
        held_id, done_id = held.id, done.id
    baltic_feed, northwind_feed = feeds[demo.baltic_id], feeds[demo.northwind_id]

    with TestClient(app, raise_server_exceptions=False) as other:
        _post_sign_in(other, OTHER_VENDOR, PASSWORD)
        assert other.get(f"/vendor/feeds/{baltic_feed}/runs/{held_id}").status_code == 404
        assert other.get(f"/vendor/feeds/{northwind_feed}/runs/{held_id}").status_code == 404
        assert other.get(f"/vendor/feeds/{baltic_feed}/runs").status_code == 404

    with TestClient(app, raise_server_exceptions=False) as vendor:
        _post_sign_in(vendor, VENDOR, PASSWORD)
        page = vendor.get(f"/vendor/feeds/{baltic_feed}/runs/{held_id}")
        assert page.status_code == 200 and 'id="approve"' not in page.text
        assert "The merchant approves or discards it" in page.text
        csrf = _csrf(vendor, f"/vendor/feeds/{baltic_feed}")
        refused = vendor.post(
            f"/vendor/feeds/{baltic_feed}/runs/{held_id}/approve",
            data={"csrf_token": csrf},
            follow_redirects=False,
        )
        assert refused.status_code in (404, 405)
        # the demo feeds take pushes: Run now is the service's refusal, shown as a flash
        answer = vendor.post(
            f"/vendor/feeds/{baltic_feed}/run", data={"csrf_token": csrf}, follow_redirects=False
        )
        assert answer.status_code == 303 and "not a pull feed" in _flash(answer)

    with TestClient(app, raise_server_exceptions=False) as admin:
        _post_sign_in(admin, ADMIN, PASSWORD)
        csrf = _csrf(admin, f"/feeds/{baltic_feed}")
        wrong = admin.post(
            f"/feeds/{baltic_feed}/runs/{done_id}/approve",
            data={"csrf_token": csrf},
            follow_redirects=False,
        )
        assert "only a held run can be approved" in _flash(wrong)
        other_feed = admin.post(
            f"/feeds/{northwind_feed}/runs/{held_id}/discard",
            data={"csrf_token": csrf},
            follow_redirects=False,
        )
        assert other_feed.status_code == 404
        discarded = admin.post(
            f"/feeds/{baltic_feed}/runs/{held_id}/discard",
            data={"csrf_token": csrf},
            follow_redirects=False,
        )
        assert "is discarded" in _flash(discarded)
    with database.transaction() as session:
        statuses = session.scalars(
            select(InventoryFeedRun.status).order_by(InventoryFeedRun.id)
        ).all()
    assert statuses == [RunStatus.discarded, RunStatus.succeeded]
