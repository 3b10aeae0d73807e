"""Hostile input never costs more than a clear 4xx: authentication comes before the body, deep
JSON is refused without parsing it, and an unexpected failure is a logged 500 with an error id."""

import json
import logging

from fastapi import APIRouter
from sqlalchemy import select

from dropwire.apilog.models import ApiLog
from dropwire.http.routing import UnitOfWorkRoute

DEEP = b"[" * 10_000


def rows(app, database):
    app.state.api_log_writer.flush()
    with database.session(write=False) as session:
        return list(session.scalars(select(ApiLog).order_by(ApiLog.created_at, ApiLog.id)))


def test_without_a_token_the_body_is_never_read(anonymous):
    for body in (b"{bad", DEEP, b'{"name": 1}'):
        answer = anonymous.post(
            "/api/channels.json", content=body, headers={"content-type": "application/json"}
        )
        assert answer.status_code == 401, answer.text
        assert answer.json()["message"].startswith("Missing Authorization")


def test_malformed_json_with_a_token_is_400(client):
    answer = client.post(
        "/api/channels.json", content=b"{bad", headers={"content-type": "application/json"}
    )
    assert answer.status_code == 400


def test_deep_json_is_a_422_without_a_traceback(client, anonymous, app, database, caplog):
    caplog.set_level(logging.DEBUG)
    answer = client.post(
        "/api/channels.json", content=DEEP, headers={"content-type": "application/json"}
    )
    assert answer.status_code == 422
    assert answer.json()["errors"] == [
        {"field": "body", "message": "JSON nested deeper than 64 levels"}
    ]
    custom = client.post("/api/custom-channels.json", json={"name": "Shop"}).json()
    queued = anonymous.post(
        "/webhooks/custom-channels/manual-sale.json",
        content=DEEP,
        headers={"jetti-webhook-hash": custom["webhookHash"], "content-type": "application/json"},
    )
    assert queued.status_code == 422
    assert "RecursionError" not in caplog.text
    logged = [r for r in rows(app, database) if r.http_status == 422]
    assert len(logged) == 2
    assert all(r.problem and "deeper than 64" in r.problem for r in logged)


def test_strings_full_of_brackets_are_not_nesting(client):
    name = "[" * 200 + "{" * 50
    answer = client.post("/api/channels.json", json={"name": name[:255]})
    assert answer.status_code == 201, answer.text
    nested = {"name": "N", "externalId": json.dumps([[[[1]]]])}
    assert client.post("/api/channels.json", json=nested).status_code == 201


def test_an_unexpected_failure_is_a_logged_500_with_an_error_id(app, client, database, caplog):
    broken = APIRouter(route_class=UnitOfWorkRoute)

    @broken.get("/api/broken.json")
    def fail() -> None:
        raise RuntimeError("something we did not foresee")

    app.include_router(broken)
    answer = client.get("/api/broken.json")
    assert answer.status_code == 500
    error_id = answer.json()["errorId"]
    assert answer.headers["x-request-id"] == error_id
    assert error_id in answer.json()["message"]
    (row,) = [r for r in rows(app, database) if r.http_status == 500]
    assert row.request_id == error_id
    assert row.problem == f"internal error RuntimeError (errorId {error_id})"
    failures = [r for r in caplog.records if error_id in r.getMessage()]
    assert len(failures) == 1  # one record, with the traceback a developer needs


def test_every_answer_carries_the_id_of_its_log_row(client, app, database):
    created = client.post("/api/channels.json", json={"name": "S"})
    missing = client.get("/api/channels/999.json")
    ids = {created.headers["x-request-id"], missing.headers["x-request-id"]}
    assert {r.request_id for r in rows(app, database)} >= ids
