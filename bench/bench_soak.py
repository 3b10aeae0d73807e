"""A soak: `dropwire serve` under a steady mixed load for a while; prints its RSS every minute.

    .venv/bin/python -m bench.bench_soak [--minutes 60] [--rate 80] [--database-url URL]
        [--tracemalloc]

The load (paced, from other processes) is async manual sales, sync manual sales and sync feed
items, in equal parts, each request a new record. Each minute prints the server's resident set
(the process and its children), requests answered and errors in that minute. `--tracemalloc`
traces allocations in every process of the server from the first minute on and, at the end,
prints per process what grew most between its snapshot of the second minute and its last one
(a leak shows as a line that keeps growing).
"""

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

import httpx

from bench.common import ROOT, free_port, seed_feed, wait_for
from bench.traced_serve import SNAPSHOTS, sitecustomize_dir


def rss_mb(pid: int) -> float:
    """Resident set of the process and its descendants (a supervising `serve` has children)."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
        pending.extend(int(child) for child in children)
    return total / 1024


class Load:
    """Paced clients: `rate` requests/s in total over three kinds, each request a new record."""

    def __init__(self, base: str, token: str, channel: dict, feed: tuple[int, str], rate: float):
        self.base, self.token, self.channel, self.feed = base, token, channel, feed
        self.interval = 3 / rate  # each of the three kinds gets a third
        self.answered = 0
        self.errors = 0
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def _request(self, http: httpx.Client, kind: int, n: int) -> httpx.Response:
        key = f"soak-{kind}-{n}"
        sale = {
            "externalId": key,
            "lineItems": [{"externalId": "1", "quantity": 1, "price": 9, "variant": {"sku": "S"}}],
        }
        admin = {"Authorization": f"Bearer {self.token}"}
        if kind == 0:
            headers = {"jetti-webhook-hash": self.channel["webhookHash"]}
            return http.post(
                "/webhooks/custom-channels/manual-sale.json", json=sale, headers=headers
            )
        if kind == 1:
            url = f"/api/channels/{self.channel['id']}/manual-sale.json"
            return http.post(url, json=sale, headers={**admin, "Idempotency-Key": key})
        item = {"externalId": key, "vendorSku": f"V-{key}", "inventoryQuantity": n % 9}
        return http.put(
            f"/api/inventory-feeds/{self.feed[0]}/parse-webhook.json", json=item, headers=admin
        )

    def run(self, kind: int) -> None:
        n = 0
        next_at = time.monotonic()
        with httpx.Client(base_url=self.base, timeout=30) as http:
            while not self.stop.is_set():
                n += 1
                try:
                    ok = self._request(http, kind, n).status_code < 400
                except httpx.HTTPError:
                    ok = False
                with self.lock:
                    self.answered += ok
                    self.errors += not ok
                next_at += self.interval
                time.sleep(max(0.0, next_at - time.monotonic()))

    def take(self) -> tuple[int, int]:
        with self.lock:
            counts = self.answered, self.errors
            self.answered = self.errors = 0
        return counts


def _seed(base: str, token: str, url: str) -> tuple[dict, tuple[int, str]]:
    feed = seed_feed(url)
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as http:
        http.post("/api/variants.json", json={"sku": "S", "name": "Soak"}).raise_for_status()
        feed_item = {"externalId": "stock", "vendorSku": "S", "inventoryQuantity": 100_000_000}
        http.put(f"/api/inventory-feeds/{feed[0]}/parse-webhook.json", json=feed_item)
        channel = http.post("/api/custom-channels.json", json={"name": "Soak"}).json()
    return channel, feed


def _descendants(pid: int) -> list[int]:
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        try:
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        pending.extend(int(child) for child in children)
    return found


def _signal_all(pid: int) -> None:
    for process in _descendants(pid):
        with contextlib.suppress(OSError):
            os.kill(process, signal.SIGUSR1)


def _report_growth(snapshots: Path) -> None:
    """Per process: what grew most from its first snapshot to its last."""
    by_pid: dict[str, list[Path]] = {}
    for path in sorted(snapshots.glob("*.pickle")):
        by_pid.setdefault(path.name.split("-")[0], []).append(path)
    for pid, taken in sorted(by_pid.items()):
        if len(taken) < 2:
            continue
        first = tracemalloc.Snapshot.load(str(taken[0]))
        last = tracemalloc.Snapshot.load(str(taken[-1]))
        grown = sum(stat.size_diff for stat in last.compare_to(first, "filename"))
        print(
            f"process {pid}: traced heap {grown / 1024:+.0f} KiB from {taken[0].name} to "
            f"{taken[-1].name}; the lines that grew most:"
        )
        for stat in last.compare_to(first, "lineno")[:8]:
            print(
                f"  {stat.size_diff / 1024:+9.0f} KiB {stat.count_diff:+8d} blocks  "
                f"{stat.traceback}"
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--rate", type=float, default=80)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--tracemalloc", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'soak.db'}"
        token = "soak-admin-token-0123456789abcdef0123"
        port = free_port()
        env = {
            **os.environ,
            "DROPWIRE_DATABASE_URL": url,
            "DROPWIRE_ADMIN_TOKEN": token,
            "DROPWIRE_RATE_LIMIT_ENABLED": "false",
            "DROPWIRE_LOG_LEVEL": "WARNING",
        }
        snapshots = Path(tmp) / "snapshots"
        if args.tracemalloc:
            snapshots.mkdir()
            site = sitecustomize_dir(Path(tmp))
            env["PYTHONPATH"] = os.pathsep.join([str(site), str(ROOT)])
            env[SNAPSHOTS] = str(snapshots)
        cli = [sys.executable, "-m", "dropwire.cli"]
        subprocess.run([*cli, "migrate"], env=env, cwd=ROOT, check=True)
        server = subprocess.Popen([*cli, "serve", "--port", str(port)], env=env, cwd=ROOT)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for(base + "/health", timeout=600)
            channel, feed = _seed(base, token, url)
            load = Load(base, token, channel, feed, args.rate)
            clients = [threading.Thread(target=load.run, args=(k,), daemon=True) for k in (0, 1, 2)]
            for client in clients:
                client.start()
            started = time.monotonic()
            print(f"database {url.split(':')[0]}, {args.rate:.0f} req/s offered")
            print("minute   RSS MB   answered   errors")
            print(f"{0:6d} {rss_mb(server.pid):8.1f}")
            for minute in range(1, int(args.minutes) + 1):
                time.sleep(max(0.0, started + 60 * minute - time.monotonic()))
                answered, errors = load.take()
                print(
                    f"{minute:6d} {rss_mb(server.pid):8.1f} {answered:10d} {errors:8d}", flush=True
                )
                if args.tracemalloc and (minute <= 2 or minute % 5 == 0 or minute == args.minutes):
                    _signal_all(server.pid)  # minute 1 starts tracing
            load.stop.set()
            for client in clients:
                client.join(timeout=30)
            if args.tracemalloc:
                time.sleep(5)  # the last snapshot is written
                _report_growth(snapshots)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)


if __name__ == "__main__":
    main()
