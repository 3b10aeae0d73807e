"""Every /api request is logged; error rows keep the redacted body; secrets never stored."""

import json

from sqlalchemy import select

from dropwire.apilog.models import ApiLog


def all_rows(client, database):
    client.app.state.api_log_writer.flush()
    with database.session(write=False) as session:
        return list(session.scalars(select(ApiLog).order_by(ApiLog.created_at, ApiLog.id)))


def test_each_request_is_logged_with_caller_status_and_duration(client, database):
    client.get("/api/channels.json")
    client.post("/api/channels.json", json={"name": "S"})
    rows = all_rows(client, database)
    assert [(r.method, r.endpoint, r.http_status) for r in rows] == [
        ("GET", "/api/channels.json", 200),
        ("POST", "/api/channels.json", 201),
    ]
    assert all(r.api_user_name == "admin" and r.api_user_id is not None for r in rows)
    assert all(r.duration_ms is not None and r.duration_ms >= 0 for r in rows)
    assert rows[1].payload is None  # success rows keep no body


def test_error_rows_keep_the_body_and_the_error(client, database):
    client.post("/api/channels.json", json={"name": "S", "inventorySync": "maybe"})
    row = all_rows(client, database)[-1]
    assert row.status == "error"
    assert row.http_status == 422
    assert row.payload == {"name": "S", "inventorySync": "maybe"}
    assert "inventorySync" in row.problem


def test_secrets_are_never_stored(client, database, admin_token):
    custom = client.post("/api/custom-channels.json", json={"name": "Shop"}).json()
    client.post(
        "/api/dropship-providers.json",
        json={"name": "V", "webhookSecret": "s3cr3t-value", "password": "hunter2", "priority": "x"},
    )
    client.put(
        f"/api/custom-channels/{custom['id']}.json",
        json={"webhookHash": custom["webhookHash"], "token": admin_token},
    )
    client.post(
        "/api/channels.json",
        content=f"password={'hunter2'}&token={admin_token}".encode(),
        headers={"content-type": "application/json"},
    )
    dumped = json.dumps(
        [
            {c.name: str(getattr(r, c.key)) for c in ApiLog.__table__.columns}
            for r in all_rows(client, database)
        ]
    )
    for secret in ("s3cr3t-value", "hunter2", admin_token, custom["webhookHash"]):
        assert secret not in dumped
    assert "[redacted]" in dumped


def test_bodies_are_truncated(client, database):
    client.post("/api/channels.json", json={"name": "S", "externalId": "x" * 9000, "nope": 1})
    row = all_rows(client, database)[-1]
    assert isinstance(row.payload, str)
    assert len(row.payload) <= 4097


def test_unauthenticated_and_oversized_requests_are_logged(anonymous, client, database):
    anonymous.get("/api/channels.json", headers={"Authorization": "Bearer nope"})
    client.post("/api/channels.json", content=b"{" + b" " * 1_100_000 + b"}")
    rows = all_rows(client, database)
    assert [r.http_status for r in rows] == [401, 413]
    assert rows[0].api_user_id is None


def test_api_log_endpoint_lists_with_filters(client):
    client.get("/api/channels/99.json")
    client.get("/api/channels.json")
    errors = client.get("/api/api-logs.json?where[status]=error")
    assert errors.status_code == 200
    assert [row["httpStatus"] for row in errors.json()] == [404]
    assert errors.json()[0]["endpoint"] == "/api/channels/99.json"
    assert "problem" in errors.json()[0]
