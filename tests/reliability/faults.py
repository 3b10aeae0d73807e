"""Real faults for the reliability tests: a PostgreSQL cluster and a Redis of the test's own
(on their own ports, so they can be stopped, restarted and killed), `dropwire` processes
against them, and a steady mixed load that records every answer."""

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.processes import SETTLE_SECONDS, free_port, wait_ready, wait_until

ROOT = Path(__file__).resolve().parents[2]
ADMIN = "faults-test-admin-token-0123456789abcdef"
SKU = "FAULT-1"


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class OwnPostgres:
    """A throwaway cluster on its own port. As root it runs as the `postgres` user (initdb
    refuses root) in a temporary directory that user owns."""

    def __init__(self) -> None:
        binaries = _postgres_bin()
        if binaries is None:
            pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl) on this machine")
        self.bin = binaries
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="dropwire-pg-"))
        self.data = self.root / "data"
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            runuser = shutil.which("runuser")
            if runuser is None:
                pytest.skip("running as root without runuser: cannot start a PostgreSQL cluster")
            try:
                shutil.chown(self.root, "postgres", "postgres")
            except LookupError:
                pytest.skip("running as root and no `postgres` user to own a cluster")
            self.as_user = [runuser, "-u", "postgres", "--"]
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync")
        self.start()

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [*self.as_user, str(self.bin / tool), *args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def _ctl(self, *args: str) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c max_connections=200"
        )
        log = str(self.root / "log")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", log, *args)

    def start(self) -> None:
        self._ctl("-w", "start")

    def stop(self) -> None:
        self._ctl("-w", "-m", "fast", "stop")

    def restart(self) -> None:
        self._ctl("-w", "-m", "fast", "restart")

    def sql(self, statement: str, database: str = "postgres") -> list[tuple[object, ...]]:
        import psycopg

        dsn = f"host=127.0.0.1 port={self.port} user=postgres dbname={database}"
        with psycopg.connect(dsn, autocommit=True) as connection:
            cursor = connection.execute(statement)
            return list(cursor.fetchall()) if cursor.description else []

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def close(self) -> None:
        with suppress(subprocess.CalledProcessError):
            self._ctl("-w", "-m", "immediate", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


class OwnRedis:
    """A `redis-server` on its own port, without persistence."""

    def __init__(self) -> None:
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            pytest.skip("no redis-server on this machine")
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        assert self.binary is not None
        options = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), *options],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
            self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"


class Dropwire:
    """`dropwire` processes against one database: an API (`serve`, no in-process worker) and
    separate workers, each a process the test can signal."""

    def __init__(self, database_url: str, **settings: str) -> None:
        self.port = free_port()
        self.env = {
            **os.environ,
            "DROPWIRE_DATABASE_URL": database_url,
            "DROPWIRE_ADMIN_TOKEN": ADMIN,
            "DROPWIRE_RATE_LIMIT_ENABLED": "false",
            "DROPWIRE_LOG_LEVEL": "WARNING",
            "DROPWIRE_AUTH_CACHE_SECONDS": "0",  # every request looks its token up
            **{f"DROPWIRE_{name.upper()}": value for name, value in settings.items()},
        }
        self.api: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        self.logs = Path(tempfile.mkdtemp(prefix="dropwire-logs-"))
        self._command("migrate").wait(timeout=600)

    def _command(self, *args: str, log: str | None = None) -> "subprocess.Popen[bytes]":
        out = open(self.logs / log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115
        return subprocess.Popen(
            [sys.executable, "-m", "dropwire.cli", *args],
            cwd=ROOT,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT if log else subprocess.DEVNULL,
        )

    def start(self, workers: int = 1) -> None:
        self.api = self._command("serve", "--port", str(self.port), "--no-worker", log="api.log")
        self.workers = [
            self._command("worker", "--threads", "2", log=f"worker-{i}.log") for i in range(workers)
        ]
        wait_ready(self.base_url, [self.api, *self.workers])

    def log(self, name: str) -> str:
        path = self.logs / name
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        for process in [*self.workers, self.api]:
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGCONT)
                process.terminate()
        for process in [*self.workers, self.api]:
            if process is not None:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
        shutil.rmtree(self.logs, ignore_errors=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def admin(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30
        )


@dataclass
class Shop:
    """What the load writes to: one channel, one stocked SKU."""

    channel_id: int
    webhook_hash: str
    feed_id: int


def set_up_shop(dropwire: Dropwire, stock: int = 1_000_000) -> Shop:
    with dropwire.admin() as http:
        vendor = http.post("/api/dropship-providers.json", json={"name": "Stock"}).json()
        feed = http.post("/api/inventory-feeds.json", json={"dropshipProviderId": vendor["id"]})
        http.post("/api/variants.json", json={"sku": SKU, "name": "Fault"}).raise_for_status()
        stocked = http.put(
            f"/api/inventory-feeds/{feed.json()['id']}/parse-webhook.json",
            json={"externalId": "f1", "vendorSku": SKU, "inventoryQuantity": stock},
        )
        stocked.raise_for_status()
        custom = http.post("/api/custom-channels.json", json={"name": "Shop"}).json()
    return Shop(custom["id"], custom["webhookHash"], feed.json()["id"])


def sale_body(external_id: str) -> dict[str, object]:
    return {
        "externalId": external_id,
        "lineItems": [
            {"externalId": "1", "quantity": 1, "price": 9, "variant": {"sku": SKU}},
        ],
    }


@dataclass
class Answer:
    kind: str
    key: str
    status: int | None  # None: no answer (connection refused or reset, timeout)
    retry_after: str | None
    seconds: float
    body: str


@dataclass
class Load:
    """Client threads writing steadily until stopped: sync sales (with an idempotency key),
    async sales, and sync feed items; every answer is kept."""

    dropwire: Dropwire
    shop: Shop
    per_kind: int = 2
    pause: float = 0.05
    kinds: frozenset[str] = frozenset(("sync_sale", "async_sale", "feed_item"))
    answers: list[Answer] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _client(self, kind: str, n: int, http: httpx.Client) -> tuple[str, httpx.Response]:
        key = f"{kind}-{threading.get_ident()}-{n}"
        if kind == "sync_sale":
            return key, http.post(
                f"/api/channels/{self.shop.channel_id}/manual-sale.json",
                json=sale_body(key),
                headers={"Authorization": f"Bearer {ADMIN}", "Idempotency-Key": key},
            )
        if kind == "async_sale":
            return key, http.post(
                "/webhooks/custom-channels/manual-sale.json",
                json=sale_body(key),
                headers={"jetti-webhook-hash": self.shop.webhook_hash},
            )
        return key, http.put(
            f"/api/inventory-feeds/{self.shop.feed_id}/parse-webhook.json",
            json={"externalId": key, "vendorSku": f"V-{key}", "inventoryQuantity": 3},
            headers={"Authorization": f"Bearer {ADMIN}"},
        )

    def _run(self, kind: str) -> None:
        n = 0
        with httpx.Client(base_url=self.dropwire.base_url, timeout=60) as http:
            while not self._stop.is_set():
                n += 1
                started = time.monotonic()
                try:
                    key, response = self._client(kind, n, http)
                except httpx.HTTPError:
                    self._keep(Answer(kind, "", None, None, time.monotonic() - started, ""))
                    time.sleep(0.1)
                    continue
                answer = Answer(
                    kind,
                    key,
                    response.status_code,
                    response.headers.get("retry-after"),
                    time.monotonic() - started,
                    response.text[:500],
                )
                self._keep(answer)
                time.sleep(self.pause)

    def _keep(self, answer: Answer) -> None:
        with self._lock:
            self.answers.append(answer)

    def start(self) -> None:
        for kind in self.kinds:
            for _ in range(self.per_kind):
                thread = threading.Thread(target=self._run, args=(kind,), daemon=True)
                thread.start()
                self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=90)

    def mark(self) -> int:
        """A point in the answers: what comes after it came later."""
        with self._lock:
            return len(self.answers)

    def wait_served(self, since: int, seconds: float = SETTLE_SECONDS) -> None:
        """Until every kind of request has been answered 2xx after `since` (the API serves)."""

        def served() -> bool:
            with self._lock:
                later = self.answers[since:]
            return {a.kind for a in later if a.status in (200, 201)} >= self.kinds

        wait_until(served, seconds, "the API did not serve every kind of request")

    def statuses(self) -> Counter[int | None]:
        return Counter(answer.status for answer in self.answers)

    def acknowledged(self, kind: str) -> list[str]:
        return [a.key for a in self.answers if a.kind == kind and a.status in (200, 201)]

    def assert_no_500_and_503s_ask_for_retry(self) -> None:
        errors = [a for a in self.answers if a.status is not None and a.status >= 500]
        assert [a for a in errors if a.status != 503] == [], "an answer other than 503"
        assert [a for a in errors if not a.retry_after] == [], "a 503 without Retry-After"
        for answer in errors:
            assert '"message"' in answer.body, answer.body


@contextmanager
def loaded(dropwire: Dropwire, shop: Shop, **options: object) -> Iterator[Load]:
    load = Load(dropwire, shop, **options)  # type: ignore[arg-type]
    load.start()
    try:
        yield load
    finally:
        load.stop()
