"""Idempotency-Key on POST and PUT."""

from concurrent.futures import ThreadPoolExecutor

from tests.conftest import make_token


def test_same_key_same_body_replays_the_first_answer(client):
    headers = {"Idempotency-Key": "order-1"}
    first = client.post("/api/channels.json", json={"name": "Store"}, headers=headers)
    second = client.post("/api/channels.json", json={"name": "Store"}, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert client.get("/api/channels.json").headers["X-Total-Count"] == "1"


def test_same_key_different_body_is_409(client):
    headers = {"Idempotency-Key": "order-2"}
    client.post("/api/channels.json", json={"name": "Store"}, headers=headers)
    response = client.post("/api/channels.json", json={"name": "Other"}, headers=headers)
    assert response.status_code == 409
    assert "different request" in response.json()["message"]
    assert client.get("/api/channels.json").headers["X-Total-Count"] == "1"


def test_same_key_on_another_path_is_409(client):
    headers = {"Idempotency-Key": "k"}
    client.post("/api/channels.json", json={"name": "Store"}, headers=headers)
    response = client.post("/api/dropship-providers.json", json={"name": "Store"}, headers=headers)
    assert response.status_code == 409


def test_keys_are_scoped_per_token(client, database):
    headers = {"Idempotency-Key": "shared"}
    client.post("/api/channels.json", json={"name": "Store"}, headers=headers)
    other = {"Authorization": f"Bearer {make_token(database, 'other')}", **headers}
    response = client.post("/api/channels.json", json={"name": "Store"}, headers=other)
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response.headers
    assert client.get("/api/channels.json").headers["X-Total-Count"] == "2"


def test_validation_errors_are_replayed_too(client):
    headers = {"Idempotency-Key": "bad"}
    first = client.post("/api/channels.json", json={"nam": "x"}, headers=headers)
    second = client.post("/api/channels.json", json={"nam": "x"}, headers=headers)
    assert first.status_code == second.status_code == 422
    assert second.headers["Idempotent-Replayed"] == "true"


def test_put_is_covered(client):
    channel = client.post("/api/channels.json", json={"name": "S"}).json()
    headers = {"Idempotency-Key": "put-1"}
    url = f"/api/channels/{channel['id']}.json"
    assert client.put(url, json={"name": "T"}, headers=headers).status_code == 200
    assert client.put(url, json={"name": "U"}, headers=headers).status_code == 409


def test_unauthorised_answers_are_not_remembered(anonymous, admin_token):
    headers = {"Idempotency-Key": "auth"}
    assert (
        anonymous.post("/api/channels.json", json={"name": "S"}, headers=headers).status_code == 401
    )
    authed = {**headers, "Authorization": f"Bearer {admin_token}"}
    assert (
        anonymous.post("/api/channels.json", json={"name": "S"}, headers=authed).status_code == 201
    )


def test_overlong_key_is_400(client):
    response = client.post(
        "/api/channels.json", json={"name": "S"}, headers={"Idempotency-Key": "k" * 300}
    )
    assert response.status_code == 400
    assert client.get("/api/channels.json").json() == []


def test_concurrent_requests_with_one_key_create_one_record(client):
    headers = {"Idempotency-Key": "race"}

    def post() -> int:
        return client.post("/api/channels.json", json={"name": "Race"}, headers=headers).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda _: post(), range(8)))
    assert set(statuses) <= {201, 409}
    assert 201 in statuses
    assert client.get("/api/channels.json").headers["X-Total-Count"] == "1"


def test_a_revoked_token_replays_nothing(client, database):
    from dropwire.auth.models import ApiUser
    from dropwire.core.time import utcnow

    headers = {"Idempotency-Key": "revoked"}
    assert client.post("/api/channels.json", json={"name": "S"}, headers=headers).status_code == 201
    with database.transaction() as session:
        session.query(ApiUser).update({ApiUser.revoked_at: utcnow()})
    replay = client.post("/api/channels.json", json={"name": "S"}, headers=headers)
    assert replay.status_code == 401
    assert "Idempotent-Replayed" not in replay.headers


def test_access_token_callers_get_idempotency_like_header_callers(anonymous, admin_token):
    """The key belongs to the token, wherever the token is sent."""
    key = {"Idempotency-Key": "either-place"}
    by_header = {"Authorization": f"Bearer {admin_token}", **key}
    first = anonymous.post(
        f"/api/channels.json?access_token={admin_token}", json={"name": "S"}, headers=key
    )
    second = anonymous.post("/api/channels.json", json={"name": "S"}, headers=by_header)
    third = anonymous.post(
        f"/api/channels.json?access_token={admin_token}", json={"name": "S"}, headers=key
    )
    assert first.status_code == second.status_code == third.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    assert second.headers["Idempotent-Replayed"] == third.headers["Idempotent-Replayed"] == "true"
    assert second.json() == third.json() == first.json()
    listed = anonymous.get(
        "/api/channels.json", headers={"Authorization": by_header["Authorization"]}
    )
    assert listed.headers["X-Total-Count"] == "1"


def test_access_token_keys_are_scoped_per_token(anonymous, admin_token, database):
    other = make_token(database, "other")
    key = {"Idempotency-Key": "shared"}
    for token in (admin_token, other):
        response = anonymous.post(
            f"/api/channels.json?access_token={token}", json={"name": "S"}, headers=key
        )
        assert response.status_code == 201
        assert "Idempotent-Replayed" not in response.headers
    listed = anonymous.get(f"/api/channels.json?access_token={admin_token}")
    assert listed.headers["X-Total-Count"] == "2"


def test_a_replayed_answer_names_the_ignored_fields_like_the_first(client):
    headers = {"Idempotency-Key": "extra-fields"}
    body = {"name": "Store", "onportOnly": 1, "legacyFlag": True}
    first = client.post("/api/channels.json", json=body, headers=headers)
    second = client.post("/api/channels.json", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.headers["Dropwire-Ignored-Fields"] == "onportOnly, legacyFlag"
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.headers["Dropwire-Ignored-Fields"] == first.headers["Dropwire-Ignored-Fields"]
    assert second.json() == first.json()


def test_a_replay_without_ignored_fields_names_none(client):
    headers = {"Idempotency-Key": "clean"}
    client.post("/api/channels.json", json={"name": "Store"}, headers=headers)
    second = client.post("/api/channels.json", json={"name": "Store"}, headers=headers)
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Dropwire-Ignored-Fields" not in second.headers
