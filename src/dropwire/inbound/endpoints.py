"""The async inbound API (`jetti-webhook-hash`): check the envelope, queue durably, answer 200."""

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from dropwire.core.errors import DomainError, FieldProblem
from dropwire.core.schemas import unstorable_in
from dropwire.http.errors import error_response
from dropwire.http.request_body import BODY_KEY
from dropwire.http.routing import UnitOfWorkRoute, request_session
from dropwire.inbound import service
from dropwire.inbound.registry import KINDS, InboundKind

router = APIRouter(prefix="/webhooks", tags=["Async inbound API"], route_class=UnitOfWorkRoute)

HASH_HEADERS = ("jetti-webhook-hash", "onport-hash")


class Unauthorized(DomainError):
    def __init__(self) -> None:
        super().__init__("Missing or unknown jetti-webhook-hash", [], 401)


def _items(raw: bytes, kind: InboundKind) -> list[Any]:
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise DomainError(
            "Malformed JSON body", [FieldProblem("body", "not valid JSON")], 400
        ) from None
    if isinstance(body, dict) and not kind.batch:
        body = [body]
    if not isinstance(body, list):
        expected = "an array of items" if kind.batch else "an object or an array of objects"
        raise DomainError(
            f"Expected {expected}", [FieldProblem("body", f"must be {expected}")], 422
        )
    if len(body) > service.MAX_ITEMS:
        message = f"at most {service.MAX_ITEMS} items per request; got {len(body)}"
        raise DomainError(message, [FieldProblem("body", message)], 422)
    if not body:
        raise DomainError("No items", [FieldProblem("body", "must hold at least one item")], 422)
    problems = [
        FieldProblem(f"[{index}]{'.' if found[0][:1] not in ('', '[') else ''}{found[0]}", found[1])
        for index, item in enumerate(body)
        if (found := unstorable_in(item))
    ]
    if problems:  # what no database can store can't be queued: refused like a bad envelope
        raise DomainError(f"Unstorable text in {len(problems)} item(s)", problems, 422)
    return body


async def _accept(request: Request, kind_name: str) -> JSONResponse:
    kind = KINDS.get(kind_name)
    if kind is None:
        return error_response(404, f"{kind_name} is not available on this server")
    presented = next((request.headers[h] for h in HASH_HEADERS if h in request.headers), "")
    raw: bytes = request.scope.get(BODY_KEY, b"") or await request.body()
    session = request_session(request)  # its route commits before the 200 leaves

    def store() -> int:
        owner = service.authenticate(session, kind.owner, presented)
        if owner is None:
            raise Unauthorized
        items = _items(raw, kind)
        return service.accept(session, kind, owner[0], items, request.url.path)

    if not presented:
        raise Unauthorized
    queued = await run_in_threadpool(store)
    return JSONResponse({"queued": queued})


@router.post("/custom-channels/manual-sale.json")
async def manual_sale(request: Request) -> JSONResponse:
    return await _accept(request, "inbound.manual_sale")


@router.post("/custom-channels/products.json")
async def products(request: Request) -> JSONResponse:
    return await _accept(request, "inbound.products")


@router.put("/custom-channels/acknowledge-inventory-feed-variant-batches.json")
async def acknowledge(request: Request) -> JSONResponse:
    return await _accept(request, "inbound.acknowledge")


@router.put("/custom-channels/disconnect-inventory-feed-variant-batches.json")
async def disconnect(request: Request) -> JSONResponse:
    return await _accept(request, "inbound.disconnect")


@router.post("/inventory-feeds/parse-webhooks.json")
async def parse_webhooks(request: Request) -> JSONResponse:
    return await _accept(request, "inbound.parse_webhook")
