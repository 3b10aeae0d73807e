"""`POST /webhooks/elasticpath/{channelId}`: the store's integration deliveries.

Answers 200 once the event is stored and its job queued (the store gives up after 10 s and
delivers at least once); the sale is upserted by the worker. Like every endpoint it runs on the
unit-of-work route, which commits the event and its job before the answer leaves and wakes the
workers after that commit.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from dropwire.connectors.elasticpath import service
from dropwire.http.deps import DbSession, PathId
from dropwire.http.request_body import BODY_KEY
from dropwire.http.routing import UnitOfWorkRoute, before_the_body

router = APIRouter(
    prefix="/webhooks/elasticpath", tags=["Elastic Path"], route_class=UnitOfWorkRoute
)

SECRET_HEADER = "x-moltin-secret-key"
_AUTHENTICATED_KEY = "dropwire.elasticpath_authenticated"


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


@before_the_body
async def secret_in_header(request: Request, session: DbSession) -> None:
    """A secret sent in the header is checked before the body is read at all (the route's depth
    guard included), so a caller without it learns nothing about its body; only the legacy
    in-body secret needs the body parsed first."""
    header = request.headers.get(SECRET_HEADER)
    channel_id = str(request.path_params.get("channel_id", ""))
    if header and channel_id.isdigit() and not request.scope.get(_AUTHENTICATED_KEY):
        await run_in_threadpool(
            service.check_header_secret, session, channel_id=int(channel_id), header=header
        )
        request.scope[_AUTHENTICATED_KEY] = True


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
async def receive(
    channel_id: PathId,
    request: Request,
    session: DbSession,
    _: Annotated[None, Depends(secret_in_header)],
) -> JSONResponse:
    raw: bytes = request.scope.get(BODY_KEY, b"") or await request.body()
    header = request.headers.get(SECRET_HEADER)
    received = await run_in_threadpool(
        service.receive_event, session, channel_id=channel_id, header=header, raw=raw
    )
    answer: dict[str, Any] = {
        "queued": 1 if received is service.Received.queued else 0,
        "duplicate": received is service.Received.duplicate,
    }
    if received is service.Received.ignored:
        answer["ignored"] = "the event names another store than this channel's"
    return JSONResponse(answer)
