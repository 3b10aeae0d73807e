"""The async inbound API (`jetti-webhook-hash`): check the envelope, queue durably, answer 200.

The hash is authenticated before anything is written (from a short-lived cache, else on a read
session). The jobs are then appended through the process's group committer, which commits many
requests' jobs at once; the 200 leaves only after that commit. A request with an
`Idempotency-Key` (which only a caller with an API token can use here) queues in its own unit of
work instead, so its idempotency record commits with its jobs.
"""

import asyncio
import json
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from dropwire.auth.service import digest
from dropwire.core.db import Database
from dropwire.core.errors import FieldProblem, Invalid, InvalidFields, Malformed, Unauthorized
from dropwire.core.group_commit import GroupCommitFailed, GroupCommitter, Row
from dropwire.core.schemas import may_hold_unstorable, unstorable_in
from dropwire.core.settings import Settings
from dropwire.http.errors import error_response, unavailable_response
from dropwire.http.idempotency import CLAIM_KEY
from dropwire.http.request_body import BODY_KEY
from dropwire.http.routing import UnitOfWorkRoute, request_session
from dropwire.inbound import service
from dropwire.inbound.registry import InboundKind, InboundKinds, Owner
from dropwire.jobs import wakeup

router = APIRouter(prefix="/webhooks", tags=["Async inbound API"], route_class=UnitOfWorkRoute)

HASH_HEADERS = ("jetti-webhook-hash", "onport-hash")


_HASH_HEADER_NAMES = tuple(name.encode() for name in HASH_HEADERS)


def _presented_hash(headers: list[tuple[bytes, bytes]]) -> str:
    """The first hash header's first value ("" if none), read in one pass over the raw headers
    (`request.headers` would decode and scan them once per name and lookup)."""
    first: dict[bytes, bytes] = {}
    for name, value in headers:
        if name in _HASH_HEADER_NAMES and name not in first:
            first[name] = value
    return next((first[n].decode("latin-1") for n in _HASH_HEADER_NAMES if n in first), "")


def _items(raw: bytes, kind: InboundKind) -> list[Any]:
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise Malformed("Malformed JSON body", problem="not valid JSON") from None
    if isinstance(body, dict) and not kind.batch:
        body = [body]
    if not isinstance(body, list):
        expected = "an array of items" if kind.batch else "an object or an array of objects"
        raise InvalidFields(f"Expected {expected}", [FieldProblem("body", f"must be {expected}")])
    if len(body) > service.MAX_ITEMS:
        message = f"at most {service.MAX_ITEMS} items per request; got {len(body)}"
        raise Invalid("body", message)
    if not body:
        raise InvalidFields("No items", [FieldProblem("body", "must hold at least one item")])
    if not may_hold_unstorable(raw):  # nearly every body: no string to walk through
        return body
    problems = [
        FieldProblem(f"[{index}]{'.' if found[0][:1] not in ('', '[') else ''}{found[0]}", found[1])
        for index, item in enumerate(body)
        if (found := unstorable_in(item))
    ]
    if problems:  # what no database can store can't be queued: refused like a bad envelope
        raise InvalidFields(f"Unstorable text in {len(problems)} item(s)", problems)
    return body


_LOOKUPS: dict[tuple[asyncio.AbstractEventLoop, Owner, str], asyncio.Future[Any]] = {}
"""Lookups in flight: concurrent requests with the same uncached hash share one."""


async def _owner(request: Request, kind: InboundKind, presented: str) -> service.Credentials:
    """The hash's owner: cached, else read on a read session (no write slot, no write
    transaction); 401 for a missing or unknown hash."""
    settings: Settings = request.app.state.settings
    found = service.HASH_CACHE.get(kind.owner, presented, settings.auth_cache_seconds)
    if found is None and presented:
        database: Database = request.app.state.database

        def look_up() -> service.Credentials | None:
            with database.session(write=False) as reading:
                return service.authenticate(reading, owner=kind.owner, presented=presented)

        key = (asyncio.get_running_loop(), kind.owner, digest(presented))
        lookup = _LOOKUPS.get(key)
        if lookup is None:
            lookup = _LOOKUPS[key] = asyncio.ensure_future(run_in_threadpool(look_up))
            lookup.add_done_callback(lambda _done: _LOOKUPS.pop(key, None))
        found = await asyncio.shield(lookup)  # one caller going away ends no one else's wait
    if found is None:
        raise Unauthorized("Missing or unknown jetti-webhook-hash")
    return found


def _queued(count: int) -> Response:
    """`{"queued": n}`, the bytes `JSONResponse` would render, without encoding JSON each time."""
    return Response(b'{"queued":%d}' % count, media_type="application/json")


def _accepted_rows(session: Session, accepts: list[service.Accept]) -> list[Sequence[Row]]:
    """The group committer's planner (it passes the requests by position)."""
    return service.accepted_rows(session, accepts=accepts)


async def _accept(request: Request, kind_name: str) -> Response:
    kind = request.app.state.database.wiring.part(InboundKinds).get(kind_name)
    if kind is None:
        return error_response(404, f"{kind_name} is not available on this server")
    presented = _presented_hash(request.scope["headers"])
    owner_id = (await _owner(request, kind, presented))[0]
    raw: bytes = request.scope.get(BODY_KEY, b"") or await request.body()
    items = _items(raw, kind)
    endpoint: str = request.scope["path"]
    if request.scope.get(CLAIM_KEY) is not None:
        session = request_session(request)  # its route commits it, with the key's record
        await run_in_threadpool(
            service.accept, session, kind=kind, owner_id=owner_id, items=items, endpoint=endpoint
        )
        return _queued(len(items))

    committer: GroupCommitter = request.app.state.group_committer
    accepted = service.Accept(kind, owner_id, items, endpoint)
    try:
        await committer.append(_accepted_rows, accepted, after_commit=wakeup.notify)
    except GroupCommitFailed as failed:
        return unavailable_response(
            failed.kind, outcome_unknown=failed.outcome_unknown, what="nothing was queued"
        )
    return _queued(len(items))


@router.post("/custom-channels/manual-sale.json")
async def manual_sale(request: Request) -> Response:
    return await _accept(request, "inbound.manual_sale")


@router.post("/custom-channels/products.json")
async def products(request: Request) -> Response:
    return await _accept(request, "inbound.products")


@router.put("/custom-channels/acknowledge-inventory-feed-variant-batches.json")
async def acknowledge(request: Request) -> Response:
    return await _accept(request, "inbound.acknowledge")


@router.put("/custom-channels/disconnect-inventory-feed-variant-batches.json")
async def disconnect(request: Request) -> Response:
    return await _accept(request, "inbound.disconnect")


@router.post("/inventory-feeds/parse-webhooks.json")
async def parse_webhooks(request: Request) -> Response:
    return await _accept(request, "inbound.parse_webhook")
