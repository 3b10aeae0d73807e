"""The read-ahead of stored digests finds exactly what a lookup by key finds, whatever the
order of the file: the same order, reversed, shuffled, with blocks missing or new keys among
them, and after the run wrote rows (what was read ahead is read again)."""

import random

import pytest

from dropwire.feeds.models import InventoryFeed
from dropwire.feeds.pull.stored import StoredReader
from dropwire.feeds.upsert import FeedItem, apply_items

STORED = 60


def _stored_feed(database, feed_id: int) -> dict[str, tuple[int, str | None]]:
    with database.transaction() as session:
        feed = session.get(InventoryFeed, feed_id)
        items = [
            FeedItem(f"K{n:03d}", {"inventory_quantity": n}, content_hash=f"h{n}")
            for n in range(STORED)
        ]
        results = apply_items(session, feed=feed, items=items)
    return {r.external_id: (r.feed_variant_id, f"h{n}") for n, r in enumerate(results)}


def _orders() -> dict[str, list[str]]:
    keys = [f"K{n:03d}" for n in range(STORED)]
    shuffled = keys.copy()
    random.Random(7).shuffle(shuffled)
    new_among = [k for n, key in enumerate(keys) for k in ([key, f"N{n}"] if n % 3 else [key])]
    return {
        "same": keys,
        "reversed": keys[::-1],
        "shuffled": shuffled,
        "a block missing": keys[:10] + keys[35:],
        "only the end": keys[50:],
        "new keys among": new_among,
        "all new": [f"N{n}" for n in range(30)],
    }


@pytest.mark.parametrize("order", list(_orders()))
@pytest.mark.parametrize("page", [4, 7, 50])
def test_the_read_ahead_finds_what_a_lookup_finds(database, feed, order, page):
    stored = _stored_feed(database, feed["id"])
    keys = _orders()[order]
    reader = StoredReader(database, feed["id"], page=page)
    try:
        for start in range(0, len(keys), page):
            batch = keys[start : start + page]
            expected = {key: stored[key] for key in batch if key in stored}
            assert reader.read(batch) == expected, (order, start)
    finally:
        reader.close()


def test_rows_written_meanwhile_are_read_again(database, feed):
    stored = _stored_feed(database, feed["id"])
    keys = sorted(stored)
    reader = StoredReader(database, feed["id"], page=5)
    try:
        assert reader.read(keys[:5]) == {key: stored[key] for key in keys[:5]}
        with database.transaction() as session:  # the run writes the next keys' rows
            current = session.get(InventoryFeed, feed["id"])
            apply_items(
                session,
                feed=current,
                items=[FeedItem(key, {}, content_hash="new") for key in keys[5:15]],
            )
        reader.written()
        assert reader.read(keys[5:10]) == {key: (stored[key][0], "new") for key in keys[5:10]}
    finally:
        reader.close()


def test_a_first_run_reads_nothing(database, feed):
    reader = StoredReader(database, feed["id"], page=5)
    assert reader.first and reader.read(["A", "B"]) == {}
    reader.close()
