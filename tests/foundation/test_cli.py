"""The `dropwire` command against a real database."""

import json
import os
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from dropwire.cli import app, ensure_migrated
from dropwire.core.db import Database

runner = CliRunner()


@pytest.fixture
def cli_env(cli_in_this_process: None) -> Iterator[None]:
    yield


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_token_create_prints_a_working_token(cli_env, anonymous):
    token = invoke("token", "create", "--name", "ops").strip().splitlines()[0]
    assert token.startswith("dw_")
    response = anonymous.get("/api/channels.json", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_token_create_for_a_vendor_is_scoped(cli_env, client, anonymous):
    vendor = client.post("/api/dropship-providers.json", json={"name": "V"}).json()
    created = json.loads(
        invoke("token", "create", "--name", "v", "--vendor", str(vendor["id"]), "--json")
    )
    assert created["scope"] == "vendor"
    headers = {"Authorization": f"Bearer {created['token']}"}
    assert anonymous.get("/api/channels.json", headers=headers).status_code == 403


def test_token_for_missing_vendor_fails_cleanly(cli_env):
    result = runner.invoke(app, ["token", "create", "--name", "v", "--vendor", "999"])
    assert result.exit_code == 1
    assert "999" in result.output


def test_token_list_never_prints_tokens_and_revoke_works(cli_env, anonymous):
    created = json.loads(invoke("token", "create", "--name", "ops", "--json"))
    listing = invoke("token", "list", "--json")
    assert created["token"] not in listing
    assert json.loads(listing)[0]["name"] == "ops"
    assert created["token"] not in invoke("token", "list")
    invoke("token", "revoke", str(created["id"]))
    headers = {"Authorization": f"Bearer {created['token']}"}
    assert anonymous.get("/api/channels.json", headers=headers).status_code == 401


def test_migrate_reports_current(cli_env):
    assert "current" in invoke("migrate")


def test_demo_loads_once(cli_env, client):
    summary = json.loads(invoke("demo", "--json"))
    assert summary["loaded"] is True
    assert len(summary["vendors"]) == 3
    assert len(summary["warehouses"]) == 2
    assert len(summary["variants"]) == 7
    assert len(summary["inventoryFeeds"]) == 4  # one a pull feed of a file Dropwire serves
    assert len(summary["sales"]) == 3
    statuses = {
        s["externalId"]: (s["inventoryStatus"], s["cancellationStatus"])
        for s in client.get("/api/sales.json").json()
    }
    assert statuses["demo-order-2"][0] == "partiallyFulfilled"
    assert statuses["demo-order-3"][1] == "full"
    assert (
        client.get("/api/inventory-feed-variants.json?connected=true").headers["X-Total-Count"]
        == "6"
    )
    assert client.get("/api/custom-channels.json").headers["X-Total-Count"] == "1"
    assert json.loads(invoke("demo", "--json"))["loaded"] is False
    assert client.get("/api/dropship-providers.json").headers["X-Total-Count"] == "3"


def test_unmigrated_sqlite_migrates_itself(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
    ensure_migrated(database)
    from dropwire.core.migrations import pending

    assert pending(database) == set()
    database.dispose()


def test_unmigrated_postgres_is_refused(database, postgres_only):
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    url = make_url(database.url)
    scratch = f"dropwire_unmigrated_check_{os.getpid()}"  # runs on one cluster never share it
    admin = Database(url.set(database="postgres").render_as_string(hide_password=False))
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {scratch}"))
        connection.execute(text(f"CREATE DATABASE {scratch}"))
    empty = Database(url.set(database=scratch).render_as_string(hide_password=False))
    try:
        import typer

        with pytest.raises(typer.Exit):
            ensure_migrated(empty)
    finally:
        empty.dispose()
        with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {scratch}"))
        admin.dispose()


def test_jobs_and_deliveries_lists(cli_env, database):
    from dropwire.jobs.service import enqueue

    with database.transaction() as session:
        enqueue(session, kind="nobody.handles.this", payload={})
    rows = json.loads(invoke("jobs", "list", "--json"))
    assert rows[0]["kind"] == "nobody.handles.this"
    assert "nobody.handles.this" in invoke("jobs", "list", "--state", "queued")
    assert json.loads(invoke("deliveries", "list", "--json")) == []
    assert "queued again" in invoke("jobs", "retry", str(rows[0]["id"]))


def test_token_ensure_makes_one_quickstart_token_and_reuses_it(cli_env, anonymous):
    first = invoke("token", "ensure", "--name", "quickstart").strip().splitlines()
    token = first[-1]
    assert token.startswith("dw_")
    second = invoke("token", "ensure", "--name", "quickstart")
    assert token not in second
    assert token[:10] in second  # names the existing token by its prefix
    listing = json.loads(invoke("token", "list", "--json"))
    assert [row["name"] for row in listing].count("quickstart") == 1
    response = anonymous.get("/api/channels.json", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_quickstart_migrates_loads_the_demo_and_makes_one_token_and_sign_in(cli_env, anonymous):
    first = invoke("quickstart")
    assert "Database is current" in first and "loaded: True" in first
    token = next(line for line in first.splitlines() if line.startswith("dw_"))
    assert "Sign in at http://" in first and "admin@dropwire.local with password: " in first
    second = invoke("quickstart")  # `make run` again keeps everything
    assert "loaded: False" in second and token not in second and token[:10] in second
    assert "password set earlier" in second
    assert [row["name"] for row in json.loads(invoke("token", "list", "--json"))] == ["quickstart"]
    response = anonymous.get("/api/channels.json", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
