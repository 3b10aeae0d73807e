from sqlalchemy import update

from dropwire.catalog.models import ChannelVariant
from dropwire.channels.models import Channel, InventorySync
from dropwire.channels.quantities import changed_channel_quantities, channel_quantity, record_pushed
from dropwire.inventory import service
from dropwire.inventory.locations import location_for_feed
from tests.inventory.conftest import warehouse_location


def setup(database, variant_factory, sync):
    variant = variant_factory("A")
    with database.transaction() as session:
        channel = Channel(name="Store", inventory_sync=sync)
        session.add(channel)
        session.flush()
        session.add(ChannelVariant(channel_id=channel.id, variant_id=variant))
        return variant, channel.id


def quantity(database, channel_id, variant):
    with database.session(write=False) as session:
        return channel_quantity(
            session, channel=session.get(Channel, channel_id), variant_id=variant
        )


def test_all_counts_warehouses_and_feeds_minus_buffers(database, variant_factory):
    variant, channel_id = setup(database, variant_factory, InventorySync.all)
    home = warehouse_location(database)
    with database.transaction() as session:
        feed = location_for_feed(session, inventory_feed_id=41).id
        service.adjust_stocked(session, variant_id=variant, location_id=home, delta=5)
        service.adjust_stocked(session, variant_id=variant, location_id=feed, delta=10)
        service.set_buffer(session, variant_id=variant, location_id=feed, buffer=3)
        service.allocate(session, requests=[service.AllocationRequest(variant, home, 2)])
    assert quantity(database, channel_id, variant) == (5 - 2) + (10 - 3)


def test_buffer_larger_than_stock_floors_at_zero(database, variant_factory):
    variant, channel_id = setup(database, variant_factory, InventorySync.all)
    with database.transaction() as session:
        feed = location_for_feed(session, inventory_feed_id=41).id
        service.adjust_stocked(session, variant_id=variant, location_id=feed, delta=2)
        service.set_buffer(session, variant_id=variant, location_id=feed, buffer=5)
    home = warehouse_location(database)
    with database.transaction() as session:
        service.adjust_stocked(session, variant_id=variant, location_id=home, delta=4)
    assert quantity(database, channel_id, variant) == 4


def test_feeds_only_speaks_for_feed_stocked_variants(database, variant_factory):
    variant, channel_id = setup(database, variant_factory, InventorySync.feeds)
    home = warehouse_location(database)
    with database.transaction() as session:
        service.adjust_stocked(session, variant_id=variant, location_id=home, delta=5)
    assert quantity(database, channel_id, variant) is None
    with database.transaction() as session:
        feed = location_for_feed(session, inventory_feed_id=9).id
        service.adjust_stocked(session, variant_id=variant, location_id=feed, delta=1)
    assert quantity(database, channel_id, variant) == 6


def test_none_never_speaks(database, variant_factory):
    variant, channel_id = setup(database, variant_factory, InventorySync.none)
    home = warehouse_location(database)
    with database.transaction() as session:
        service.adjust_stocked(session, variant_id=variant, location_id=home, delta=5)
        assert changed_channel_quantities(session, variant_ids=[variant]) == []
    assert quantity(database, channel_id, variant) is None


def test_changed_channel_quantities_compares_with_last_pushed(database, variant_factory):
    variant, _ = setup(database, variant_factory, InventorySync.all)
    home = warehouse_location(database)
    with database.transaction() as session:
        service.adjust_stocked(session, variant_id=variant, location_id=home, delta=5)
        ((channel_variant, value),) = changed_channel_quantities(
            session, variant_ids=service.touched_variants(session)
        )
        assert value == 5
        record_pushed(channel_variant, value)
    with database.transaction() as session:
        assert changed_channel_quantities(session, variant_ids=[variant]) == []
        service.adjust_stocked(session, variant_id=variant, location_id=home, delta=-1)
        assert [q for _, q in changed_channel_quantities(session, variant_ids=[variant])] == [4]
        session.execute(update(ChannelVariant).values(status="ignore"))
        assert changed_channel_quantities(session, variant_ids=[variant]) == []
