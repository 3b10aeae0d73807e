"""Authenticated hashes are cached; rotating, disabling or deleting their owner forgets them."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from dropwire.app import create_app
from dropwire.core.db import Database
from dropwire.core.settings import Settings
from dropwire.inbound.registry import Owner
from dropwire.inbound.service import HASH_CACHE, HashCache

SALE = "/webhooks/custom-channels/manual-sale.json"
PARSE = "/webhooks/inventory-feeds/parse-webhooks.json"
TTL = 300.0


@pytest.fixture
def cached(database: Database, settings: Settings, admin_token: str) -> Iterator[TestClient]:
    """A server that trusts a checked hash for `TTL` seconds."""
    app = create_app(database, settings.model_copy(update={"auth_cache_seconds": TTL}))
    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {admin_token}"
        yield client


def push_sale(client: TestClient, hash_value: str) -> int:
    sale = {"externalId": "s1", "lineItems": [{"quantity": 1, "variant": {"sku": "S"}}]}
    return client.post(SALE, json=sale, headers={"jetti-webhook-hash": hash_value}).status_code


def push_item(client: TestClient, hash_value: str) -> int:
    items = [{"externalId": "x", "inventoryQuantity": 1}]
    return client.post(PARSE, json=items, headers={"jetti-webhook-hash": hash_value}).status_code


@pytest.fixture
def feed(cached: TestClient) -> dict[str, object]:
    vendor = cached.post("/api/dropship-providers.json", json={"name": "V"}).json()
    feed = cached.post("/api/inventory-feeds.json", json={"dropshipProviderId": vendor["id"]})
    return dict(feed.json())


def test_a_rotated_channel_hash_is_refused_at_once(cached):
    shop = cached.post("/api/custom-channels.json", json={"name": "Shop"}).json()
    old = shop["webhookHash"]
    assert push_sale(cached, old) == 200
    assert HASH_CACHE.get(Owner.custom_channel, old, TTL) == (shop["channelId"], shop["channelId"])
    rotated = cached.post(f"/api/custom-channels/{shop['id']}/rotate-hash.json").json()
    assert push_sale(cached, old) == 401
    assert push_sale(cached, rotated["webhookHash"]) == 200


def test_a_rotated_feed_hash_is_refused_at_once(cached, feed):
    old = str(feed["hash"])
    assert push_item(cached, old) == 200
    rotated = cached.post(f"/api/inventory-feeds/{feed['id']}/rotate-hash.json").json()
    assert push_item(cached, old) == 401
    assert push_item(cached, rotated["hash"]) == 200


def test_a_deleted_feeds_hash_is_refused_at_once(cached, feed):
    assert push_item(cached, str(feed["hash"])) == 200
    assert HASH_CACHE.get(Owner.inventory_feed, str(feed["hash"]), TTL) == (feed["id"], None)
    assert cached.delete(f"/api/inventory-feeds/{feed['id']}.json").status_code == 204
    assert push_item(cached, str(feed["hash"])) == 401


def test_disabling_a_feed_forgets_its_hash(cached, feed):
    assert push_item(cached, str(feed["hash"])) == 200
    changed = cached.put(f"/api/inventory-feeds/{feed['id']}.json", json={"enabled": False})
    assert changed.status_code == 200, changed.text
    assert HASH_CACHE.get(Owner.inventory_feed, str(feed["hash"]), TTL) is None


def test_a_change_made_by_another_process_is_seen_within_the_ttl(cached, feed, database):
    """This process can't see another's rotation: the cached hash works until its TTL ends."""
    old = str(feed["hash"])
    assert push_item(cached, old) == 200
    with database.engine.begin() as connection:  # what another process's rotation stores
        connection.execute(text("UPDATE inventory_feeds SET hash = 'other', hash_digest = 'other'"))
    assert push_item(cached, old) == 200  # within the TTL: still trusted
    assert HASH_CACHE.get(Owner.inventory_feed, old, TTL) is not None
    assert HASH_CACHE.get(Owner.inventory_feed, old, 0) is None  # past it: looked up again


def test_a_lookup_that_raced_an_invalidation_is_not_kept():
    cache = HashCache()
    generation = cache.generation  # a lookup reads the row...
    cache.invalidate()  # ...while another request rotates the hash and commits
    cache.put(Owner.inventory_feed, "h", (1, None), generation)
    assert cache.get(Owner.inventory_feed, "h", TTL) is None
    cache.put(Owner.inventory_feed, "h", (1, None), cache.generation)
    assert cache.get(Owner.inventory_feed, "h", TTL) == (1, None)
