"""Shared bench plumbing: run a server in a subprocess, drive load from another process.

The load process runs N threads, each with one keep-alive connection, for a fixed time and
reports every latency, so the figures include the full HTTP round trip on loopback. A paced
load (`rate`) is open-loop instead: requests go out on schedule, whatever the answers take.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from dropwire import domains

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, timeout: float = 30.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server at {url} did not start")


@contextmanager
def server(
    app_spec: str,
    port: int,
    env: dict[str, str] | None = None,
    factory: bool = True,
    workers: int = 1,
) -> Iterator[str]:
    """Run `uvicorn app_spec` on 127.0.0.1:port; yields the base URL."""
    args = [
        PYTHON,
        "-m",
        "uvicorn",
        app_spec,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--workers",
        str(workers),
    ]
    if factory:
        args.append("--factory")
    process = subprocess.Popen(args, cwd=ROOT, env={**os.environ, **(env or {})})
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base + "/health" if factory else base + "/", timeout=180)  # 2 busy cores
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def shipped_server(port: int, env: dict[str, str] | None = None) -> Iterator[str]:
    """`dropwire serve` as users run it (its API and worker processes, access log on);
    yields the base URL, and stops it with SIGTERM as a service manager would."""
    process = subprocess.Popen(
        [PYTHON, "-m", "dropwire", "serve", "--port", str(port)],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,  # the access log is written (its cost counts), not kept
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base + "/health", timeout=180)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=60)


@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]

    def line(self, label: str) -> str:
        return (
            f"{label:<44} {self.rps:>9.0f} req/s   p50 {self.percentile(50):7.2f} ms   "
            f"p99 {self.percentile(99):7.2f} ms   errors {self.errors}"
        )


def group_totals(base: str) -> tuple[float, float]:
    """Group transactions committed so far and the units in them, from the server's metrics."""
    import httpx

    totals = {"count": 0.0, "sum": 0.0}
    for line in httpx.get(f"{base}/metrics").text.splitlines():
        for total in totals:
            if line.startswith(f"dropwire_group_transaction_units_{total} "):
                totals[total] = float(line.split()[1])
    return totals["count"], totals["sum"]


def run_load(
    url: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    bodies: list[str] | None = None,
    concurrency: int = 16,
    seconds: float = 5.0,
    max_requests: int = 200_000,
    rate: float = 0.0,
) -> LoadResult:
    """Drive load from a separate Python process (so the server's process is not shared).

    With `rate`, the load is paced to that many requests per second in total.
    """
    spec = {
        "url": url,
        "method": method,
        "headers": headers or {},
        "bodies": bodies or [],
        "concurrency": concurrency,
        "seconds": seconds,
        "max_requests": max_requests,
        "rate": rate,
    }
    out = subprocess.run(
        [PYTHON, "-m", "bench.common", json.dumps(spec)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(out.stdout)
    return LoadResult(data["requests"], data["errors"], data["seconds"], data["latencies"])


def _drive(spec: dict[str, object]) -> dict[str, object]:
    """Threads with one keep-alive connection each (http.client: little client-side overhead)."""
    import http.client
    import threading
    from urllib.parse import urlsplit

    parts = urlsplit(str(spec["url"]))
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    method = str(spec["method"])
    headers = {str(k): str(v) for k, v in dict(spec["headers"]).items()}  # type: ignore[call-overload]
    bodies = [str(b) for b in list(spec["bodies"])]  # type: ignore[call-overload]
    concurrency = int(spec["concurrency"])  # type: ignore[call-overload]
    deadline = time.perf_counter() + float(spec["seconds"])  # type: ignore[arg-type]
    budget = int(spec["max_requests"])  # type: ignore[call-overload]
    rate = float(spec.get("rate") or 0)  # type: ignore[arg-type]
    interval = concurrency / rate if rate else 0.0  # each thread's share of a paced load
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    counter = [0]

    def one_client() -> None:
        connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80)
        local: list[float] = []
        next_at = time.perf_counter()
        while time.perf_counter() < deadline:
            if interval:
                next_at += interval
                time.sleep(max(0.0, next_at - time.perf_counter()))
            with lock:
                counter[0] += 1
                n = counter[0]
            if n > budget:
                break
            body = bodies[n % len(bodies)].replace("{n}", str(n)).encode() if bodies else None
            request_headers = dict(headers)
            if body is not None:
                request_headers.setdefault("Content-Type", "application/json")
            t0 = time.perf_counter()
            try:
                connection.request(method, path, body=body, headers=request_headers)
                response = connection.getresponse()
                response.read()
                failed = response.status >= 400
            except (OSError, http.client.HTTPException):
                failed = True
                connection.close()
                connection = http.client.HTTPConnection(
                    parts.hostname or "127.0.0.1", parts.port or 80
                )
            local.append((time.perf_counter() - t0) * 1000)
            if failed:
                with lock:
                    errors[0] += 1
        with lock:
            latencies.extend(local)

    started = time.perf_counter()
    threads = [threading.Thread(target=one_client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {
        "requests": len(latencies),
        "errors": errors[0],
        "seconds": elapsed,
        "latencies": latencies,
    }


def summary(values: list[float]) -> str:
    if not values:
        return "n/a"
    ordered = sorted(values)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {p50:.2f} ms, p99 {p99:.2f} ms"


def _drive_paced(spec: dict[str, object]) -> dict[str, object]:
    """An open-loop load: request n is due at `n / rate` seconds, sent on an idle connection
    (one more is opened when none is, up to `PACED_CONNECTIONS_MAX`), and its latency runs
    from when it was due, so a slow answer delays no later request and the time a request
    waited for a connection counts. One thread on asyncio streams, 0.14 ms of CPU a request:
    the threaded client spent 0.3 ms at 1,000 req/s (a third of one of the two cores it shares
    with the server it measures), and its own thread switches showed as latency (11 ms at p50
    against a bare endpoint that answers in 3)."""
    import asyncio
    from urllib.parse import urlsplit

    parts = urlsplit(str(spec["url"]))
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    headers = {str(k): str(v) for k, v in dict(spec["headers"]).items()}  # type: ignore[call-overload]
    bodies = [str(b) for b in list(spec["bodies"])]  # type: ignore[call-overload]
    rate = float(spec["rate"])  # type: ignore[arg-type]
    seconds = float(spec["seconds"])  # type: ignore[arg-type]
    count = min(int(spec["max_requests"]), int(rate * seconds))  # type: ignore[call-overload]
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())

    def request(n: int) -> bytes:
        body = bodies[n % len(bodies)].replace("{n}", str(n)).encode() if bodies else b""
        kind = "Content-Type: application/json\r\n" if bodies else ""
        return (
            f"{spec['method']} {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{head}{kind}"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body

    latencies: list[float] = [0.0] * count  # by request, in the order they were due
    errors = 0
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    opened = 0
    freed = asyncio.Event()

    async def answer(reader: asyncio.StreamReader) -> int | None:
        """The answer's status, its body read; None when the connection was closed first."""
        status_line = await reader.readline()
        if not status_line:
            return None
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        await reader.readexactly(length)
        return int(status_line.split()[1])

    async def connection(fresh: bool) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        nonlocal opened
        while not idle and opened >= PACED_CONNECTIONS_MAX:
            freed.clear()
            await freed.wait()
        if idle and not fresh:
            return idle.pop()
        opened += 1
        return await asyncio.open_connection(host, port)

    async def send(n: int, due: float) -> None:
        nonlocal errors, opened
        status = None
        for retry in (False, True):  # a kept-alive connection closed while idle: a new one
            reader, writer = await connection(fresh=retry)
            try:
                writer.write(request(n))
                status = await answer(reader)
            except OSError:
                status = None  # reset: as closed
            except (ValueError, asyncio.IncompleteReadError):
                status = 0  # broken mid-answer: failed, not sent again
            if status:
                idle.append((reader, writer))
                break
            opened -= 1
            writer.close()
            if status == 0:
                break
        latencies[n] = (time.perf_counter() - due) * 1000
        errors += not status or status >= 400
        freed.set()

    async def drive() -> float:
        nonlocal opened
        for _ in range(int(spec["concurrency"])):  # type: ignore[call-overload]
            idle.append(await asyncio.open_connection(host, port))
            opened += 1
        started = time.perf_counter()
        tasks = []
        for n in range(count):
            due = started + n / rate
            if (wait := due - time.perf_counter()) > 0:
                await asyncio.sleep(wait)
            tasks.append(asyncio.create_task(send(n, due)))
        await asyncio.gather(*tasks)
        return time.perf_counter() - started

    elapsed = asyncio.run(drive())
    return {
        "requests": len(latencies),
        "errors": errors,
        "seconds": elapsed,
        "latencies": latencies,
    }


PACED_CONNECTIONS_MAX = 1024
"""Connections a paced load may open when every one it has waits for an answer."""


if __name__ == "__main__":
    given = json.loads(sys.argv[1])
    print(json.dumps(_drive_paced(given) if given.get("rate") else _drive(given)))


def fresh_database(url: str) -> None:
    """Empty the bench database and migrate it (PostgreSQL: drop the schema; SQLite: new file)."""
    from sqlalchemy import text

    from dropwire.core.migrations import upgrade

    database = domains.database(url)
    if database.dialect == "postgresql":
        with database.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    upgrade(database)
    database.dispose()


def ensure_pg_database(name: str) -> str:
    """A PostgreSQL database of that name on 127.0.0.1 (created if missing); returns its URL."""
    import psycopg

    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def admin_token(url: str) -> str:
    from dropwire.auth.service import create_api_user

    database = domains.database(url)
    with database.transaction() as session:
        _, token = create_api_user(session, name="bench")
    database.dispose()
    return token


def seed_feed(url: str) -> tuple[int, str]:
    """A vendor with one push feed; returns the feed's id and inbound hash."""
    from dropwire.feeds.schemas import FeedCreate
    from dropwire.feeds.service import create_feed
    from dropwire.vendors.models import DropshipProvider

    database = domains.database(url)
    with database.transaction() as session:
        vendor = DropshipProvider(name="Bench vendor")
        session.add(vendor)
        session.flush()
        feed = create_feed(session, data=FeedCreate(dropship_provider_id=vendor.id))
        result = feed.id, feed.hash
    database.dispose()
    return result
