"""`dropwire serve` as shipped, through real processes: a supervisor, API processes and worker
processes; an async sale accepted by the API is applied by a worker process; a killed worker
process is replaced; SIGTERM stops every child."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from dropwire.sales.models import Sale

ROOT = Path(__file__).resolve().parents[2]
ADMIN = "serve-test-admin-token-0123456789abcdef"
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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


def until(check: Callable[[], object], within: float, what: str) -> object:
    deadline = time.monotonic() + within
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


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

    def healthy() -> bool:
        try:
            return httpx.get(f"{base}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        until(healthy, 180, "dropwire serve did not come up")  # 2 cores, shared
        yield supervisor, base
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
            supervisor.wait()


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
        )
        assert answer.status_code == 200, answer.text

    def applied(external_id: str) -> bool:
        with database.session(write=False) as session:
            return (
                session.scalar(select(Sale.id).where(Sale.external_id == external_id)) is not None
            )

    accept("before-kill")
    until(lambda: applied("before-kill"), 20, "no worker process applied the accepted sale")

    (killed,) = workers
    os.kill(killed, signal.SIGKILL)
    replaced = until(
        lambda: worker_children(supervisor) - {killed}, 20, "the killed worker was not replaced"
    )
    assert killed not in worker_children(supervisor)
    assert len(replaced) == 1  # type: ignore[arg-type]
    accept("after-kill")
    until(lambda: applied("after-kill"), 20, "the replacing worker applied nothing")


def test_sigterm_stops_every_child_and_the_supervisor(served):
    supervisor, base = served
    children = children_of(supervisor.pid)
    assert worker_children(supervisor)
    supervisor.send_signal(signal.SIGTERM)
    assert supervisor.wait(timeout=60) == 0
    until(
        lambda: not any(running(pid) for pid in children),
        10,
        "a child outlived the supervisor",
    )
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{base}/health", timeout=1)
