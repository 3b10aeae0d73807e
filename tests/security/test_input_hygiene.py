"""NUL bytes, other control characters, lone surrogates and oversized items: a 422 naming the
field (or an API-log row for async items), the same on SQLite and PostgreSQL, never a 500, and
SQL parameters never in a log."""

import json
import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from dropwire.apilog.models import ApiLog
from dropwire.core.schemas import may_hold_unstorable, unstorable_in
from dropwire.jobs.service import run_pending
from dropwire.vendors.models import DropshipProvider


@pytest.fixture
def channel(client):
    return client.post("/api/channels.json", json={"name": "Store"}).json()


@pytest.mark.parametrize(
    ("value", "what"),
    [
        ("a\x00b", "U+0000"),
        ("a\x01b", "U+0001"),
        ("a\x1bb", "U+001B"),
        ("a\x7fb", "U+007F"),
        ("a\x85b", "U+0085"),
        ("a\ud800b", "U+D800"),
    ],
)
def test_unstorable_characters_are_422_naming_the_field(client, value, what):
    raw = json.dumps({"name": "Vendor", "email": value}).encode()  # \\u escapes, as JSON allows
    response = client.post(
        "/api/dropship-providers.json", content=raw, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422, response.text
    (problem,) = response.json()["errors"]
    assert problem["field"] == "email"
    if what != "U+D800":  # pydantic itself refuses a lone surrogate (no valid unicode string)
        assert what in problem["message"]
    assert client.get("/api/dropship-providers.json").json() == []


def test_nested_fields_lists_and_dict_keys_are_named(client, channel):
    sale = {
        "externalId": "o1",
        "lineItems": [
            {"externalId": "l1", "name": "ok\x00", "quantity": 1, "variant": {"sku": "S"}}
        ],
    }
    response = client.post(f"/api/channels/{channel['id']}/manual-sale.json", json=sale)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "lineItems[0].name"

    sale = {
        "externalId": "o1",
        "options": {"gift\x00": "yes"},
        "lineItems": [{"externalId": "l1", "quantity": 1, "variant": {"sku": "S"}}],
    }
    response = client.post(f"/api/channels/{channel['id']}/manual-sale.json", json=sale)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "options"
    assert "gift" in response.json()["errors"][0]["message"]


def test_tabs_and_newlines_stay_allowed_in_free_text(client, channel):
    client.post("/api/variants.json", json={"sku": "S", "name": "S"})
    sale = {
        "externalId": "o1",
        "saleDefaults": {"notes": "line one\n\tline two\r\n"},
        "lineItems": [{"externalId": "l1", "quantity": 1, "variant": {"sku": "S"}}],
    }
    response = client.post(f"/api/channels/{channel['id']}/manual-sale.json", json=sale)
    assert response.status_code == 200, response.text


def test_list_filters_refuse_control_characters(client):
    response = client.get("/api/dropship-providers.json", params={"where[name]": "a\x00b"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "where[name]"


def _refused_before_queueing(client, raw: bytes, what: str) -> None:
    """An async parse-webhooks body with unstorable text: 422 naming the item's field, no job."""
    vendor = client.post("/api/dropship-providers.json", json={"name": "V"}).json()
    feed = client.post("/api/inventory-feeds.json", json={"dropshipProviderId": vendor["id"]})
    response = client.post(
        "/webhooks/inventory-feeds/parse-webhooks.json",
        content=raw,
        headers={"jetti-webhook-hash": feed.json()["hash"], "content-type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "[0].externalId"
    assert what in response.json()["errors"][0]["message"]
    assert client.get("/api/jobs.json").json() == []


@pytest.mark.parametrize(("value", "what"), [("x\x00y", "U+0000"), ("x\ud800y", "U+D800")])
def test_async_items_with_nul_are_refused_before_queueing(client, database, value, what):
    raw = json.dumps([{"externalId": value, "inventoryQuantity": 1}]).encode()
    _refused_before_queueing(client, raw, what)
    rows = client.get("/api/api-logs.json", params={"where[direction]": "inbound-async"}).json()
    assert [r["httpStatus"] for r in rows] == [422]


def test_async_error_rows_keep_at_most_the_log_size(client, database):
    vendor = client.post("/api/dropship-providers.json", json={"name": "V"}).json()
    feed = client.post("/api/inventory-feeds.json", json={"dropshipProviderId": vendor["id"]})
    item = {"externalId": "big", "inventoryQuantity": 1, "name": "n" * 900_000}
    response = client.post(
        "/webhooks/inventory-feeds/parse-webhooks.json",
        json=[item],
        headers={"jetti-webhook-hash": feed.json()["hash"]},
    )
    assert response.status_code == 200, response.text
    run_pending(database)
    with database.session(write=False) as session:
        (row,) = session.scalars(select(ApiLog).where(ApiLog.direction == "inbound-async"))
    assert row.status == "error"
    assert 0 < size(row.payload) <= 4096 + 3  # DROPWIRE_API_LOG_BODY_BYTES and an ellipsis
    listed = client.get("/api/jobs.json").json()
    assert listed and all(size(job["payload"]) <= 4096 + 3 for job in listed)


def size(kept: object) -> int:
    return len((kept if isinstance(kept, str) else json.dumps(kept)).encode())


def test_sql_parameters_never_reach_a_log(database, caplog):
    assert database.engine.hide_parameters
    secret = "param-secret-4711"
    caplog.set_level(logging.DEBUG)
    with database.transaction() as session:
        session.add(DropshipProvider(name="A", external_id="dup", webhook_secret=secret))
    with pytest.raises(IntegrityError) as failure, database.transaction() as session:
        session.add(DropshipProvider(name="B", external_id="dup", webhook_secret=secret))
    logging.getLogger("dropwire.test").exception("failed", exc_info=failure.value)
    assert secret not in str(failure.value)
    assert secret not in caplog.text
    with database.session(write=False) as session:
        assert session.execute(text("SELECT 1")).scalar() == 1


@pytest.mark.parametrize(
    ("raw", "what"),
    [  # sent as themselves or as a two-character escape, not as `\u` escapes
        (b'[{"externalId": "x\x7fy", "inventoryQuantity": 1}]', "U+007F"),
        (b'[{"externalId": "x\\by", "inventoryQuantity": 1}]', "U+0008"),
        ('[{"externalId": "x\x85y", "inventoryQuantity": 1}]'.encode(), "U+0085"),
        (b'[{"externalId": "x\xed\xa0\x80y", "inventoryQuantity": 1}]', "U+D800"),
    ],
)
def test_async_items_with_raw_or_short_escaped_unstorable_text_are_refused(client, raw, what):
    _refused_before_queueing(client, raw, what)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(
    value=_JSON,
    ascii_only=st.booleans(),
    encoding=st.sampled_from(["utf-8", "utf-16", "utf-16-le", "utf-32"]),
)
@settings(max_examples=400, deadline=None)
def test_a_body_said_plain_never_holds_unstorable_text(value, ascii_only, encoding):
    """The bytes pre-check lets a body skip the walk only when the walk would find nothing."""
    raw = json.dumps(value, ensure_ascii=ascii_only).encode(encoding, "surrogatepass")
    try:
        parsed = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return  # refused as malformed before any check
    if unstorable_in(parsed):
        assert may_hold_unstorable(raw)
