"""`dropwire serve` as shipped, through real processes: a supervisor, API processes and worker
processes; an async sale accepted by the API is applied by a worker process; a killed worker
process is replaced; SIGTERM under load stops every child within a bound, losing nothing
acknowledged."""

import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from dropwire.core.settings import Settings
from dropwire.jobs import service
from dropwire.jobs.models import Job, JobState
from dropwire.sales.models import Sale
from dropwire.vendors.models import DropshipProvider
from tests.processes import SETTLE_SECONDS, free_port, wait_ready, wait_until

ROOT = Path(__file__).resolve().parents[2]
ADMIN = "serve-test-admin-token-0123456789abcdef"
pytestmark = pytest.mark.slow


def children_of(pid: int) -> set[int]:
    """Processes whose parent is `pid` (from /proc: what the supervisor really runs)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(entry.name))
    return found


def running(pid: int) -> bool:
    """Alive and not a zombie (an exited child nobody has reaped yet counts as stopped)."""
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def command_of(pid: int) -> str:
    return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()


@pytest.fixture
def served(database) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = free_port()
    env = {
        **os.environ,
        "DROPWIRE_DATABASE_URL": database.url,
        "DROPWIRE_ADMIN_TOKEN": ADMIN,
        "DROPWIRE_RATE_LIMIT_ENABLED": "false",
        "DROPWIRE_LOG_LEVEL": "WARNING",
    }
    env.pop("DROPWIRE_WORKER_IN_PROCESS", None)  # the shipped default
    supervisor = subprocess.Popen(
        [sys.executable, "-m", "dropwire", "serve", "--port", str(port), "--workers", "2"],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, [supervisor])
        yield supervisor, base
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
            supervisor.wait()


def niceness_of(pid: int) -> int:
    return int((Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[16])


def worker_children(supervisor: subprocess.Popen[bytes]) -> set[int]:
    return {pid for pid in children_of(supervisor.pid) if " -m dropwire worker " in command_of(pid)}


def test_serve_applies_async_sales_in_worker_processes_and_replaces_a_killed_one(
    database, client, served
):
    supervisor, base = served
    client.post("/api/variants.json", json={"sku": "SERVE-1", "name": "Served"})
    custom = client.post("/api/custom-channels.json", json={"name": "Shop"}).json()
    api_processes = children_of(supervisor.pid) - worker_children(supervisor)
    workers = worker_children(supervisor)
    assert len(workers) == 1
    assert len([p for p in api_processes if "spawn_main" in command_of(p)]) == 2
    (worker,) = workers  # accepted work yields the CPU to answers: a lower priority
    own = niceness_of(supervisor.pid)  # a suite run under `nice` starts at 19, the lowest
    assert niceness_of(worker) == min(19, own + Settings().worker_niceness)
    assert Settings().worker_niceness > 0

    def accept(external_id: str) -> None:
        answer = httpx.post(
            f"{base}/webhooks/custom-channels/manual-sale.json",
            json={
                "externalId": external_id,
                "lineItems": [
                    {"externalId": "1", "quantity": 1, "price": 5, "variant": {"sku": "SERVE-1"}}
                ],
            },
            headers={"jetti-webhook-hash": custom["webhookHash"]},
            timeout=60,
        )
        assert answer.status_code == 200, answer.text

    def applied(external_id: str) -> bool:
        with database.session(write=False) as session:
            return (
                session.scalar(select(Sale.id).where(Sale.external_id == external_id)) is not None
            )

    accept("before-kill")
    wait_until(
        lambda: applied("before-kill"),
        SETTLE_SECONDS,
        "no worker process applied the accepted sale",
    )

    (killed,) = workers
    os.kill(killed, signal.SIGKILL)
    replaced = wait_until(
        lambda: worker_children(supervisor) - {killed},
        SETTLE_SECONDS,
        "the killed worker was not replaced",
    )
    assert killed not in worker_children(supervisor)
    assert len(replaced) == 1
    accept("after-kill")
    wait_until(
        lambda: applied("after-kill"), SETTLE_SECONDS, "the replacing worker applied nothing"
    )


STOP_SECONDS = 60.0
"""How long `dropwire serve` may take to stop on SIGTERM under load: the API's grace for
requests in flight, then the workers finishing or giving back their jobs in hand (see
`serving`), with room for a CPU-starved machine."""


class Writers:
    """Clients on keep-alive connections, writing until the server goes: vendors (201: committed)
    and async sales (200: their job committed); what was acknowledged is kept."""

    def __init__(self, base: str, webhook_hash: str, clients: int = 3) -> None:
        self.base = base
        self.webhook_hash = webhook_hash
        self.vendors: list[int] = []
        self.sales: list[str] = []
        self.statuses: Counter[int] = Counter()
        self.threads = [
            threading.Thread(target=work, args=(i,), daemon=True)
            for i in range(clients)
            for work in (self._vendors, self._sales)
        ]

    def _vendors(self, n: int) -> None:
        headers = {"Authorization": f"Bearer {ADMIN}"}
        with httpx.Client(base_url=self.base, headers=headers, timeout=120) as http:
            for i in itertools.count():
                try:
                    answer = http.post("/api/dropship-providers.json", json={"name": f"t{n}-{i}"})
                except httpx.HTTPError:
                    return  # the server is going away: this write was not acknowledged
                self.statuses[answer.status_code] += 1
                if answer.status_code == 201:
                    self.vendors.append(answer.json()["id"])

    def _sales(self, n: int) -> None:
        headers = {"jetti-webhook-hash": self.webhook_hash}
        with httpx.Client(base_url=self.base, headers=headers, timeout=120) as http:
            for i in itertools.count():
                line = {"externalId": "1", "quantity": 1, "price": 5, "variant": {"sku": "TERM-1"}}
                body = {"externalId": f"t{n}-{i}", "lineItems": [line]}
                try:
                    answer = http.post("/webhooks/custom-channels/manual-sale.json", json=body)
                except httpx.HTTPError:
                    return
                self.statuses[answer.status_code] += 1
                if answer.status_code == 200:
                    self.sales.append(body["externalId"])

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def join(self) -> None:
        for thread in self.threads:
            thread.join(timeout=SETTLE_SECONDS)


def test_sigterm_under_load_stops_every_process_in_bounded_time_keeping_every_acknowledged_write(
    database, client, served
):
    supervisor, base = served
    client.post("/api/variants.json", json={"sku": "TERM-1", "name": "Stopped"})
    custom = client.post("/api/custom-channels.json", json={"name": "Shop"}).json()
    children = children_of(supervisor.pid)
    assert worker_children(supervisor)
    writers = Writers(base, custom["webhookHash"])
    writers.start()
    wait_until(
        lambda: len(writers.vendors) >= 20 and len(writers.sales) >= 20,
        SETTLE_SECONDS,
        "the load did not get going",
    )
    signalled = time.monotonic()
    supervisor.send_signal(signal.SIGTERM)
    try:
        code = supervisor.wait(timeout=STOP_SECONDS)
    finally:
        took = time.monotonic() - signalled
        writers.join()
    assert code == 0
    print(f"stopped in {took:.1f} s; answers {dict(writers.statuses)}")
    wait_until(
        lambda: not any(running(pid) for pid in children),
        SETTLE_SECONDS,
        "a child outlived the supervisor",
    )
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{base}/health", timeout=1)
    assert {s for s in writers.statuses if s >= 500} <= {503}, writers.statuses
    with database.session(write=False) as session:
        vendors = set(session.scalars(select(DropshipProvider.id)))
        running_jobs = session.scalars(select(Job.id).where(Job.state == JobState.running)).all()
    assert set(writers.vendors) <= vendors, "a vendor answered 201 is not stored"
    assert running_jobs == [], "the stopped worker neither finished nor gave back its jobs"
    service.run_pending(database)  # what the workers had not reached is queued, not lost
    with database.session(write=False) as session:
        sales = set(session.scalars(select(Sale.external_id)))
    assert set(writers.sales) <= sales, "a sale answered 200 was lost"


def test_a_worker_batch_is_200_jobs_on_either_database_unless_set():
    def batch(url: str, **size: int) -> int:
        return Settings(database_url=url, _env_file=None, **size).job_batch_size  # type: ignore[call-arg]

    assert batch("sqlite:///./dropwire.db") == 200  # a batch's fixed cost, once per 200 sales
    assert batch("postgresql+psycopg://u@h/db") == 200
    assert batch("postgresql+psycopg://u@h/db", job_batch_size=20) == 20
