"""`POST /webhooks/elasticpath/{channelId}`: the store's integration deliveries.

Answers 200 once the event is stored and its job queued (the store gives up after 10 s and
delivers at least once); the sale is upserted by the worker.
"""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from dropwire.connectors.elasticpath import service
from dropwire.core.db import Database
from dropwire.http.deps import PathId
from dropwire.http.request_body import BODY_KEY

router = APIRouter(prefix="/webhooks/elasticpath", tags=["Elastic Path"])

SECRET_HEADER = "x-moltin-secret-key"


EVENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": (
        "An Elastic Path integration delivery, current (`triggered_by`, `payload`) or legacy "
        "(`trigger`, `resources`) format; the secret comes in the header or in "
        "`configuration.secret_key`"
    ),
    "properties": {
        "id": {"type": "string", "minLength": 1, "maxLength": 128},
        "triggered_by": {"type": "string", "minLength": 1},
        "trigger": {"type": "string", "minLength": 1},
        "configuration": {
            "type": "object",
            "properties": {"secret_key": {"type": "string"}},
        },
        "payload": {"type": "object"},
        "resources": {},
    },
    "required": ["id"],
    "anyOf": [{"required": ["triggered_by"]}, {"required": ["trigger"]}],
}
"""The body, read raw (the secret may be inside it), stated here for the OpenAPI document."""


@router.post(
    "/{channel_id}",
    openapi_extra={
        "parameters": [
            {"name": SECRET_HEADER, "in": "header", "required": False, "schema": {"type": "string"}}
        ],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": EVENT_SCHEMA}},
        },
    },
)
async def receive(channel_id: PathId, request: Request) -> JSONResponse:
    raw: bytes = request.scope.get(BODY_KEY, b"") or await request.body()
    header = request.headers.get(SECRET_HEADER)
    database: Database = request.app.state.database

    def store() -> service.Received:
        with database.transaction() as session:
            return service.receive_event(session, channel_id=channel_id, header=header, raw=raw)

    received = await run_in_threadpool(store)
    worker = getattr(request.app.state, "worker", None)
    if received is service.Received.queued and worker is not None:
        worker.wake()
    answer: dict[str, Any] = {
        "queued": 1 if received is service.Received.queued else 0,
        "duplicate": received is service.Received.duplicate,
    }
    if received is service.Received.ignored:
        answer["ignored"] = "the event names another store than this channel's"
    return JSONResponse(answer)
