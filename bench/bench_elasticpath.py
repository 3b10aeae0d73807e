"""Elastic Path connector figures, on this machine.

    .venv/bin/python -m bench.bench_elasticpath [--seconds 5]

1. Order events accepted/s at POST /webhooks/elasticpath/{channelId} (PostgreSQL, 16 clients).
2. Event → sale latency (p50/p99) at a paced 50 events/s with `dropwire worker` running.
3. Elastic Path API calls/s against the fake store (in its own process), 1 and 4 threads,
   with the token fetched once for the whole run.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time

from sqlalchemy import select
from tests.elasticpath.fake_store import CLIENT_ID, CLIENT_SECRET, delivery, order_document

from bench.common import ROOT, ensure_pg_database, free_port, fresh_database, run_load, server

SECRET_KEY = "bench-secret-key-0123456789"
WEBHOOK_SECRET = "bench-webhook-secret"
SKUS = [f"EP-{n:03d}" for n in range(20)]


def seed(url: str, store_url: str) -> int:
    """Through the real API in-process: an EP channel, a vendor feed stocking every SKU."""
    from fastapi.testclient import TestClient

    from bench.common import admin_token
    from dropwire.core.db import Database
    from dropwire.core.settings import Settings
    from dropwire.http.app import create_app

    database = Database(url)
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
    with server("dropwire.http.app:create_app", free_port(), env=_env(url)) as base:
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

    from dropwire.core.db import Database
    from dropwire.jobs.models import Job

    database = Database(url)
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
    from dropwire.core.db import Database
    from dropwire.jobs.models import Job
    from dropwire.sales.models import Sale

    worker = subprocess.Popen(
        [sys.executable, "-m", "dropwire.cli", "worker", "--threads", "2"],
        cwd=ROOT,
        env={**os.environ, **_env(url)},
        stderr=subprocess.DEVNULL,
    )
    try:
        with server("dropwire.http.app:create_app", free_port(), env=_env(url)) as base:
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
    database = Database(url)
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


def store_calls(calls: int) -> None:
    from dropwire.connectors.elasticpath.client import ElasticPathClient, TokenCache

    fake = subprocess.Popen(
        [sys.executable, "-m", "tests.elasticpath.fake_store"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert fake.stdout is not None
        store_url = f"http://127.0.0.1:{int(fake.stdout.readline())}"
        for threads in (1, 4):
            tokens = TokenCache()
            clients = [
                ElasticPathClient(store_url, CLIENT_ID, CLIENT_SECRET, tokens=tokens)
                for _ in range(threads)
            ]

            def work(client: ElasticPathClient, product: str, share: int) -> None:
                client.create_stock(product, 1_000_000)
                for n in range(share - 1):
                    client.stock_transaction(product, "decrement" if n % 2 else "increment", 1)

            share = calls // threads
            workers = [
                threading.Thread(target=work, args=(client, f"bench-{threads}-{i}", share))
                for i, client in enumerate(clients)
            ]
            started = time.perf_counter()
            for thread in workers:
                thread.start()
            for thread in workers:
                thread.join()
            elapsed = time.perf_counter() - started
            print(
                f"  {threads} thread(s): {share * threads / elapsed:8.0f} EP calls/s"
                f" ({share * threads} calls, {tokens.fetches} token fetch)"
            )
            for client in clients:
                client.close()
    finally:
        if fake.stdin is not None:
            fake.stdin.close()
        fake.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    os.environ["DROPWIRE_SECRET_KEY"] = SECRET_KEY
    url = ensure_pg_database("dropwire_wt16_bench_ep")
    fresh_database(url)
    channel_id = seed(url, "http://127.0.0.1:9")  # no store calls are made by the first two
    print("order events accepted (PostgreSQL, 16 concurrent clients):")
    accepted_per_second(url, channel_id, args.seconds)
    fresh_database(url)  # no backlog from the first part
    channel_id = seed(url, "http://127.0.0.1:9")
    print(f"event → sale at {RATE} events/s (PostgreSQL, API + `dropwire worker` processes):")
    event_to_sale(url, channel_id, max(args.seconds, 10))
    print("Elastic Path client against the fake store (its own process):")
    store_calls(args.calls)


if __name__ == "__main__":
    main()
