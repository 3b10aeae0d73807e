"""SIGKILL `dropwire serve` and `dropwire worker` under load, restart them, and check that every
acknowledged write is there and every acknowledged async item is applied, once.

It waits on conditions, never on the clock: a kill comes once sales were acknowledged since the
last start, and the checks poll the database with a deadline that only a hang exceeds."""

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from dropwire.apilog.models import ApiLog, LogStatus
from dropwire.jobs.models import Job, JobState
from dropwire.sales.models import Sale
from dropwire.vendors.models import DropshipProvider
from tests.processes import SETTLE_SECONDS, free_port, wait_ready, wait_until

ROOT = Path(__file__).resolve().parents[2]
ADMIN = "crash-test-admin-token-0123456789abcdef"
SALE_CLIENTS = 3
pytestmark = pytest.mark.slow


class Processes:
    """A `dropwire serve` (its API and worker processes) and a separate `dropwire worker`."""

    def __init__(self, database_url: str) -> None:
        self.port = free_port()
        self.env = {
            **os.environ,
            "DROPWIRE_DATABASE_URL": database_url,
            "DROPWIRE_ADMIN_TOKEN": ADMIN,
            "DROPWIRE_RATE_LIMIT_ENABLED": "false",
            "DROPWIRE_JOB_LEASE_SECONDS": "2",
            "DROPWIRE_LOG_LEVEL": "ERROR",
            "DROPWIRE_AUTH_CACHE_SECONDS": "60",
        }
        self.running: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        command = [sys.executable, "-m", "dropwire.cli"]
        self.running = [
            subprocess.Popen([*command, "serve", "--port", str(self.port)], cwd=ROOT, env=self.env),
            subprocess.Popen([*command, "worker", "--threads", "2"], cwd=ROOT, env=self.env),
        ]
        try:
            wait_ready(self.base_url, self.running)
        except AssertionError:
            self.kill()  # none left running after the test
            raise

    def kill(self) -> None:
        for process in self.running:
            process.send_signal(signal.SIGKILL)
            process.wait()

    def stop(self) -> None:
        for process in self.running:
            process.terminate()
        for process in self.running:
            try:
                process.wait(timeout=SETTLE_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                raise

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def test_killed_processes_lose_nothing_acknowledged_and_apply_it_once(database, client):
    vendor = client.post("/api/dropship-providers.json", json={"name": "Stock"}).json()
    feed = client.post("/api/inventory-feeds.json", json={"dropshipProviderId": vendor["id"]})
    client.post("/api/variants.json", json={"sku": "CRASH-1", "name": "Crash"})
    stocked = client.put(
        f"/api/inventory-feeds/{feed.json()['id']}/parse-webhook.json",
        json={"externalId": "c1", "vendorSku": "CRASH-1", "inventoryQuantity": 1_000_000},
    )
    assert stocked.status_code == 200, stocked.text
    custom = client.post("/api/custom-channels.json", json={"name": "Shop"}).json()

    processes = Processes(database.url)
    processes.start()
    acknowledged_sales: list[str] = []
    created_vendors: list[int] = []
    stop = threading.Event()

    def post_sales(worker: int) -> None:
        n = 0
        with httpx.Client(timeout=30) as http:
            while not stop.is_set():
                n += 1
                external_id = f"s{worker}-{n}"
                body = {
                    "externalId": external_id,
                    "lineItems": [
                        {
                            "externalId": "1",
                            "quantity": 1,
                            "price": 9,
                            "variant": {"sku": "CRASH-1"},
                        }
                    ],
                }
                try:
                    answer = http.post(
                        f"{processes.base_url}/webhooks/custom-channels/manual-sale.json",
                        json=body,
                        headers={"jetti-webhook-hash": custom["webhookHash"]},
                    )
                except httpx.HTTPError:
                    time.sleep(0.05)  # the server is down: not acknowledged
                    continue
                if answer.status_code == 200:
                    acknowledged_sales.append(external_id)
                time.sleep(0.1)  # a steady load the workers keep up with: recovery is the subject

    def create_vendors(worker: int) -> None:
        n = 0
        with httpx.Client(timeout=30, headers={"Authorization": f"Bearer {ADMIN}"}) as http:
            while not stop.is_set():
                n += 1
                try:
                    answer = http.post(
                        f"{processes.base_url}/api/dropship-providers.json",
                        json={"name": f"v{worker}-{n}"},
                    )
                except httpx.HTTPError:
                    time.sleep(0.05)
                    continue
                if answer.status_code == 201:
                    created_vendors.append(answer.json()["id"])

    clients = [threading.Thread(target=post_sales, args=(i,)) for i in range(SALE_CLIENTS)]
    clients += [threading.Thread(target=create_vendors, args=(i,)) for i in range(3)]
    for thread in clients:
        thread.start()

    def load_goes_on() -> None:
        """Until more sales and vendors are acknowledged: a kill lands amid acknowledged load."""
        sales, vendors = len(acknowledged_sales), len(created_vendors)
        wait_until(
            lambda: (
                len(acknowledged_sales) >= sales + 2 * SALE_CLIENTS
                and len(created_vendors) > vendors
            ),
            SETTLE_SECONDS,
            "the load made no progress",
        )

    try:
        try:
            for _ in range(2):
                load_goes_on()
                processes.kill()
                processes.start()
            load_goes_on()
        finally:
            stop.set()
            for thread in clients:
                thread.join()
        expected = set(acknowledged_sales)

        def applied() -> set[str]:
            with database.session(write=False) as session:
                return set(session.scalars(select(Sale.external_id)))

        wait_until(lambda: expected <= applied(), SETTLE_SECONDS, "acknowledged sales not applied")
    finally:
        processes.stop()

    with database.session(write=False) as session:
        vendors = set(session.scalars(select(DropshipProvider.id)))
        outcomes = Counter(
            session.scalars(
                select(ApiLog.external_id).where(
                    ApiLog.kind == "inbound.manual_sale", ApiLog.status == LogStatus.success
                )
            )
        )
        unfinished = session.scalars(select(Job).where(Job.state == JobState.running)).all()
    assert set(created_vendors) <= vendors, "a vendor answered 201 is gone"
    assert {k: n for k, n in outcomes.items() if n > 1} == {}, "an item was applied twice"
    assert expected <= set(outcomes)
    assert [job.kind for job in unfinished if job.kind.startswith("inbound.")] == []
