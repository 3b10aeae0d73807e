"""Pull-feed background work: the schedule's job handler, and a poller that carries out runs.

Runs are not jobs: a job's effects commit with its completion in one transaction, while a run
commits batch by batch (so it reports what it applied if it stops). The worker serves queued
runs through a poller; the schedule itself rides on the job queue.
"""

from typing import Any

from sqlalchemy.orm import Session

from dropwire.core.db import Database
from dropwire.core.errors import DomainError
from dropwire.feeds.models import InventoryFeed
from dropwire.feeds.pull import runs
from dropwire.feeds.pull.schedule import SCHEDULE_KIND, is_due, schedule_feed
from dropwire.jobs.registry import JobKind
from dropwire.jobs.worker import worker_name


def scheduled_fetch(session: Session, payload: dict[str, Any]) -> None:
    """Queue a run (unless one is still going) and the next firing of the same schedule."""
    feed = session.get(InventoryFeed, int(payload["feedId"]))
    if feed is None or not is_due(feed, str(payload.get("key"))):
        return  # deleted, its schedule changed, or another job of it already fired
    try:
        with session.begin_nested():
            runs.request_run(session, feed=feed, trigger="schedule")
    except DomainError:
        pass  # a run is still queued or going: this firing is covered by it
    schedule_feed(session, feed=feed)


def run_queued_feeds(database: Database) -> int:
    """Carry out the oldest queued run, if any (the worker calls this every round)."""
    run_id = runs.claim_next_run(database, worker_name())
    if run_id is None:
        return 0
    runs.execute_run(database, run_id)
    return 1


SCHEDULED_FETCH = JobKind(SCHEDULE_KIND, scheduled_fetch)
