"""CSV exports of the dashboard's lists: the rows the list page's filters select, in its order,
streamed batch by batch.

Each batch is its own short read (a keyset range after the last row sent, from the sort's index;
a fresh session each time), so a download of a million rows holds no transaction open while the
browser reads slowly, and never has more than one batch in memory.
"""

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session
from starlette.datastructures import QueryParams

from dropwire.core.db import Database
from dropwire.core.time import utcnow
from dropwire.feeds.queries import get_feed
from dropwire.http.deps import DbSession, PathId
from dropwire.http.pages import read_beyond
from dropwire.web.listings import (
    ADMIN_LISTS,
    VENDOR_LISTS,
    Listing,
    Scope,
    feed_items_of,
    feed_runs_of,
    scope_of,
)
from dropwire.web.pages import AdminVisitor, VendorVisitor, WebRoute
from dropwire.web.sessions import Visitor
from dropwire.web.tables import sort_keys

BATCH = 1000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

router = APIRouter(route_class=WebRoute)


def cell(value: object, zone: Any) -> object:
    """A value as a spreadsheet should read it: moments in the viewer's zone (ISO 8601 with
    the offset), enum values as stored, and text that a spreadsheet would run as a formula
    (`=HYPERLINK(...)` in a customer's name) quoted with a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(zone).isoformat(sep=" ", timespec="seconds")
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, bool | int | float | Decimal):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _batches(
    database: Database, listing: Listing, query: QueryParams, scope: Scope
) -> Iterator[tuple[Session, list[Any]]]:
    keys = sort_keys(
        query, columns=listing.columns, default=listing.default, tiebreak=listing.tiebreak
    )
    last: list[Any] | None = None
    while True:
        with database.session(write=False) as session:
            stmt = listing.rows(session, query, scope).add_columns(
                keys[0].column.label("sort_value"), keys[1].column.label("sort_id")
            )
            # by key from the last row of the batch before, its empty values too: index ranges
            rows = read_beyond(
                session,
                stmt=stmt,
                keys=keys,
                values=last,
                backwards=False,
                limit=BATCH,
                execute=True,
            )
            if rows:
                yield session, rows
        if len(rows) < BATCH:
            return
        last = [rows[-1].sort_value, rows[-1].sort_id]


def stream_csv(
    database: Database, listing: Listing, query: QueryParams, scope: Scope
) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([header for header, _ in listing.csv])
    for session, rows in _batches(database, listing, query, scope):
        extra = listing.per_batch(session, rows)
        for row in rows:
            writer.writerow([cell(value(row, extra), scope.zone) for _, value in listing.csv])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()
    else:
        yield ""


def _export(
    request: Request, session: Session, visitor: Visitor, listing: Listing
) -> StreamingResponse:
    scope = scope_of(request, visitor)
    query = request.query_params
    listing.rows(session, query, scope)  # a filter it cannot read is a 422 before any byte
    stamp = utcnow().astimezone(scope.zone).strftime("%Y-%m-%d-%H%M")
    name = f"{listing.name}-{stamp}.csv"
    database: Database = request.app.state.database
    return StreamingResponse(
        stream_csv(database, listing, query, scope),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _admin_export(listing: Listing) -> Any:
    def export(request: Request, session: DbSession, visitor: AdminVisitor) -> StreamingResponse:
        return _export(request, session, visitor, listing)

    return export


def _vendor_export(listing: Listing) -> Any:
    def export(request: Request, session: DbSession, visitor: VendorVisitor) -> StreamingResponse:
        return _export(request, session, visitor, listing)

    return export


for _path, _listing in ADMIN_LISTS.items():
    router.add_api_route(
        f"{_path}.csv", _admin_export(_listing), methods=["GET"], name=f"export{_path}"
    )
for _path, _listing in VENDOR_LISTS.items():
    router.add_api_route(
        f"{_path}.csv", _vendor_export(_listing), methods=["GET"], name=f"export{_path}"
    )


def _feed_export(
    request: Request, session: Session, visitor: Visitor, feed_id: int, what: str
) -> StreamingResponse:
    """A feed's items or runs: only a feed the visitor may see (another vendor's is a 404)."""
    feed = get_feed(session, feed_id=feed_id, principal=visitor.principal)
    listing = feed_items_of(feed.id) if what == "items" else feed_runs_of(feed.id)
    return _export(request, session, visitor, listing)


@router.get("/feeds/{feed_id}/items.csv")
def feed_items(
    feed_id: PathId, request: Request, session: DbSession, visitor: AdminVisitor
) -> StreamingResponse:
    return _feed_export(request, session, visitor, feed_id, "items")


@router.get("/feeds/{feed_id}/runs.csv")
def feed_runs(
    feed_id: PathId, request: Request, session: DbSession, visitor: AdminVisitor
) -> StreamingResponse:
    return _feed_export(request, session, visitor, feed_id, "runs")


@router.get("/vendor/feeds/{feed_id}/items.csv")
def vendor_feed_items(
    feed_id: PathId, request: Request, session: DbSession, visitor: VendorVisitor
) -> StreamingResponse:
    return _feed_export(request, session, visitor, feed_id, "items")


@router.get("/vendor/feeds/{feed_id}/runs.csv")
def vendor_feed_runs(
    feed_id: PathId, request: Request, session: DbSession, visitor: VendorVisitor
) -> StreamingResponse:
    return _feed_export(request, session, visitor, feed_id, "runs")
