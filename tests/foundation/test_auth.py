from datetime import timedelta

from dropwire.app import create_app
from dropwire.auth.models import ApiUser
from dropwire.core.settings import Settings
from dropwire.core.time import utcnow
from tests.conftest import make_token


def test_missing_token_is_401(anonymous):
    response = anonymous.get("/api/dropship-providers.json")
    assert response.status_code == 401
    assert "Authorization" in response.json()["message"]


def test_unknown_token_is_401(anonymous):
    response = anonymous.get(
        "/api/dropship-providers.json", headers={"Authorization": "Bearer dw_nope"}
    )
    assert response.status_code == 401


def test_wrong_scheme_is_401(anonymous, admin_token):
    response = anonymous.get(
        "/api/dropship-providers.json", headers={"Authorization": f"Basic {admin_token}"}
    )
    assert response.status_code == 401


def test_token_is_stored_hashed(database, admin_token):
    with database.session(write=False) as session:
        user = session.query(ApiUser).one()
        assert admin_token not in (user.token_digest, user.token_prefix)
        assert len(user.token_digest) == 64


def test_revoked_token_is_401(anonymous, database, admin_token):
    headers = {"Authorization": f"Bearer {admin_token}"}
    assert anonymous.get("/api/channels.json", headers=headers).status_code == 200
    with database.transaction() as session:
        session.query(ApiUser).update({ApiUser.revoked_at: utcnow() - timedelta(seconds=1)})
    assert anonymous.get("/api/channels.json", headers=headers).status_code == 401


def test_bootstrap_admin_token(database):
    from fastapi.testclient import TestClient

    token = "bootstrap-" + "s" * 30
    settings = Settings(database_url=database.url, admin_token=token, _env_file=None)
    with TestClient(create_app(database, settings)) as client:
        ok = client.get("/api/channels.json", headers={"Authorization": f"Bearer {token}"})
        bad = client.get("/api/channels.json", headers={"Authorization": f"Bearer {token}x"})
    assert ok.status_code == 200
    assert bad.status_code == 401


def test_vendor_token_sees_only_its_vendor(vendor_client, client):
    other = client.post("/api/dropship-providers.json", json={"name": "Other"}).json()
    listing = vendor_client.get("/api/dropship-providers.json")
    assert [v["id"] for v in listing.json()] == [vendor_client.vendor_id]
    assert listing.headers["X-Total-Count"] == "1"
    assert vendor_client.get(f"/api/dropship-providers/{other['id']}.json").status_code == 404
    own = vendor_client.get(f"/api/dropship-providers/{vendor_client.vendor_id}.json")
    assert own.status_code == 200


def test_vendor_token_cannot_use_admin_endpoints(vendor_client):
    assert vendor_client.get("/api/channels.json").status_code == 403
    assert vendor_client.post("/api/dropship-providers.json", json={"name": "x"}).status_code == 403
    assert vendor_client.get("/api/api-logs.json").status_code == 403


def test_vendor_cannot_raise_its_own_priority(vendor_client):
    response = vendor_client.put(
        f"/api/dropship-providers/{vendor_client.vendor_id}.json", json={"priority": 0}
    )
    assert response.status_code == 403


def test_vendor_token_for_missing_vendor_is_refused(database):
    import pytest

    from dropwire.core.errors import NotFound

    with pytest.raises(NotFound):
        make_token(database, "ghost", vendor_id=999)


def test_revocation_takes_effect_within_the_auth_cache_lifetime(database, settings, admin_token):
    import time

    from fastapi.testclient import TestClient

    cached = settings.model_copy(update={"auth_cache_seconds": 0.3})
    headers = {"Authorization": f"Bearer {admin_token}"}
    with TestClient(create_app(database, cached)) as client:
        assert client.get("/api/channels.json", headers=headers).status_code == 200
        with database.transaction() as session:
            session.query(ApiUser).update({ApiUser.revoked_at: utcnow()})
        assert client.get("/api/channels.json", headers=headers).status_code == 200  # cached
        time.sleep(0.35)
        assert client.get("/api/channels.json", headers=headers).status_code == 401
