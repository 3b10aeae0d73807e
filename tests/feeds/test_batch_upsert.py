"""The set-based batch upsert ends where the same items sent one by one end."""

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlalchemy import func, select

from dropwire.catalog.schemas import VariantCreate
from dropwire.catalog.service import create_variant
from dropwire.core.errors import DomainError, TooManyRequests
from dropwire.feeds import service
from dropwire.feeds.models import InventoryFeedVariant
from dropwire.feeds.schemas import FeedCreate, FeedVariantData
from dropwire.feeds.upsert import Outcome
from dropwire.inventory.locations import location_for_feed
from dropwire.inventory.models import InventoryLevel, InventoryMovement
from dropwire.vendors.models import DropshipProvider

CATALOG = [("S1", "111"), ("S2", "222"), ("s3", "333")]

items = st.lists(
    st.fixed_dictionaries(
        {"externalId": st.sampled_from(["a", "b", "c", "d"])},
        optional={
            "vendorSku": st.sampled_from(["S1", "s1", "S2", "S3", "X", "a"]),
            "inventoryQuantity": st.sampled_from([0, 1, 5, 9, -1]),
            "barcode": st.sampled_from(["111", "222", "333", "999"]),
            "name": st.sampled_from(["one", "two"]),
        },
    ),
    min_size=1,
    max_size=12,
)
feed_flags = st.fixed_dictionaries(
    {
        "case_insensitive_skus": st.booleans(),
        "automatically_connect": st.booleans(),
        "automatically_connect_by_barcode": st.booleans(),
        "allocation_buffer": st.sampled_from([0, 2]),
    }
)


@pytest.fixture
def catalog(database):
    with database.transaction() as session:
        for sku, barcode in CATALOG:
            create_variant(session, data=VariantCreate(sku=sku, name=sku, barcode=barcode))


def _state(session, feed_id: int) -> dict[str, Any]:
    location = location_for_feed(session, inventory_feed_id=feed_id)
    rows = session.scalars(
        select(InventoryFeedVariant)
        .where(InventoryFeedVariant.inventory_feed_id == feed_id)
        .execution_options(populate_existing=True)
    )
    variants = {
        fv.external_id: (
            fv.vendor_sku,
            fv.vendor_sku_key,
            fv.inventory_quantity,
            fv.name,
            fv.barcode,
            fv.variant_id,
            fv.problem,
            fv.content_hash,
        )
        for fv in rows
    }
    levels = {
        level.variant_id: (level.stocked, level.allocated, level.buffer)
        for level in session.scalars(
            select(InventoryLevel)
            .where(InventoryLevel.location_id == location.id)
            .execution_options(populate_existing=True)
        )
    }
    ledger = dict(
        session.execute(
            select(InventoryMovement.variant_id, func.sum(InventoryMovement.delta_stocked))
            .where(InventoryMovement.location_id == location.id)
            .group_by(InventoryMovement.variant_id)
        ).all()
    )
    return {"variants": variants, "levels": levels, "ledger": ledger}


def _new_feed(session, flags: dict[str, Any]):
    vendor = DropshipProvider(name="V")
    session.add(vendor)
    session.flush()
    return service.create_feed(session, data=FeedCreate(dropship_provider_id=vendor.id, **flags))


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(batch=items, flags=feed_flags)
def test_a_batch_ends_where_the_same_singles_end(database, catalog, batch, flags):
    session = database.session()
    try:
        with session.begin():
            singles_feed = _new_feed(session, flags)
            batch_feed = _new_feed(session, flags)
            valid = []
            for raw in batch:
                try:
                    valid.append(FeedVariantData.model_validate(raw))
                except ValidationError:
                    continue
            single_failures = set()
            for index, data in enumerate(valid):
                try:
                    with session.begin_nested():
                        service.upsert_feed_variant(session, feed=singles_feed, data=data)
                except DomainError:
                    single_failures.add(index)
            results = service.upsert_feed_variants(session, feed=batch_feed, items=valid)
            assert single_failures == {r.row for r in results if r.outcome is Outcome.failed}
            assert _state(session, singles_feed.id) == _state(session, batch_feed.id)
            session.rollback()
    finally:
        session.close()


def test_batch_counts_and_one_statement_set(database, catalog):
    with database.transaction() as session:
        feed = _new_feed(session, {})
        data = [
            FeedVariantData(external_id=f"e{n}", vendor_sku=f"S{n}", inventory_quantity=n)
            for n in range(1, 4)
        ]
        first = service.upsert_feed_variants(session, feed=feed, items=data)
        assert [r.outcome for r in first] == [Outcome.created] * 3
        again = service.upsert_feed_variants(session, feed=feed, items=data)
        assert [r.outcome for r in again] == [Outcome.unchanged] * 3
        data[1] = FeedVariantData(external_id="e2", vendor_sku="S2", inventory_quantity=7)
        third = service.upsert_feed_variants(session, feed=feed, items=data)
        assert [r.outcome for r in third] == [
            Outcome.unchanged,
            Outcome.updated,
            Outcome.unchanged,
        ]
        state = _state(session, feed.id)
        connected = {k: v[5] for k, v in state["variants"].items()}
        assert connected["e1"] is not None and connected["e2"] is not None
        assert connected["e3"] is None  # no catalog SKU "S3" (the catalog has "s3")
        assert sorted(state["levels"].values()) == [(1, 0, 0), (7, 0, 0)]
        assert state["ledger"] == {v: lvl[0] for v, lvl in state["levels"].items()}


def test_daily_sku_limit_fails_the_items_past_it(database, configure):
    configure(daily_sku_limit="2")
    with database.transaction() as session:
        feed = _new_feed(session, {})
        data = [FeedVariantData(external_id=k, inventory_quantity=1) for k in ("a", "b", "c", "a")]
        results = service.upsert_feed_variants(session, feed=feed, items=data)
        assert [r.outcome for r in results] == [
            Outcome.created,
            Outcome.created,
            Outcome.failed,
            Outcome.unchanged,
        ]
        assert isinstance(results[2].error, TooManyRequests)
        assert results[2].error.code == "feed.daily_sku_limit"
        total = session.scalar(
            select(func.count())
            .select_from(InventoryFeedVariant)
            .where(InventoryFeedVariant.inventory_feed_id == feed.id)
        )
        assert total == 2
