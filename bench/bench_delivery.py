"""Outbound deliveries per second to a local receiver (1 and 4 sender threads), and the time
from a feed update to the channel receiving the new quantity (p50/p99).

    .venv/bin/python -m bench.bench_delivery [--deliveries 2000] [--database-url URL]
"""

import argparse
import json
import statistics
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench.common import admin_token, free_port, fresh_database, server
from dropwire import domains

RECEIVED: list[tuple[float, dict[str, object]]] = []


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("content-length", 0)))
        RECEIVED.append((time.perf_counter(), json.loads(raw)))
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def start_receiver() -> str:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{httpd.server_address[1]}/inventory"


def throughput(url: str, receiver: str, deliveries: int) -> None:
    from sqlalchemy import update

    from dropwire.delivery.models import Delivery, DeliveryState
    from dropwire.delivery.outbox import record as emit
    from dropwire.delivery.relay import Relay

    database = domains.database(url)
    for threads in (1, 4):
        with database.transaction() as session:
            session.execute(update(Delivery).values(state=DeliveryState.delivered))
            for n in range(deliveries):
                emit(
                    session,
                    event="inventory",
                    url=receiver,
                    body={"n": n},
                    subject_type="bench",
                    subject_id=n,
                )
        RECEIVED.clear()
        relays = [Relay(database, allow_private=True) for _ in range(threads)]
        started = time.perf_counter()

        def drain(relay: Relay) -> None:
            while relay.send_due(limit=50):
                pass

        workers = [threading.Thread(target=drain, args=(r,)) for r in relays]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        elapsed = time.perf_counter() - started
        for relay in relays:
            relay.close()
        print(
            f"  {threads} sender thread(s): {len(RECEIVED) / elapsed:7.0f} deliveries/s "
            f"({len(RECEIVED)} received)"
        )
    database.dispose()


def available(body: dict[str, object]) -> object:
    inventory = body.get("inventory")
    return inventory.get("available") if isinstance(inventory, dict) else None


def end_to_end(url: str, receiver: str, updates: int) -> None:
    import httpx

    from dropwire.feeds.schemas import FeedCreate
    from dropwire.feeds.service import create_feed

    token = admin_token(url)
    env = {
        "DROPWIRE_DATABASE_URL": url,
        "DROPWIRE_RATE_LIMIT_ENABLED": "false",
        "DROPWIRE_ALLOW_PRIVATE_TARGETS": "true",
        "DROPWIRE_WORKER_IN_PROCESS": "true",
    }
    database = domains.database(url)
    from dropwire.vendors.models import DropshipProvider

    with database.transaction() as session:
        vendor = DropshipProvider(name="V")
        session.add(vendor)
        session.flush()
        feed_id = create_feed(session, data=FeedCreate(dropship_provider_id=vendor.id)).id
    database.dispose()
    latencies = []
    with server("dropwire.app:create_app", free_port(), env=env) as base:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=headers) as client:
            custom = client.post(
                "/api/custom-channels.json", json={"name": "Shop", "inventoryEndpoint": receiver}
            ).json()
            client.post(
                f"/api/channels/{custom['channelId']}/import-connector-variant-batches.json",
                json=[{"sku": "E2E", "name": "E2E"}],
            )
            for quantity in range(1, updates + 1):
                RECEIVED.clear()
                sent = time.perf_counter()
                client.put(
                    f"/api/inventory-feeds/{feed_id}/parse-webhook.json",
                    json={"externalId": "e2e", "vendorSku": "E2E", "inventoryQuantity": quantity},
                )
                deadline = sent + 10
                while time.perf_counter() < deadline:
                    arrived = [
                        t
                        for t, body in RECEIVED
                        if body.get("inventory", {}).get("available") == quantity
                    ]  # type: ignore[union-attr]
                    if arrived:
                        latencies.append((arrived[0] - sent) * 1000)
                        break
                    time.sleep(0.002)
    latencies.sort()
    print(
        f"  feed update → channel receives the quantity ({len(latencies)}/{updates}): "
        f"p50 {statistics.median(latencies):.0f} ms, "
        f"p99 {latencies[int(len(latencies) * 0.99) - 1]:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--updates", type=int, default=100)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    receiver = start_receiver()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        fresh_database(url)
        print(f"database: {url.split(':')[0]}")
        throughput(url, receiver, args.deliveries)
        end_to_end(url, receiver, args.updates)


if __name__ == "__main__":
    main()
