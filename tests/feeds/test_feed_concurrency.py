"""The daily SKU limit is counted exactly when many requests race (PostgreSQL)."""

from concurrent.futures import ThreadPoolExecutor

from dropwire.core.errors import TooManyRequests
from dropwire.feeds import service
from dropwire.feeds.models import InventoryFeed, InventoryFeedVariant
from dropwire.feeds.schemas import FeedCreate, FeedVariantData
from dropwire.vendors.models import DropshipProvider


def test_limit_is_exact_under_concurrency(database, postgres_only, configure):
    configure(daily_sku_limit="10")
    with database.transaction() as session:
        vendor = DropshipProvider(name="V")
        session.add(vendor)
        session.flush()
        feed_id = service.create_feed(session, data=FeedCreate(dropship_provider_id=vendor.id)).id

    def push(n: int) -> str:
        try:
            with database.transaction() as session:
                feed = session.get(InventoryFeed, feed_id)
                assert feed is not None
                service.upsert_feed_variant(
                    session,
                    feed=feed,
                    data=FeedVariantData(external_id=f"item-{n % 25}", inventory_quantity=n),
                )
            return "ok"
        except TooManyRequests:
            return "limited"

    with ThreadPoolExecutor(max_workers=12) as pool:
        outcomes = list(pool.map(push, range(60)))
    with database.session(write=False) as session:
        stored = session.query(InventoryFeedVariant).count()
    assert stored == 10
    assert "limited" in outcomes
