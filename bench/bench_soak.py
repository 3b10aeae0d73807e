"""A soak: `dropwire serve` under a steady mixed load for a while; prints its RSS every minute.

    .venv/bin/python -m bench.bench_soak [--minutes 60] [--rate 80] [--database-url URL]
        [--tracemalloc] [--count-objects]

The load (paced, from other processes) is async manual sales, sync manual sales and sync feed
items, in equal parts, each request a new record. Each minute prints the resident set of every
process of the server (the supervisor, its API and worker processes) and their total, requests
answered and errors in that minute, and the machine's load average (the machine may be shared);
at the end, the change of each process from the 10th minute to the last (the soak's verdict:
flat means within 10 %). `--tracemalloc`
traces allocations in every process of the server from the first minute on and, at the end,
prints per process what grew most between its snapshot of the second minute and its last one
(a leak shows as a line that keeps growing). `--count-objects` instead counts each process's
live objects by type at minutes 2, 5, 10, ... and the end, which slows nothing in between, and
prints the types that grew most. `--database-url` names an empty database (the soak seeds it).
"""

import argparse
import contextlib
import json
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
    return sum(process_rss(pid).values())


def process_rss(pid: int) -> dict[int, float]:
    """Resident set in MB of the process and each of its descendants, by pid."""
    found: dict[int, float] = {}
    for current in _descendants(pid):
        try:
            status = Path(f"/proc/{current}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                found[current] = int(line.split()[1]) / 1024
    return found


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


class Load:
    """Paced clients: `rate` requests/s in total over three kinds, each request a new record."""

    def __init__(
        self,
        base: str,
        token: str,
        channel: dict,
        feed: tuple[int, str],
        rate: float,
        clients: int = 1,
    ):
        self.base, self.token, self.channel, self.feed = base, token, channel, feed
        self.clients = clients  # threads per kind
        self.interval = 3 * clients / rate  # each of the three kinds gets a third
        self.answered = 0
        self.errors = 0
        self.statuses: dict[int, int] = {}
        self.latencies: list[float] = []
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def threads(self) -> list[threading.Thread]:
        return [
            threading.Thread(target=self.run, args=(kind, client), daemon=True)
            for kind in (0, 1, 2)
            for client in range(self.clients)
        ]

    def _request(self, http: httpx.Client, kind: int, n: str) -> httpx.Response:
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
        item = {"externalId": key, "vendorSku": f"V-{key}", "inventoryQuantity": len(key) % 9}
        return http.put(
            f"/api/inventory-feeds/{self.feed[0]}/parse-webhook.json", json=item, headers=admin
        )

    def run(self, kind: int, client: int = 0) -> None:
        n = 0
        next_at = time.monotonic() + self.interval * client / self.clients
        time.sleep(max(0.0, next_at - time.monotonic()))
        with httpx.Client(base_url=self.base, timeout=30) as http:
            while not self.stop.is_set():
                n += 1
                sent = time.monotonic()
                try:
                    status = self._request(http, kind, f"{client}-{n}").status_code
                except httpx.HTTPError:
                    status = 0
                took = time.monotonic() - sent
                ok = 0 < status < 400
                with self.lock:
                    self.answered += ok
                    self.errors += not ok
                    self.statuses[status] = self.statuses.get(status, 0) + 1
                    self.latencies.append(took)
                next_at += self.interval
                time.sleep(max(0.0, next_at - time.monotonic()))

    def take(self) -> tuple[int, int]:
        with self.lock:
            counts = self.answered, self.errors
            self.answered = self.errors = 0
            self.latencies = []  # a soak keeps no more than a minute of them
        return counts


def seed(base: str, token: str, url: str) -> tuple[dict, tuple[int, str]]:
    """A variant with plenty of stock, a custom channel and a feed (on an empty database)."""
    feed = seed_feed(url)
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as http:
        http.post("/api/variants.json", json={"sku": "S", "name": "Soak"}).raise_for_status()
        feed_item = {"externalId": "stock", "vendorSku": "S", "inventoryQuantity": 100_000_000}
        http.put(f"/api/inventory-feeds/{feed[0]}/parse-webhook.json", json=feed_item)
        channel = http.post("/api/custom-channels.json", json={"name": "Soak"}).json()
    return channel, feed


def _role(pid: int) -> str:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    words = b" ".join(argv).decode(errors="replace")
    for word, role in (
        ("resource_tracker", "tracker"),
        (" serve", "serve"),
        (" worker", "worker"),
        ("multiprocessing", "api"),
    ):
        if word in words:
            return role
    return words[-40:]


def _report_change(history: dict[int, dict[int, float]], pids: list[int]) -> None:
    """Each process's change from the 10th minute (or the first, in a short run) to the last."""
    last = max(history)
    base = 10 if last > 10 else min(1, last)
    print(f"change from minute {base} to minute {last}:")
    rows = [*pids, 0]
    for pid in rows:
        if pid:
            before, after = history[base].get(pid, 0.0), history[last].get(pid, 0.0)
            name = f"{pid} {_role(pid)}"
        else:
            before, after = sum(history[base].values()), sum(history[last].values())
            name = "total"
        change = (after - before) / before * 100 if before else 0.0
        print(f"  {name:24s} {before:8.1f} -> {after:8.1f} MB  {change:+6.1f} %")


def _descendants(pid: int) -> list[int]:
    """The process and its descendants, whichever of their threads started them (`serve`
    starts its worker processes from a thread)."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        try:
            threads = list(Path(f"/proc/{current}/task").iterdir())
        except OSError:
            continue
        for thread in threads:
            try:
                pending.extend(int(child) for child in (thread / "children").read_text().split())
            except OSError:
                continue
    return found


def _signal_all(pid: int, signum: int = signal.SIGUSR1) -> None:
    for process in _descendants(pid):
        if _role(process) == "tracker":
            continue  # multiprocessing's resource tracker: not ours, and dies of the signal
        with contextlib.suppress(OSError):
            os.kill(process, signum)


def _report_counts(snapshots: Path) -> None:
    """Per process: the object types whose live count grew most from its first count to its
    last (`--count-objects`)."""
    by_pid: dict[str, list[Path]] = {}
    for path in sorted(snapshots.glob("*.counts")):
        by_pid.setdefault(path.name.split("-")[0], []).append(path)
    for pid, taken in sorted(by_pid.items()):
        if len(taken) < 2:
            continue
        first, last = (json.loads(path.read_text()) for path in (taken[0], taken[-1]))
        print(
            f"process {pid} ({_role(int(pid))}): allocated blocks {first['blocks']} -> "
            f"{last['blocks']}; live objects that grew most:"
        )
        grown = {name: count - first["types"].get(name, 0) for name, count in last["types"].items()}
        for name, change in sorted(grown.items(), key=lambda item: -item[1])[:12]:
            print(f"  {change:+9d}  {name} (now {last['types'][name]})")


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
    parser.add_argument(
        "--count-objects",
        action="store_true",
        help="count live objects by type in every process at minutes 2, 5, 10, ... (cheap)",
    )
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
        if args.tracemalloc or args.count_objects:
            snapshots.mkdir()
            site = sitecustomize_dir(Path(tmp))
            env["PYTHONPATH"] = os.pathsep.join([str(site), str(ROOT), env.get("PYTHONPATH", "")])
            env[SNAPSHOTS] = str(snapshots)
        cli = [sys.executable, "-m", "dropwire.cli"]
        subprocess.run([*cli, "migrate"], env=env, cwd=ROOT, check=True)
        server = subprocess.Popen([*cli, "serve", "--port", str(port)], env=env, cwd=ROOT)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for(base + "/health", timeout=600)
            channel, feed = seed(base, token, url)
            load = Load(base, token, channel, feed, args.rate)
            clients = load.threads()
            for client in clients:
                client.start()
            started = time.monotonic()
            print(f"database {url.split(':')[0]}, {args.rate:.0f} req/s offered")
            pids = sorted(process_rss(server.pid))  # supervisor first, then its children
            print("processes: " + ", ".join(f"{pid} {_role(pid)}" for pid in pids))
            header = "".join(f"{pid:>9d}" for pid in pids)
            print(f"minute {header}  total MB   answered   errors   load average")
            history: dict[int, dict[int, float]] = {}

            def line(minute: int, answered: str, errors: str) -> None:
                sizes = process_rss(server.pid)
                history[minute] = sizes
                columns = "".join(f"{sizes.get(pid, 0.0):9.1f}" for pid in pids)
                total = sum(sizes.values())
                print(
                    f"{minute:6d} {columns} {total:9.1f} {answered:>10} {errors:>8}   "
                    f"{load_average()}",
                    flush=True,
                )

            line(0, "", "")
            for minute in range(1, int(args.minutes) + 1):
                time.sleep(max(0.0, started + 60 * minute - time.monotonic()))
                answered, errors = load.take()
                line(minute, str(answered), str(errors))
                if args.tracemalloc and (minute <= 2 or minute % 5 == 0 or minute == args.minutes):
                    _signal_all(server.pid)  # minute 1 starts tracing
                if args.count_objects and (
                    minute == 2 or minute % 5 == 0 or minute == args.minutes
                ):
                    _signal_all(server.pid, signal.SIGUSR2)
            load.stop.set()
            for client in clients:
                client.join(timeout=30)
            _report_change(history, pids)
            if args.tracemalloc or args.count_objects:
                time.sleep(5)  # the last snapshot is written
                _report_growth(snapshots)
                _report_counts(snapshots)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)


if __name__ == "__main__":
    main()
