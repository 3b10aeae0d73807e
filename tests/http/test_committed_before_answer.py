"""A 2xx means committed: checked through a real server, where an answer can overtake a commit."""

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import select, text

from dropwire.core.db import Database
from dropwire.vendors.models import DropshipProvider


def test_every_created_record_is_readable_at_once(live_server, admin_token):
    headers = {"Authorization": f"Bearer {admin_token}"}

    def create_then_read(n: int) -> tuple[int, int]:
        with httpx.Client(base_url=live_server, headers=headers, timeout=30) as http:
            created = http.post("/api/dropship-providers.json", json={"name": f"V{n}"})
            assert created.status_code == 201, created.text
            read = http.get(f"/api/dropship-providers/{created.json()['id']}.json")
            return created.status_code, read.status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(create_then_read, range(200)))
    assert outcomes == [(201, 200)] * 200


def test_each_adjustment_is_visible_in_the_next_read(live_client):
    variant = live_client.post("/api/variants.json", json={"sku": "LIVE-1", "name": "L"}).json()
    for n in range(1, 51):
        adjusted = live_client.post(
            "/api/inventory-adjustments.json", json={"variantId": variant["id"], "quantity": 1}
        )
        assert adjusted.status_code == 201, adjusted.text
        read = live_client.get(f"/api/variants/{variant['id']}.json").json()
        assert read["inventoryQuantity"] == n


def test_an_idempotent_retry_right_after_the_answer_replays_it(live_client):
    for n in range(20):
        headers = {"Idempotency-Key": f"key-{n}"}
        first = live_client.post("/api/channels.json", json={"name": f"S{n}"}, headers=headers)
        again = live_client.post("/api/channels.json", json={"name": f"S{n}"}, headers=headers)
        assert first.status_code == 201
        assert again.status_code == 201, again.text
        assert again.headers.get("idempotent-replayed") == "true"
        assert again.json() == first.json()
    assert len(live_client.get("/api/channels.json").json()) == 20


@pytest.fixture
def failing_commit(database: Database, postgres_only: None):
    """A deferred constraint trigger: a vendor named like `fail-<SQLSTATE>` fails at COMMIT."""
    with database.engine.begin() as connection:
        connection.execute(
            text(
                """
                CREATE OR REPLACE FUNCTION dropwire_test_fail() RETURNS trigger AS $$
                BEGIN
                  IF NEW.name LIKE 'fail-%' THEN
                    RAISE EXCEPTION 'refused at commit' USING ERRCODE = substr(NEW.name, 6);
                  END IF;
                  RETURN NEW;
                END $$ LANGUAGE plpgsql
                """
            )
        )
        connection.execute(
            text(
                "CREATE CONSTRAINT TRIGGER dropwire_test_fail AFTER INSERT ON dropship_providers "
                "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION dropwire_test_fail()"
            )
        )
    yield
    with database.engine.begin() as connection:
        connection.execute(text("DROP TRIGGER dropwire_test_fail ON dropship_providers"))
        connection.execute(text("DROP FUNCTION dropwire_test_fail()"))


@pytest.mark.usefixtures("failing_commit")
@pytest.mark.parametrize(("sqlstate", "status"), [("40001", 503), ("23514", 409), ("P0001", 500)])
def test_a_failed_commit_answers_an_error_and_leaves_no_trace(
    live_client, database: Database, sqlstate: str, status: int
):
    headers = {"Idempotency-Key": f"boom-{sqlstate}"}
    body = {"name": f"fail-{sqlstate}"}
    refused = live_client.post("/api/dropship-providers.json", json=body, headers=headers)
    assert refused.status_code == status, refused.text
    assert "nothing" in refused.json()["message"]
    if status == 503:
        assert refused.headers["Retry-After"] == "1"
    with database.session(write=False) as session:
        assert session.scalars(select(DropshipProvider)).all() == []
    # The key was not remembered: once the database accepts it, the same retry runs again.
    with database.engine.begin() as connection:
        connection.execute(
            text("ALTER TABLE dropship_providers DISABLE TRIGGER dropwire_test_fail")
        )
    retried = live_client.post("/api/dropship-providers.json", json=body, headers=headers)
    assert retried.status_code == 201, retried.text
    assert "idempotent-replayed" not in retried.headers
    with database.engine.begin() as connection:
        connection.execute(text("ALTER TABLE dropship_providers ENABLE TRIGGER dropwire_test_fail"))
