"""Odd values posted to the dashboard's create and edit forms are refused on the page (a 4xx
that names the field, or a flash), never a 500, and change nothing they should not."""

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from dropwire.auth.models import ApiUser
from dropwire.channels.models import Channel
from dropwire.core.db import Database
from tests.web.conftest import ADMIN, PASSWORD, Demo

ODD = ["", " ", "x" * 5000, "\x00", "-1", "99999999999999999999", "[1, 2", '{"a": 1}', "é✓", "null"]


@pytest.fixture
def admin(app: FastAPI, demo: Demo) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as client:
        page = client.get("/sign-in")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        signed_in = client.post(
            "/sign-in",
            data={"email": ADMIN, "password": PASSWORD, "csrf_token": token.group(1)},
            follow_redirects=False,
        )
        assert signed_in.status_code == 303
        yield client


def _fields_and_token(client: TestClient, path: str) -> tuple[list[str], str]:
    page = client.get(path)
    assert page.status_code == 200, path
    names = re.findall(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"', page.text)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token is not None
    return [n for n in dict.fromkeys(names) if n not in ("csrf_token", "q")], token.group(1)


FORMS = [
    ("/channels/new?parent=elasticPath", "/channels/new?parent=elasticPath"),
    ("/channels/new?parent=custom", "/channels/new?parent=custom"),
    ("/channels/1/edit", "/channels/1/edit"),
    ("/inventory/new", "/inventory/new"),
    ("/users", "/users/invite"),
    ("/tokens", "/tokens/new"),
    ("/feeds/1/items/1/connect", "/feeds/1/items/1/connect"),
]


@pytest.mark.parametrize(("form", "action"), FORMS)
def test_odd_values_are_refused_on_the_page_never_a_500(
    admin: TestClient, database: Database, form: str, action: str
) -> None:
    with database.transaction() as session:
        before = (
            session.scalar(select(func.count(Channel.id))),
            session.scalar(select(func.count(ApiUser.id))),
        )
    names, token = _fields_and_token(admin, form)
    assert names, form
    for value in ODD:
        answer = admin.post(
            action,
            data={"csrf_token": token, **dict.fromkeys(names, value)},
            follow_redirects=False,
        )
        assert answer.status_code < 500, (action, value, answer.text[:500])
        if answer.status_code == 422:
            assert 'class="error"' in answer.text or "flash-error" in answer.text
    with database.transaction() as session:
        after = (
            session.scalar(select(func.count(Channel.id))),
            session.scalar(select(func.count(ApiUser.id))),
        )
    assert after == before  # nothing odd was saved


def test_the_variant_edit_and_the_actions_take_odd_ids_without_a_500(
    admin: TestClient, demo: Demo
) -> None:
    _, token = _fields_and_token(admin, "/tokens")
    for path in [
        "/users/999999/deactivate",
        "/users/abc/reactivate",
        "/tokens/999999/revoke",
        "/feeds/1/items/999999/disconnect",
        "/feeds/999999/items/1/connect",
        f"/inventory/{demo.variant_ids[0]}/edit",
    ]:
        answer = admin.post(
            path, data={"csrf_token": token, "price": "x" * 300}, follow_redirects=False
        )
        assert answer.status_code < 500, (path, answer.text[:300])
    assert admin.get("/channels/new?parent=bogus").status_code == 404
    assert admin.get("/feeds/1/items/1/connect?q=%00").status_code == 422


@pytest.mark.parametrize(
    "path", ["/inventory", "/sales", "/purchases", "/feeds/1", "/feeds/1/items/1/connect"]
)
def test_a_search_with_a_control_character_is_refused_not_a_500(
    admin: TestClient, path: str
) -> None:
    answer = admin.get(f"{path}?q=ab%00c")  # PostgreSQL refuses NUL in any text it compares
    assert answer.status_code == 422
    assert "control character" in answer.text
