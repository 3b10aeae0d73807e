import pytest
from fastapi.testclient import TestClient

from dropwire.app import create_app


@pytest.fixture
def throttled(database, settings):
    limited = settings.model_copy(
        update={
            "rate_limit_enabled": True,
            "rate_limit_read": "3/minute",
            "rate_limit_write": "2/minute",
            "rate_limit_storage": "memory://",
        }
    )
    with TestClient(create_app(database, limited), raise_server_exceptions=False) as client:
        yield client


def test_reads_over_the_limit_get_429_with_headers(throttled, admin_token):
    headers = {"Authorization": f"Bearer {admin_token}"}
    statuses = [throttled.get("/api/channels.json", headers=headers) for _ in range(4)]
    assert [r.status_code for r in statuses] == [200, 200, 200, 429]
    assert statuses[0].headers["X-RateLimit-Limit"] == "3"
    assert statuses[1].headers["X-RateLimit-Remaining"] == "1"
    refused = statuses[3]
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert "limit" in refused.json()["message"]


def test_writes_have_their_own_limit_and_are_not_processed(throttled, admin_token):
    headers = {"Authorization": f"Bearer {admin_token}"}
    codes = [
        throttled.post("/api/channels.json", json={"name": f"c{i}"}, headers=headers).status_code
        for i in range(3)
    ]
    assert codes == [201, 201, 429]
    assert throttled.get("/api/channels.json", headers=headers).headers["X-Total-Count"] == "2"


def test_limits_are_per_token(throttled, admin_token, database):
    from tests.conftest import make_token

    first = {"Authorization": f"Bearer {admin_token}"}
    second = {"Authorization": f"Bearer {make_token(database, 'second')}"}
    for _ in range(3):
        throttled.get("/api/channels.json", headers=first)
    assert throttled.get("/api/channels.json", headers=first).status_code == 429
    assert throttled.get("/api/channels.json", headers=second).status_code == 200


def test_webhooks_get_ten_times_the_limit(throttled, client):
    vendor = client.post("/api/dropship-providers.json", json={"name": "V"}).json()
    feed = client.post(
        "/api/inventory-feeds.json", json={"dropshipProviderId": vendor["id"]}
    ).json()
    headers = {"jetti-webhook-hash": feed["hash"]}
    codes = [
        throttled.post(
            "/webhooks/inventory-feeds/parse-webhooks.json",
            json=[{"externalId": str(i)}],
            headers=headers,
        ).status_code
        for i in range(21)
    ]
    assert codes.count(200) == 20
    assert codes[-1] == 429


def test_redis_storage_is_shared_between_apps(database, settings, admin_token):
    redis = pytest.importorskip("redis")
    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    import uuid

    limited = settings.model_copy(
        update={
            "rate_limit_enabled": True,
            "rate_limit_read": "2/minute",
            "rate_limit_storage": "redis://127.0.0.1:6379",
        }
    )
    token_headers = {"Authorization": f"Bearer {admin_token}", "X-Test": uuid.uuid4().hex}
    with (
        TestClient(create_app(database, limited)) as one,
        TestClient(create_app(database, limited)) as two,
    ):
        assert one.get("/api/channels.json", headers=token_headers).status_code == 200
        assert two.get("/api/channels.json", headers=token_headers).status_code == 200
        assert one.get("/api/channels.json", headers=token_headers).status_code == 429


def test_access_token_callers_are_throttled_as_one_identity_with_the_header(throttled, admin_token):
    by_query = f"/api/channels.json?access_token={admin_token}"
    by_header = {"Authorization": f"Bearer {admin_token}"}
    assert throttled.get(by_query).status_code == 200
    assert throttled.get("/api/channels.json", headers=by_header).status_code == 200
    assert throttled.get(by_query).headers["X-RateLimit-Remaining"] == "0"
    assert throttled.get("/api/channels.json", headers=by_header).status_code == 429
    assert throttled.get(by_query).status_code == 429
