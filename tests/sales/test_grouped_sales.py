"""Sync manual sales of concurrent requests, applied together in group transactions."""

import asyncio
import threading

import httpx
from sqlalchemy import func, select, text
from starlette.requests import Request

from dropwire.apilog.models import ApiLog
from dropwire.core.errors import Conflict, NotFound
from dropwire.core.group_transaction import (
    GroupCommitFailed,
    GroupTransactions,
    UnitKind,
    group_transactions,
)
from dropwire.http.grouped import GroupedWrite, _Write
from dropwire.http.idempotency import IdempotencyKey
from dropwire.sales import grouped
from dropwire.sales.endpoints import UPSERT_MANUAL_SALE
from dropwire.sales.models import Sale, SaleItem
from dropwire.sales.schemas import ManualSale, SaleRead
from tests.failing_commit import add_a_row_that_fails_at_commit
from tests.sales.conftest import World


def sale_body(external_id: str, quantity: int = 1, **defaults: object) -> dict:
    return {
        "externalId": external_id,
        "saleDefaults": {"receiverCountry": "US", **defaults},
        "lineItems": [
            {"externalId": "l1", "quantity": quantity, "price": 20, "variant": {"sku": "HOT"}}
        ],
    }


def write(channel_id: int, body: dict, path: str = "/api/x") -> _Write[grouped.SaleUpsert]:
    upsert = grouped.SaleUpsert(channel_id, ManualSale.model_validate(body), "tests")
    return _Write(upsert, {"type": "http", "method": "POST", "path": path, "headers": []})


def count(database, model) -> int:
    with database.session(write=False) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_concurrent_requests_share_groups_and_each_gets_its_own_answer(
    world: World, live_server: str, admin_token: str, database, monkeypatch
):
    world.variant("HOT")
    world.stock("north", "HOT", 100)
    combiner = group_transactions(database)
    monkeypatch.setattr(combiner, "window", 0.05)  # so the concurrent requests surely meet
    groups, units = combiner.groups, combiner.units
    answers: dict[str, httpx.Response] = {}

    def client(number: int) -> None:
        headers = {"Authorization": f"Bearer {admin_token}"}
        with httpx.Client(base_url=live_server, headers=headers, timeout=30) as http:
            for round_ in range(3):
                external_id = f"G-{number}-{round_}"
                answers[external_id] = http.post(
                    f"/api/channels/{world.channel_id}/manual-sale.json",
                    json=sale_body(external_id),
                )

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert {answer.status_code for answer in answers.values()} == {200}
    assert combiner.units - units == 24
    assert combiner.groups - groups < 24  # requests were applied together
    for external_id, answer in answers.items():
        sale = answer.json()
        assert sale["externalId"] == external_id
        assert len(sale["purchases"]) == 1  # routed to the vendor holding the stock
        # the answer is the stored sale exactly as the API reads it back
        assert world.client.get(f"/api/sales/{sale['id']}.json").json() == sale
    references = {answer.json()["reference"] for answer in answers.values()}
    assert len(references) == 24
    inventory = world.client.get(f"/api/variants/{world.variants['HOT']['id']}/inventory.json")
    assert sum(row["allocated"] for row in inventory.json()["locations"]) == 24
    with database.session(write=False) as session:
        logged = session.scalars(
            select(ApiLog.http_status).where(ApiLog.endpoint.like("%/manual-sale.json"))
        ).all()
    assert logged == [200] * 24  # one row per request, written with its sale


def test_a_group_applies_each_request_as_it_would_alone(world: World, database):
    world.variant("HOT")
    world.stock("north", "HOT", 100)
    taken = world.post("TAKEN", [("l1", "HOT", 1)], reference="R-TAKEN").json()
    channel = world.channel_id
    kind = UPSERT_MANUAL_SALE.kind
    outcomes = GroupTransactions(database).apply(
        [
            (kind, write(channel, sale_body("A"))),
            (kind, write(channel + 1000, sale_body("B"))),  # no such channel
            (kind, write(channel, sale_body("A", quantity=3))),  # A again: an update
            (kind, write(channel, sale_body("C", reference="R-TAKEN"))),
            (kind, write(channel, sale_body("D"))),
        ]
    )
    first, missing, again, refused, last = outcomes
    assert isinstance(missing, NotFound)
    assert isinstance(refused, Conflict) and refused.code == "sale.reference_taken"
    a_created, a_updated = (httpx.Response(200, content=o.body).json() for o in (first, again))
    assert a_created["id"] == a_updated["id"]
    assert [item["quantity"] for item in a_created["saleItems"]] == [1]
    assert [item["quantity"] for item in a_updated["saleItems"]] == [3]
    d = httpx.Response(200, content=last.body).json()
    stored = world.client.get("/api/sales.json").json()
    assert sorted(s["externalId"] for s in stored) == ["A", "D", "TAKEN"]
    assert world.client.get(f"/api/sales/{d['id']}.json").json() == d
    assert taken["reference"] == "R-TAKEN"
    with database.session(write=False) as session:
        quantities = session.scalars(
            select(SaleItem.quantity).join(Sale).where(Sale.external_id == "A")
        ).all()
    assert quantities == [3]


def test_the_idempotency_key_replays_a_grouped_answer(world: World, live_client: httpx.Client):
    world.variant("HOT")
    world.stock("north", "HOT", 10)
    url = f"/api/channels/{world.channel_id}/manual-sale.json"
    headers = {"Idempotency-Key": "grouped-1"}
    body = {**sale_body("K"), "unknownField": 1}
    first = live_client.post(url, json=body, headers=headers)
    second = live_client.post(url, json=body, headers=headers)
    assert first.status_code == second.status_code == 200
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json() == first.json()
    assert second.headers["dropwire-ignored-fields"] == first.headers["dropwire-ignored-fields"]
    assert len(world.client.get("/api/sales.json").json()) == 1


def _poisoned(session, writes):
    """Applies the sales, then leaves a row whose deferred foreign key fails only at commit."""
    answers = UPSERT_MANUAL_SALE.kind.apply_all(session, writes)
    add_a_row_that_fails_at_commit(session)
    return answers


def test_a_failed_group_commit_is_a_503_and_stores_nothing(world: World, app, database):
    world.variant("HOT")
    world.stock("north", "HOT", 10)
    logged_before = count(database, ApiLog)
    poisoned = GroupedWrite(
        "test.poisoned", grouped.upsert_sales, SaleRead, record_key=grouped.SaleUpsert.sale_key
    )
    poisoned.kind = UnitKind("test.poisoned", _poisoned)
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/x",
        "headers": [],
        "app": app,
        "dropwire.idempotency_claim": ("owner", "key"),
    }
    upsert = grouped.SaleUpsert(world.channel_id, ManualSale.model_validate(sale_body("F")), None)
    answer = asyncio.run(poisoned.run(Request(scope), upsert))
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "1"
    assert "dropwire.finished" not in scope
    assert count(database, Sale) == 0
    assert count(database, ApiLog) == logged_before
    assert count(database, IdempotencyKey) == 0
    outcomes = GroupTransactions(database).apply(
        [(UPSERT_MANUAL_SALE.kind, write(world.channel_id, sale_body("G")))]
    )
    assert not isinstance(outcomes[0], GroupCommitFailed)  # the next group commits


def _taken_key(session, upserts):
    """Stores a row under a unique key that is already taken: the database refuses it."""
    session.execute(text("INSERT INTO counters (name, value) VALUES ('gs-key', 1)"))
    session.execute(text("INSERT INTO counters (name, value) VALUES ('gs-key', 2)"))
    return grouped.upsert_sales(session, upserts=upserts)


def test_a_unique_key_taken_meanwhile_is_a_409_for_that_request_alone(world: World, app, database):
    world.variant("HOT")
    world.stock("north", "HOT", 10)
    clashing = GroupedWrite(
        "test.clashing", _taken_key, SaleRead, record_key=grouped.SaleUpsert.sale_key
    )
    scope = {"type": "http", "method": "POST", "path": "/api/x", "headers": [], "app": app}
    upsert = grouped.SaleUpsert(world.channel_id, ManualSale.model_validate(sale_body("U")), None)
    answer = asyncio.run(clashing.run(Request(scope), upsert))
    assert answer.status_code == 409
    assert count(database, Sale) == 0


def varied_sale(external_id: str, lines: list[tuple[str, int]], **defaults: object) -> dict:
    return {
        "externalId": external_id,
        "saleDefaults": {"receiverCountry": "US", **defaults},
        "customer": {"firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com"},
        "lineItems": [
            {
                "externalId": f"l{index}",
                "name": sku,
                "quantity": quantity,
                "price": "19.99",
                "properties": [{"key": "gift", "value": "yes"}],
                "variant": {"sku": sku},
            }
            for index, (sku, quantity) in enumerate(lines)
        ],
        "shipping": [{"code": "std", "name": "Standard", "price": "4.50"}],
    }


def test_each_answer_of_a_group_is_the_sale_as_stored(world: World, database):
    for sku, vendor, units in (("A1", "north", 5), ("B1", "baltic", 3), ("K1", "kiln", 4)):
        world.variant(sku)
        world.stock(vendor, sku, units)
    sales = [
        varied_sale("V1", [("A1", 2), ("B1", 1), ("K1", 2)]),  # three vendors, split quantity
        varied_sale("V2", [("A1", 4), ("NOPE", 1)]),  # more than is left, and an unknown SKU
        varied_sale("V3", [("B1", 1)], reference="MY-REF"),
        varied_sale("V4", [("K1", 1), ("A1", 1)], paymentStatus="paid"),
    ]
    kind = UPSERT_MANUAL_SALE.kind
    outcomes = GroupTransactions(database).apply(
        [(kind, write(world.channel_id, sale)) for sale in sales]
    )
    answers = [httpx.Response(200, content=outcome.body).json() for outcome in outcomes]
    for sale, answer in zip(sales, answers, strict=True):
        assert answer["externalId"] == sale["externalId"]
        assert world.client.get(f"/api/sales/{answer['id']}.json").json() == answer
    v1, v2, v3, _ = answers
    assert len(v1["purchases"]) == 4  # north, baltic, and kiln's two units apart
    assert v2["dropshipProblems"] and len(v2["saleItems"]) == 2
    assert v3["reference"] == "MY-REF"
