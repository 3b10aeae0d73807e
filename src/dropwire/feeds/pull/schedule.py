"""When a pull feed fetches by itself: a job on the queue per feed, re-queued after each firing.

A job names the schedule it belongs to (feed, frequency, interval): changing a feed's schedule
queues a new job, and the old one, when it fires, sees it is stale and stops. The feed's
`next_fetch_at` says which firing is due, so two jobs of one schedule never both carry on.
"""

from datetime import timedelta

from sqlalchemy.orm import Session

from dropwire.core.time import utcnow
from dropwire.feeds.models import FetchFrequency, InventoryFeed, ResourceType
from dropwire.jobs import service as jobs

SCHEDULE_KIND = "feeds.scheduled_fetch"


def interval(feed: InventoryFeed) -> timedelta | None:
    """How often the feed fetches by itself; None when it never does."""
    if not feed.enabled or feed.resource_type == ResourceType.webhook:
        return None
    if not feed.resource_location:
        return None
    frequency = FetchFrequency(feed.fetch_frequency)
    if frequency is FetchFrequency.hourly:
        return timedelta(hours=1)
    if frequency is FetchFrequency.daily:
        return timedelta(days=1)
    if frequency is FetchFrequency.custom and feed.fetch_interval_minutes:
        return timedelta(minutes=feed.fetch_interval_minutes)
    return None


def schedule_key(feed: InventoryFeed) -> str:
    return f"feed-schedule:{feed.id}:{feed.fetch_frequency}:{feed.fetch_interval_minutes or 0}"


def schedule_feed(
    session: Session, *, feed: InventoryFeed, first_in: timedelta | None = None
) -> None:
    """Queue the feed's next scheduled fetch (none when the feed has no schedule)."""
    every = interval(feed)
    if every is None:
        feed.next_fetch_at = None
        return
    feed.next_fetch_at = utcnow() + (every if first_in is None else first_in)
    jobs.enqueue(
        session,
        kind=SCHEDULE_KIND,
        payload={"feedId": feed.id, "key": schedule_key(feed)},
        priority=jobs.PRIORITY_DEFAULT,
        run_at=feed.next_fetch_at,
    )


def is_due(feed: InventoryFeed, key: str) -> bool:
    """Whether a firing job of schedule `key` is the feed's current, due one."""
    if key != schedule_key(feed) or feed.next_fetch_at is None:
        return False
    return feed.next_fetch_at <= utcnow() + SLACK


SLACK = timedelta(seconds=30)
