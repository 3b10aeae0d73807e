"""Feed pages shared by the admin and the vendor portal: a feed, its runs, one run, "Run now".

The visitor's principal goes to `feeds.queries.get_feed`, which answers 404 for another vendor's
feed, and a run is looked up only among the runs of that feed; so the two portals differ only in
their base path and in who may approve or discard a held run (admins, as in the API).
"""

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dropwire.feeds.models import InventoryFeed, InventoryFeedRun, ResourceType
from dropwire.feeds.pull import runs
from dropwire.feeds.queries import get_feed
from dropwire.web import queries
from dropwire.web.listings import feed_items_of, feed_runs_of, list_page
from dropwire.web.pages import perform, render
from dropwire.web.sessions import Visitor

RECENT_RUNS = 5


def is_pull(feed: InventoryFeed) -> bool:
    return feed.resource_type != ResourceType.webhook and bool(feed.resource_location)


def feed_page(
    request: Request, session: Session, *, visitor: Visitor, feed_id: int, base: str
) -> HTMLResponse:
    feed = get_feed(session, feed_id=feed_id, principal=visitor.principal)
    rows = list_page(request, session, visitor=visitor, listing=feed_items_of(feed.id))
    recent = session.execute(
        queries.feed_runs(feed.id).order_by(InventoryFeedRun.id.desc()).limit(RECENT_RUNS)
    ).all()
    run_count = session.scalar(
        select(func.count(InventoryFeedRun.id)).where(InventoryFeedRun.inventory_feed_id == feed.id)
    )
    return render(
        request,
        "feed.html",
        feed=feed,
        table=rows,
        base=base,
        runs=recent,
        run_count=int(run_count or 0),
        pull=is_pull(feed),
    )


def runs_page(
    request: Request, session: Session, *, visitor: Visitor, feed_id: int, base: str
) -> HTMLResponse:
    feed = get_feed(session, feed_id=feed_id, principal=visitor.principal)
    rows = list_page(request, session, visitor=visitor, listing=feed_runs_of(feed.id))
    return render(request, "feed_runs.html", feed=feed, table=rows, base=base, pull=is_pull(feed))


def run_page(
    request: Request, session: Session, *, visitor: Visitor, feed_id: int, run_id: int, base: str
) -> HTMLResponse:
    feed = get_feed(session, feed_id=feed_id, principal=visitor.principal)
    run = runs.get_run(session, run_id=run_id, feed_ids=[feed.id])
    return render(
        request,
        "feed_run.html",
        feed=feed,
        run=run,
        base=base,
        can_decide=visitor.is_admin,
    )


def run_now(session: Session, *, visitor: Visitor, feed_id: int, base: str) -> RedirectResponse:
    """Queue a run: the service behind POST /api/inventory-feeds/{id}/fetch.json."""
    feed = get_feed(session, feed_id=feed_id, principal=visitor.principal)
    queued: list[int] = []

    def act() -> str:
        run = runs.request_run(session, feed=feed, trigger="manual")
        queued.append(run.id)
        return f"Run {run.id} is queued; a worker fetches the file within moments."

    response = perform(session, action=act, back=f"{base}/{feed.id}")
    if queued:
        response.headers["location"] = f"{base}/{feed.id}/runs/{queued[0]}"
    return response


def decide(
    session: Session, *, visitor: Visitor, feed_id: int, run_id: int, base: str, approve: bool
) -> RedirectResponse:
    """Approve (apply after all) or discard a held run, as the API's approve/discard do."""
    feed = get_feed(session, feed_id=feed_id, principal=visitor.principal)
    run = runs.get_run(session, run_id=run_id, feed_ids=[feed.id])

    def act() -> str:
        if approve:
            runs.approve_run(session, run=run)
            return f"Run {run.id} is approved and queued again; the guard stands aside."
        runs.discard_run(session, run=run)
        return f"Run {run.id} is discarded; the feed's stock is unchanged."

    return perform(session, action=act, back=f"{base}/{feed.id}/runs/{run_id}")
