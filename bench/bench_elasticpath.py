"""Elastic Path connector figures, on this machine.

    .venv/bin/python -m bench.bench_elasticpath [--seconds 5]

1. Order events accepted/s at POST /webhooks/elasticpath/{channelId} (PostgreSQL, 16 clients).
2. Event → sale latency (p50/p99) at a paced 20 events/s with `dropwire worker` running.
3. Elastic Path API calls/s against the fake store (in its own process): stock deliveries
   through the relay and the connector's transport (claim, guarded client, token cache,
   attempt recorded), 1 and 4 sender threads; then the client alone. The token is fetched once
   per run (the fake reports its calls and token fetches at `GET /__fake/stats`).

    .venv/bin/python -m bench.bench_elasticpath --only calls   # part 3 alone
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select

from bench.common import ROOT, ensure_pg_database, free_port, fresh_database, run_load, server
from bench.fake_elasticpath import CLIENT_ID, CLIENT_SECRET, delivery, order_document
from dropwire import domains

SECRET_KEY = "bench-secret-key-0123456789"
WEBHOOK_SECRET = "bench-webhook-secret"
SKUS = [f"EP-{n:03d}" for n in range(20)]


def seed(url: str, store_url: str) -> int:
    """Through the real API in-process: an EP channel, a vendor feed stocking every SKU."""
    from fastapi.testclient import TestClient

    from bench.common import admin_token
    from dropwire.app import create_app
    from dropwire.core.settings import Settings

    database = domains.database(url)
    settings = Settings(
        database_url=url,
        rate_limit_enabled=False,
        worker_in_process=False,
        allow_private_targets=True,
        _env_file=None,  # type: ignore[call-arg]
    )
    with TestClient(create_app(database, settings)) as api:
        api.headers["Authorization"] = f"Bearer {admin_token(url)}"
        channel = api.post(
            "/api/channels.json",
            json={
                "name": "EP",
                "parentChannel": "elasticPath",
                "elasticPath": {
                    "baseUrl": store_url,
                    "clientId": CLIENT_ID,
                    "clientSecret": CLIENT_SECRET,
                    "webhookSecret": WEBHOOK_SECRET,
                    "shippingSkus": ["STANDARD-DELIVERY"],
                },
            },
        ).json()
        vendor = api.post("/api/dropship-providers.json", json={"name": "V"}).json()
        feed = api.post("/api/inventory-feeds.json", json={"dropshipProviderId": vendor["id"]})
        for sku in SKUS:
            api.post("/api/variants.json", json={"sku": sku, "name": sku})
            api.put(
                f"/api/inventory-feeds/{feed.json()['id']}/parse-webhook.json",
                json={"externalId": sku, "vendorSku": sku, "inventoryQuantity": 1_000_000},
            )
        api.post(
            f"/api/channels/{channel['id']}/import-connector-variant-batches.json",
            json=[{"sku": sku, "name": sku, "externalId": f"prod-{sku}"} for sku in SKUS],
        )
    database.dispose()
    return int(channel["id"])


def event_bodies(prefix: str) -> list[str]:
    """Order-paid deliveries with `{n}` in the event and order ids (filled per request)."""
    bodies = []
    for index, sku in enumerate(SKUS):
        items = [
            {"id": "i1", "sku": sku, "product_id": f"prod-{sku}", "quantity": 1, "amount": 2500},
            {
                "id": "i2",
                "sku": "STANDARD-DELIVERY",
                "product_id": "s",
                "quantity": 1,
                "amount": 495,
            },
        ]
        body = delivery(order_document(f"{prefix}-{index}-ORDER", items), "order.paid", None)
        body["id"] = f"{prefix}-{index}-EVENT"
        bodies.append(json.dumps(body).replace("-ORDER", "-{n}").replace("-EVENT", "-e{n}"))
    return bodies


def _env(url: str) -> dict[str, str]:
    return {
        "DROPWIRE_DATABASE_URL": url,
        "DROPWIRE_RATE_LIMIT_ENABLED": "false",
        "DROPWIRE_WORKER_IN_PROCESS": "false",
        "DROPWIRE_SECRET_KEY": SECRET_KEY,
        "DROPWIRE_ALLOW_PRIVATE_TARGETS": "true",
    }


def accepted_per_second(url: str, channel_id: int, seconds: float) -> None:
    with server("dropwire.app:create_app", free_port(), env=_env(url)) as base:
        result = run_load(
            f"{base}/webhooks/elasticpath/{channel_id}",
            method="POST",
            headers={"X-Moltin-Secret-Key": WEBHOOK_SECRET},
            bodies=event_bodies("acc"),
            concurrency=16,
            seconds=seconds,
        )
    print(result.line("  POST /webhooks/elasticpath/{id}"))


RATE = 20  # events/s: below what 2 worker threads apply here, so the lag is not a backlog


def _wait_for_sales(url: str, timeout: float) -> None:
    from sqlalchemy import func

    from dropwire.jobs.models import Job

    database = domains.database(url)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with database.session(write=False) as session:
            left = session.scalar(
                select(func.count())
                .select_from(Job)
                .where(Job.state.in_(("queued", "running")))
                .where(Job.kind == "elasticpath.order_event")
            )
        if not left:
            break
        time.sleep(0.2)
    database.dispose()


def event_to_sale(url: str, channel_id: int, seconds: float) -> None:
    from dropwire.jobs.models import Job
    from dropwire.sales.models import Sale

    worker = subprocess.Popen(
        [sys.executable, "-m", "dropwire.cli", "worker", "--threads", "2"],
        cwd=ROOT,
        env={**os.environ, **_env(url)},
        stderr=subprocess.DEVNULL,
    )
    try:
        with server("dropwire.app:create_app", free_port(), env=_env(url)) as base:
            sent = run_load(
                f"{base}/webhooks/elasticpath/{channel_id}",
                method="POST",
                headers={"X-Moltin-Secret-Key": WEBHOOK_SECRET},
                bodies=event_bodies("lag"),
                concurrency=8,
                seconds=seconds,
                rate=RATE,
            )
            _wait_for_sales(url, timeout=30)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    database = domains.database(url)
    with database.session(write=False) as session:
        sales = dict(
            session.execute(
                select(Sale.external_id, Sale.created_at).where(Sale.external_id.like("lag-%"))
            ).all()
        )
        accepted = {
            job.payload["item"]["externalId"]: job.created_at
            for job in session.scalars(select(Job).where(Job.kind == "elasticpath.order_event"))
            if str(job.payload["item"]["externalId"]).startswith("lag-")
        }
    database.dispose()
    lags = sorted((sales[k] - accepted[k]).total_seconds() * 1000 for k in accepted if k in sales)
    print(
        f"  {sent.rps:.0f} events/s for {seconds:.0f} s: {len(lags)}/{len(accepted)} became sales;"
        f" event→sale p50 {statistics.median(lags):.0f} ms,"
        f" p99 {lags[max(0, int(len(lags) * 0.99) - 1)]:.0f} ms"
    )


@contextmanager
def fake_store() -> Iterator[str]:
    """The fake store in its own process (its HTTP server does not share our GIL)."""
    fake = subprocess.Popen(
        [sys.executable, "-m", "bench.fake_elasticpath"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert fake.stdout is not None
        yield f"http://127.0.0.1:{int(fake.stdout.readline())}"
    finally:
        if fake.stdin is not None:
            fake.stdin.close()
        fake.wait(timeout=10)


def _stats(store_url: str) -> dict[str, int]:
    import httpx

    stats: dict[str, int] = httpx.get(f"{store_url}/__fake/stats").json()
    return stats


def client_calls(store_url: str, calls: int) -> None:
    """The client alone: stock transactions from 1 and 4 threads, one token per run."""
    from dropwire.connectors.elasticpath.client import ElasticPathClient, TokenCache
    from dropwire.core.outbound import AddressPolicy, parse_networks

    policy = AddressPolicy(allowed_networks=parse_networks("127.0.0.0/8"))
    for threads in (1, 4):
        tokens = TokenCache()
        clients = [
            ElasticPathClient(store_url, CLIENT_ID, CLIENT_SECRET, tokens=tokens, policy=policy)
            for _ in range(threads)
        ]

        def work(client: ElasticPathClient, product: str, share: int) -> None:
            client.create_stock(product, 1_000_000)
            for n in range(share - 1):
                client.stock_transaction(product, "decrement" if n % 2 else "increment", 1)

        share = calls // threads
        workers = [
            threading.Thread(target=work, args=(client, f"client-{threads}-{i}", share))
            for i, client in enumerate(clients)
        ]
        started = time.perf_counter()
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join()
        elapsed = time.perf_counter() - started
        print(
            f"  client, {threads} thread(s): {share * threads / elapsed:6.0f} EP calls/s"
            f" ({share * threads} calls, {tokens.fetches} token fetch)"
        )
        for client in clients:
            client.close()


def _queue_stock(url: str, channel_id: int, store_url: str, products: int, level: int) -> None:
    """One stock delivery per store product, as the connector's listener writes them."""
    from sqlalchemy import update

    from dropwire.connectors.elasticpath.models import TRANSPORT
    from dropwire.delivery.models import Delivery, DeliveryState
    from dropwire.delivery.outbox import record as emit

    database = domains.database(url)
    with database.transaction() as session:
        session.execute(
            update(Delivery)
            .where(Delivery.state == DeliveryState.pending)
            .values(state=DeliveryState.delivered)
        )
        for n in range(products):
            emit(
                session,
                event="elasticpath.stock",
                url=store_url,
                body={"productId": f"relay-{n}", "available": level, "mode": "transactions"},
                subject_type="bench",
                subject_id=n,
                channel_id=channel_id,
                transport=TRANSPORT,
            )
    database.dispose()


def relay_calls(url: str, store_url: str, deliveries: int) -> None:
    """Deliveries through the relay and this connector's transport (claim, lease, guarded
    client, token cache, record the attempt): the path every store call takes in production."""
    from dropwire.connectors.elasticpath import client as ep_client
    from dropwire.core.outbound import AddressPolicy, parse_networks
    from dropwire.delivery.relay import Relay

    channel_id = seed(url, store_url)
    policy = AddressPolicy(allowed_networks=parse_networks("127.0.0.0/8"))
    fetched_before = ep_client.TOKENS.fetches
    level = 1_000
    _queue_stock(url, channel_id, store_url, deliveries, level)  # warm-up: the store creates
    warm = domains.database(url)
    warm_relay = Relay(warm, policy=policy)
    while warm_relay.send_due(limit=50):
        pass
    warm_relay.close()
    warm.dispose()
    for threads in (1, 4):
        level -= 1  # every delivery now reads the level and decrements it by one
        _queue_stock(url, channel_id, store_url, deliveries, level)
        database = domains.database(url)
        relays = [Relay(database, policy=policy) for _ in range(threads)]
        before = _stats(store_url)["calls"]
        started = time.perf_counter()

        def drain(relay: Relay) -> None:
            while relay.send_due(limit=50):
                pass

        workers = [threading.Thread(target=drain, args=(relay,)) for relay in relays]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        elapsed = time.perf_counter() - started
        calls = _stats(store_url)["calls"] - before
        for relay in relays:
            relay.close()
        database.dispose()
        print(
            f"  relay, {threads} sender thread(s): {calls / elapsed:6.0f} EP calls/s,"
            f" {deliveries / elapsed:5.0f} deliveries/s ({calls} calls: GET level + decrement)"
        )
    fetches = ep_client.TOKENS.fetches - fetched_before
    print(f"  token fetched {fetches} time(s) for the relay runs; store saw {_stats(store_url)}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--calls", type=int, default=2000, help="client-only calls per run")
    parser.add_argument("--deliveries", type=int, default=500, help="stock deliveries per run")
    parser.add_argument("--only", choices=("all", "events", "calls"), default="all")
    args = parser.parse_args()
    os.environ["DROPWIRE_SECRET_KEY"] = SECRET_KEY
    url = ensure_pg_database("dropwire_wt16_bench_ep")
    if args.only in ("all", "events"):
        fresh_database(url)
        channel_id = seed(url, "http://127.0.0.1:9")  # no store calls are made by these two
        print("order events accepted (PostgreSQL, 16 concurrent clients):")
        accepted_per_second(url, channel_id, args.seconds)
        fresh_database(url)  # no backlog from the first part
        channel_id = seed(url, "http://127.0.0.1:9")
        print(f"event → sale at {RATE} events/s (PostgreSQL, API + `dropwire worker` processes):")
        event_to_sale(url, channel_id, max(args.seconds, 10))
    if args.only in ("all", "calls"):
        print("Elastic Path calls against the fake store (its own process), PostgreSQL:")
        with fake_store() as store_url:
            fresh_database(url)
            relay_calls(url, store_url, args.deliveries)
            client_calls(store_url, args.calls)


if __name__ == "__main__":
    main()
