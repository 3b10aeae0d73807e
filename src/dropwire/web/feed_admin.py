"""The merchant's feed forms: add a feed to a vendor, edit its source, mapping and schedule, and
test-fetch its file to see the first rows as the mapping reads them before saving."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy import inspect
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from dropwire.core.db import settings_of
from dropwire.core.errors import DomainError
from dropwire.feeds.models import InventoryFeed
from dropwire.feeds.pull.preview import Preview, preview_feed
from dropwire.feeds.queries import get_feed
from dropwire.feeds.schemas import FeedCreate, FeedUpdate
from dropwire.feeds.service import create_feed, update_feed
from dropwire.http.deps import DbSession, PathId
from dropwire.web import forms, queries
from dropwire.web.pages import AdminVisitor, CheckedForm, WebRoute, set_flash

router = APIRouter(route_class=WebRoute)

HIDDEN = frozenset({"authentication_token"})  # a secret: set through the API, never shown


def _vendors(session: Session) -> forms.Choices:
    return {"dropship_provider_id": [(str(v.id), v.name) for v in queries.vendor_names(session)]}


def _page(
    request: Request,
    form: forms.Form,
    *,
    heading: str,
    action: str,
    back: str,
    preview: Preview | None = None,
) -> HTMLResponse:
    return forms.edit_page(
        request,
        form,
        heading=heading,
        action=action,
        back=back,
        crumb="Feeds",
        template="feed_edit.html",
        preview=preview,
    )


@router.get("/feeds/new")
def new_feed(request: Request, session: DbSession, _: AdminVisitor) -> HTMLResponse:
    vendor = request.query_params.get("vendor", "")
    form = forms.blank_form(
        FeedCreate,
        values=forms.column_defaults(InventoryFeed) | {"dropship_provider_id": vendor},
        skip=HIDDEN,
        choices=_vendors(session),
    )
    return _page(request, form, heading="Add a feed", action="/feeds/new", back="/feeds")


@router.post("/feeds/new")
def create_feed_page(
    request: Request, session: DbSession, _: AdminVisitor, posted: CheckedForm
) -> Response:
    data, form = forms.parse(FeedCreate, posted, skip=HIDDEN, choices=_vendors(session))
    heading, action = "Add a feed", "/feeds/new"
    if isinstance(data, FeedCreate):
        if _testing(posted):
            preview = _try(session, form, lambda: create_feed(session, data=data))
            return _page(
                request, form, heading=heading, action=action, back="/feeds", preview=preview
            )
        try:
            feed = create_feed(session, data=data)
        except DomainError as exc:
            session.rollback()
            forms.show_refusal(form, exc)
        else:
            return _saved(f"/feeds/{feed.id}", f"Feed {feed.name} added.")
    return _page(request, form, heading=heading, action=action, back="/feeds")


@router.get("/feeds/{feed_id}/edit")
def edit_feed(
    feed_id: PathId, request: Request, session: DbSession, _: AdminVisitor
) -> HTMLResponse:
    feed = get_feed(session, feed_id=feed_id)
    form = forms.blank_form(FeedUpdate, values=_values(feed, FeedUpdate), skip=HIDDEN)
    return _page(
        request,
        form,
        heading=f"Edit {feed.name}",
        action=f"/feeds/{feed.id}/edit",
        back=f"/feeds/{feed.id}",
    )


@router.post("/feeds/{feed_id}/edit")
def update_feed_page(
    feed_id: PathId, request: Request, session: DbSession, _: AdminVisitor, posted: CheckedForm
) -> Response:
    feed = get_feed(session, feed_id=feed_id)
    heading, action, back = f"Edit {feed.name}", f"/feeds/{feed.id}/edit", f"/feeds/{feed.id}"
    data, form = forms.parse(FeedUpdate, posted, skip=HIDDEN)
    if isinstance(data, FeedUpdate):
        if _testing(posted):
            preview = _try(session, form, lambda: update_feed(session, feed=feed, data=data))
            return _page(request, form, heading=heading, action=action, back=back, preview=preview)
        try:
            update_feed(session, feed=feed, data=data)
        except DomainError as exc:
            session.rollback()
            forms.show_refusal(form, exc)
        else:
            return _saved(back, f"Feed {feed.name} saved.")
    return _page(request, form, heading=heading, action=action, back=back)


def _testing(posted: FormData) -> bool:
    return posted.get("intent") == "test"


def _try(session: Session, form: forms.Form, change: Any) -> Preview | None:
    """The feed as the form would save it, test-fetched; nothing is kept.

    The change is made in a savepoint (the service's rules and the table's defaults apply),
    copied, and rolled back; the transaction ends before the file is fetched, so no database
    transaction waits on the network.
    """
    try:
        with session.begin_nested() as attempt:
            feed = change()
            session.flush()
            as_saved = _detached_copy(feed)
            attempt.rollback()
    except DomainError as exc:
        forms.show_refusal(form, exc)
        return None
    session.rollback()
    return preview_feed(settings_of(session), as_saved)


def _detached_copy(feed: InventoryFeed) -> InventoryFeed:
    columns = inspect(InventoryFeed).column_attrs
    return InventoryFeed(**{c.key: getattr(feed, c.key) for c in columns})


def _values(feed: InventoryFeed, schema: type[BaseModel]) -> dict[str, Any]:
    return {name: getattr(feed, name, None) for name in schema.model_fields}


def _saved(location: str, message: str) -> RedirectResponse:
    response = RedirectResponse(location, status_code=303)
    set_flash(response, "ok", message)
    return response
