"""A pull feed's credentials never reach a page, the API, the CLI or a run's problem in clear."""

import re
import socket

from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from dropwire import runtime
from dropwire.apilog.redaction import masked_url
from dropwire.cli import app as cli
from dropwire.core.db import Database
from dropwire.feeds.pull import runs
from tests.web.conftest import ADMIN, PASSWORD, VENDOR, seed_demo

SECRET = "Sup3rS3cretFtpPw"


def _signed_in(app: FastAPI, email: str) -> TestClient:
    client = TestClient(app, raise_server_exceptions=False)
    form = client.get("/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    answer = client.post(
        "/sign-in",
        data={"email": email, "password": PASSWORD, "csrf_token": token.group(1), "next": "/"},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    return client


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_masked_url_keeps_the_user_and_hides_password_or_token() -> None:
    assert masked_url("ftp://bob:p@ss@h:21/a.csv") == "ftp://bob:***@h:21/a.csv"
    assert masked_url("https://TOKEN@files.example.com/x") == "https://***@files.example.com/x"
    assert masked_url("see ftp://u:pw@h/x and http://h/y?a=b@c") == (
        "see ftp://u:***@h/x and http://h/y?a=b@c"
    )
    assert masked_url(None) is None


def test_every_page_showing_a_feed_masks_its_credentials(
    database: Database, app: FastAPI, client: TestClient, configure, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    demo = seed_demo(database)
    configure(allow_private_targets=True)
    url = f"ftp://bob:{SECRET}@127.0.0.1:{_closed_port()}/stock.csv"
    feed = client.post(
        "/api/inventory-feeds.json",
        json={
            "name": "FTP stock",
            "dropshipProviderId": demo.baltic_id,
            "resourceType": "csv",
            "resourceLocation": url,
            "mapping": {"fields": {"vendorSku": "sku", "inventoryQuantity": "qty"}},
        },
    )
    assert feed.status_code == 201, feed.text
    feed_id = feed.json()["id"]
    run = runs.run_now(database, feed_id)  # fails to connect: its problem names the URL
    assert run.problem and "127.0.0.1" in run.problem

    admin, vendor = _signed_in(app, ADMIN), _signed_in(app, VENDOR)
    pages = {
        f"admin {path}": admin.get(path)
        for path in (
            "/feeds",
            f"/feeds/{feed_id}",
            f"/feeds/{feed_id}/runs",
            f"/feeds/{feed_id}/runs/{run.id}",
            "/inventory",
        )
    } | {
        f"vendor {path}": vendor.get(path)
        for path in (
            "/vendor/feeds",
            f"/vendor/feeds/{feed_id}",
            f"/vendor/feeds/{feed_id}/runs",
            f"/vendor/feeds/{feed_id}/runs/{run.id}",
            "/vendor/inventory",
        )
    }
    pages["API feed"] = client.get(f"/api/inventory-feeds/{feed_id}.json")
    pages["API feeds"] = client.get("/api/inventory-feeds.json")
    pages["API runs"] = client.get(f"/api/inventory-feeds/{feed_id}/runs.json")
    assert {name: page.status_code for name, page in pages.items()} == dict.fromkeys(pages, 200)
    assert "bob:***@127.0.0.1" in pages[f"admin /feeds/{feed_id}"].text
    assert "bob:***@127.0.0.1" in pages[f"vendor /vendor/feeds/{feed_id}"].text
    assert [name for name, page in pages.items() if SECRET in page.text] == []

    monkeypatch.setattr(runtime, "settings", lambda: database.settings)
    monkeypatch.setattr(runtime, "database", lambda: database)
    fetched = CliRunner().invoke(cli, ["feed", "fetch", str(feed_id)])
    assert fetched.exit_code == 1
    assert "bob:***@" in fetched.output
    assert SECRET not in fetched.output
