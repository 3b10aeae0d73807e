"""Outbound deliveries per second to a local receiver (1 and 4 sender threads), the time
from a feed update to the channel receiving the new quantity (p50/p99), and, against a slow
receiver, how many database connections the senders hold while the receivers answer (why
deliveries are not jobs: a job's effects commit with its completion, so its call would hold a
transaction for as long as the receiver takes).

    .venv/bin/python -m bench.bench_delivery [--deliveries 2000] [--database-url URL]
        [--slow-ms 200] [--slow-deliveries 40]
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
from dropwire.core.db import Database

RECEIVED: list[tuple[float, dict[str, object]]] = []


class Receiver(BaseHTTPRequestHandler):
    delay = 0.0  # seconds a receiver takes to answer
    in_flight = 0  # requests being answered now

    def do_POST(self) -> None:
        Receiver.in_flight += 1
        raw = self.rfile.read(int(self.headers.get("content-length", 0)))
        time.sleep(Receiver.delay)
        Receiver.in_flight -= 1
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


def _owner(database: Database) -> int:
    """A vendor to own the benchmark's deliveries (every delivery has an owner)."""
    from dropwire.vendors.models import DropshipProvider

    with database.transaction() as session:
        vendor = DropshipProvider(name="Bench receiver")
        session.add(vendor)
        session.flush()
        return vendor.id


def throughput(url: str, receiver: str, deliveries: int) -> None:
    from sqlalchemy import update

    from dropwire.delivery.models import Delivery, DeliveryState
    from dropwire.delivery.outbox import record as emit
    from dropwire.delivery.relay import Relay

    database = domains.database(url)
    owner = _owner(database)
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
                    dropship_provider_id=owner,
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


def slow_receiver(url: str, receiver: str, deliveries: int, delay_ms: int) -> None:
    """Four senders against a receiver answering in `delay_ms`: the connections checked out
    of the pool, sampled every millisecond while they send (a job making the call would hold
    one, in a transaction, per call in flight)."""
    from sqlalchemy import update

    from dropwire.delivery.models import Delivery, DeliveryState
    from dropwire.delivery.outbox import record as emit
    from dropwire.delivery.relay import Relay

    database = domains.database(url)
    owner = _owner(database)
    with database.transaction() as session:
        session.execute(update(Delivery).values(state=DeliveryState.delivered))
        for n in range(deliveries):
            emit(
                session,
                event="inventory",
                url=receiver,
                body={"n": n},
                subject_type="slow",
                subject_id=n,
                dropship_provider_id=owner,
            )
    RECEIVED.clear()
    Receiver.delay = delay_ms / 1000
    relays = [Relay(database, allow_private=True) for _ in range(4)]
    samples: list[tuple[int, int]] = []  # (connections checked out, calls in flight)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            checked_out = database.engine.pool.checkedout()  # type: ignore[attr-defined]
            samples.append((checked_out, Receiver.in_flight))
            time.sleep(0.001)

    def drain(relay: Relay) -> None:
        while relay.send_due(limit=5):
            pass

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.perf_counter()
    workers = [threading.Thread(target=drain, args=(r,)) for r in relays]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    done.set()
    sampler.join()
    Receiver.delay = 0.0
    for relay in relays:
        relay.close()
    database.dispose()
    count = max(len(samples), 1)
    held = sum(connections for connections, _ in samples) / count
    calls = sum(in_flight for _, in_flight in samples) / count
    print(
        f"  {delay_ms} ms receiver, 4 senders: {len(RECEIVED) / elapsed:5.1f} deliveries/s; "
        f"on average {calls:.2f} calls in flight and {held:.2f} connections checked out "
        f"(a job making the call would hold one connection, in a transaction, per call)"
    )


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
    parser.add_argument("--slow-ms", type=int, default=200)
    parser.add_argument("--slow-deliveries", type=int, default=40)
    args = parser.parse_args()
    receiver = start_receiver()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        fresh_database(url)
        print(f"database: {url.split(':')[0]}")
        throughput(url, receiver, args.deliveries)
        slow_receiver(url, receiver, args.slow_deliveries, args.slow_ms)
        end_to_end(url, receiver, args.updates)


if __name__ == "__main__":
    main()
