"""Every error answer has the contract's body: RFC 9457 `title`, `status`, `detail`, a stable
`code`, and the older `message` / `errors` — on the sync API, the async inbound API and the
Elastic Path webhook, over a real socket."""

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http import HTTPStatus

import httpx
import pytest
from fastapi.testclient import TestClient

from dropwire.app import create_app
from dropwire.core.db import Database
from dropwire.core.settings import Settings
from tests.conftest import LiveServer, make_token
from tests.inbound.test_group_commit import refusing_jobs  # noqa: F401  (a fixture)

ASYNC_SALE = "/webhooks/custom-channels/manual-sale.json"
JSON = {"content-type": "application/json"}


@dataclass
class Api:
    """A live server with modest rate limits, an admin token and a custom channel's hash."""

    http: httpx.Client
    admin: dict[str, str]
    database: Database
    webhook_hash: str

    def as_admin(
        self,
        method: str,
        path: str,
        *,
        json: object = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        return self.http.request(
            method, path, json=json, content=content, headers={**self.admin, **(headers or {})}
        )


@pytest.fixture
def api(database: Database, settings: Settings, admin_token: str) -> Iterator[Api]:
    limited = settings.model_copy(
        update={
            "rate_limit_enabled": True,
            "rate_limit_read": "5/minute",
            "rate_limit_write": "5/minute",
            "rate_limit_storage": "memory://",
        }
    )
    admin = {"Authorization": f"Bearer {admin_token}"}
    with (
        LiveServer(create_app(database, limited)) as base_url,
        httpx.Client(base_url=base_url, timeout=30) as http,
    ):
        shop = http.post("/api/custom-channels.json", json={"name": "Shop"}, headers=admin)
        yield Api(http, admin, database, shop.json()["webhookHash"])


def _vendor_on_admin_endpoint(api: Api) -> httpx.Response:
    vendor = api.as_admin("POST", "/api/dropship-providers.json", json={"name": "V"}).json()
    token = make_token(api.database, "vendor", vendor_id=vendor["id"])
    return api.http.get("/api/variants.json", headers={"Authorization": f"Bearer {token}"})


def _taken_external_id(api: Api) -> httpx.Response:
    body = {"name": "V", "externalId": "same"}
    api.as_admin("POST", "/api/dropship-providers.json", json=body)
    return api.as_admin("POST", "/api/dropship-providers.json", json=body)


def _over_the_read_limit(api: Api) -> httpx.Response:
    token = make_token(api.database, "eager")
    answers = [
        api.http.get("/api/channels.json", headers={"Authorization": f"Bearer {token}"})
        for _ in range(6)
    ]
    return answers[-1]


def _oversized(api: Api, path: str, headers: dict[str, str]) -> httpx.Response:
    body = json.dumps([{"externalId": "x" * 1_100_000}]).encode()
    return api.http.post(path, content=body, headers={**headers, **JSON})


@dataclass(frozen=True)
class Case:
    status: int
    code: str
    send: Callable[[Api], httpx.Response]
    field: str | None = None


CASES: dict[str, Case] = {
    "api 400 malformed JSON": Case(
        400,
        "malformed",
        lambda a: a.as_admin("POST", "/api/channels.json", content=b"{nope", headers=JSON),
        "body",
    ),
    "api 401 no token": Case(401, "unauthorized", lambda a: a.http.get("/api/channels.json")),
    "api 403 vendor token on an admin endpoint": Case(
        403, "auth.admin_only", _vendor_on_admin_endpoint
    ),
    "api 404 unknown path": Case(
        404, "not_found", lambda a: a.as_admin("GET", "/api/no-such-thing.json")
    ),
    "api 404 unknown record": Case(
        404, "not_found", lambda a: a.as_admin("GET", "/api/channels/999999.json")
    ),
    "api 405 method": Case(
        405, "method_not_allowed", lambda a: a.as_admin("DELETE", "/api/channels.json")
    ),
    "api 409 taken externalId": Case(
        409, "vendor.external_id_taken", _taken_external_id, "externalId"
    ),
    "api 413 body too large": Case(
        413, "too_large", lambda a: _oversized(a, "/api/dropship-providers.json", a.admin)
    ),
    "api 422 request validation": Case(
        422,
        "invalid",
        lambda a: a.as_admin("POST", "/api/dropship-providers.json", json={"email": 5}),
        "name",
    ),
    "api 422 unknown reference": Case(
        422,
        "unknown_reference",
        lambda a: a.as_admin(
            "POST", "/api/inventory-feeds.json", json={"dropshipProviderId": 999999}
        ),
        "dropshipProviderId",
    ),
    "api 429 over the limit": Case(429, "too_many_requests", _over_the_read_limit),
    "async 400 malformed JSON": Case(
        400,
        "malformed",
        lambda a: a.http.post(
            ASYNC_SALE, content=b"[{", headers={"jetti-webhook-hash": a.webhook_hash, **JSON}
        ),
        "body",
    ),
    "async 401 no hash": Case(401, "unauthorized", lambda a: a.http.post(ASYNC_SALE, json=[])),
    "async 404 unknown path": Case(
        404, "not_found", lambda a: a.http.post("/webhooks/no-such-thing.json", json=[])
    ),
    "async 405 method": Case(405, "method_not_allowed", lambda a: a.http.get(ASYNC_SALE)),
    "async 413 body too large": Case(
        413,
        "too_large",
        lambda a: _oversized(a, ASYNC_SALE, {"jetti-webhook-hash": a.webhook_hash}),
    ),
    "async 422 no items": Case(
        422,
        "invalid",
        lambda a: a.http.post(ASYNC_SALE, json=[], headers={"jetti-webhook-hash": a.webhook_hash}),
        "body",
    ),
    "elastic path 400 malformed JSON": Case(
        400,
        "malformed",
        lambda a: a.http.post("/webhooks/elasticpath/1", content=b"{", headers=JSON),
        "body",
    ),
    "elastic path 401 wrong secret": Case(
        401,
        "unauthorized",
        lambda a: a.http.post(
            "/webhooks/elasticpath/1",
            json={"id": "e1", "triggered_by": "order.paid"},
            headers={"x-moltin-secret-key": "wrong"},
        ),
    ),
    "elastic path 405 method": Case(
        405, "method_not_allowed", lambda a: a.http.get("/webhooks/elasticpath/1")
    ),
    "elastic path 422 channel id": Case(
        422,
        "invalid",
        lambda a: a.http.post("/webhooks/elasticpath/abc", json={}),
        "channel_id",
    ),
}


def assert_problem(answer: httpx.Response, status: int, code: str, field: str | None) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].split(";")[0] == "application/json"
    body = answer.json()
    assert body["title"] == HTTPStatus(status).phrase
    assert body["status"] == status
    assert body["code"] == code
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["message"] == body["detail"]
    assert isinstance(body["errors"], list)
    if field is not None:
        assert field in [problem["field"] for problem in body["errors"]], body


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_every_error_answer_carries_the_contract_body(api: Api, case: Case):
    assert_problem(case.send(api), case.status, case.code, case.field)


@pytest.mark.usefixtures("refusing_jobs")
def test_a_passing_database_failure_is_a_503_with_the_contract_body(api: Api):
    sale = {"externalId": "fail-1", "lineItems": [{"quantity": 1, "variant": {"sku": "S"}}]}
    answer = api.http.post(ASYNC_SALE, json=sale, headers={"jetti-webhook-hash": api.webhook_hash})
    assert_problem(answer, 503, "unavailable", None)
    assert answer.headers["Retry-After"] == "1"


def test_a_429_says_when_to_retry(api: Api):
    answer = _over_the_read_limit(api)
    assert int(answer.headers["Retry-After"]) >= 1


def test_a_domain_rule_answers_its_own_code(client: TestClient):
    variant = client.post("/api/variants.json", json={"sku": "ONE", "name": "One"})
    assert variant.status_code == 201, variant.text
    taken = client.post("/api/variants.json", json={"sku": "ONE", "name": "Again"})
    assert taken.status_code == 409
    assert taken.json()["code"] == "catalog.sku_taken"
    assert taken.json()["errors"][0]["field"] == "sku"
