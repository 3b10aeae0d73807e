from sqlalchemy import text

from dropwire.app import create_app
from dropwire.core.db import Database
from dropwire.core.settings import Settings


def test_health_answers(anonymous):
    assert anonymous.get("/health").json() == {"status": "ok"}


def test_ready_when_migrated(anonymous, database):
    body = anonymous.get("/ready").json()
    assert body == {"status": "ok", "database": database.dialect}


def test_ready_refuses_unmigrated_database(tmp_path):
    from fastapi.testclient import TestClient

    database = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    app = create_app(database, Settings(database_url=database.url, _env_file=None))
    # no lifespan: the app must not touch tables that don't exist
    client = TestClient(app)
    response = client.get("/ready")
    assert response.status_code == 503
    assert "dropwire migrate" in response.json()["database"]
    database.dispose()


def test_metrics_count_requests_by_route_template(client):
    client.get("/api/dropship-providers/123.json")
    text_body = client.get("/metrics").text
    assert 'route="/api/dropship-providers/{vendor_id}.json"' in text_body
    assert "dropwire_http_request_duration_seconds_bucket" in text_body
    assert "/api/dropship-providers/123.json" not in text_body


def test_openapi_and_docs(anonymous):
    spec = anonymous.get("/openapi.json").json()
    assert "/api/dropship-providers.json" in spec["paths"]
    assert "/api/custom-channels/{custom_channel_id}.json" in spec["paths"]
    assert anonymous.get("/docs").status_code == 200


def test_sqlite_runs_in_wal_mode_with_foreign_keys(database):
    if database.dialect != "sqlite":
        return
    with database.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_metrics_count_every_request_of_a_series(client):
    """Each (method, route, status) series is looked up once and then reused: still counted."""
    from prometheus_client import REGISTRY

    labels = {"method": "GET", "route": "/api/dropship-providers/{vendor_id}.json"}

    def count() -> float:
        return (
            REGISTRY.get_sample_value("dropwire_http_requests_total", {**labels, "status": "404"})
            or 0.0
        )

    before = count()
    for _ in range(3):
        assert client.get("/api/dropship-providers/99999.json").status_code == 404
    assert count() == before + 3
