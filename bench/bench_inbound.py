"""The async inbound API (`/webhooks`) against a bare FastAPI endpoint, on SQLite and PostgreSQL.

    .venv/bin/python -m bench.bench_inbound [--seconds 10] [--rounds 2] [--lag-seconds 60]
        [--lag-rate 1000]
        [--client wrk]

Per database, from one run:
1. Accepted async manual-sales/s (one 1-line sale per request, a fresh `externalId` each) vs a
   bare FastAPI POST that parses the same body, same client, same concurrency; and the ratio,
   in alternating rounds (the median of the rounds' ratios).
   The client is `wrk -t2 -c32` when installed (`apt-get install wrk`), else the bench's own.
   Dropwire three times: tuned (worker off, access log silenced), as shipped (`dropwire serve`:
   its worker process applying what it accepts, access log off by default), and `dropwire serve`
   with `DROPWIRE_ACCESS_LOG=true` (the access log's cost is the difference). Goal: as shipped
   >= 0.35 of bare.
2. Accept → applied lag (p50/p99) at a sustained `--lag-rate` requests/s (default 1,000 for 60 s)
   against `dropwire serve` as shipped: from a job's `created_at` (its accept) to the API-log row
   its item wrote when applied. The requests go out on schedule (an open-loop client), however
   long the answers take. On a PostgreSQL server with autovacuum off, a second run keeps the
   tables' statistics as a default server's autovacuum would (`AUTOANALYZE_EVERY`): without
   any, the planner takes the growing tables for empty.
3. With `--drain`: jobs/s drained by 1 and 4 worker threads.

The machine is shared and has 2 cores: treat the figures as approximate.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.common import (
    ensure_pg_database,
    free_port,
    fresh_database,
    run_load,
    server,
    shipped_server,
)
from dropwire import domains

PATH = "/webhooks/custom-channels/manual-sale.json"
_WRK_SCRIPT = """
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
function init(args)
  n = 0
end
function request()
  n = n + 1
  return wrk.format(nil, nil, nil, string.format(template, tid, n))
end
"""


TUNED = "tuned: no worker, no access log"
SHIPPED = "as shipped: dropwire serve"
LOGGED = "dropwire serve, access log on"


def sale_body(prefix: str, placeholder: str = "{n}") -> str:
    return json.dumps(
        {
            "externalId": f"{prefix}-{placeholder}",
            "lineItems": [
                {"externalId": "l1", "quantity": 1, "price": 10, "variant": {"sku": "S-1"}}
            ],
            "saleDefaults": {"receiverCountry": "US"},
        }
    )


def seed(url: str) -> str:
    """A custom channel and a stocked SKU; returns the channel's webhook hash."""
    from dropwire.catalog.models import Product, Variant
    from dropwire.channels.schemas import CustomChannelCreate
    from dropwire.channels.service import create_custom_channel
    from dropwire.feeds.schemas import FeedCreate, FeedVariantData
    from dropwire.feeds.service import create_feed, upsert_feed_variant
    from dropwire.vendors.models import DropshipProvider

    database = domains.database(url)
    with database.transaction() as session:
        product = Product(name="Bench")
        vendor = DropshipProvider(name="Bench vendor")
        session.add_all([product, vendor])
        session.flush()
        session.add(Variant(product_id=product.id, sku="S-1", sku_key="s-1", name="s"))
        feed = create_feed(session, data=FeedCreate(dropship_provider_id=vendor.id))
        upsert_feed_variant(
            session,
            feed=feed,
            data=FeedVariantData(
                external_id="S-1", vendor_sku="S-1", inventory_quantity=10_000_000
            ),
        )
        custom = create_custom_channel(session, data=CustomChannelCreate(name="Bench store"))
        webhook_hash = custom.webhook_hash
    database.dispose()
    return webhook_hash


class Rate:
    def __init__(self, rps: float, errors: int, p50: str, p99: str) -> None:
        self.rps, self.errors, self.p50, self.p99 = rps, errors, p50, p99

    def line(self, label: str) -> str:
        return (
            f"  {label:<36} {self.rps:>8.0f} req/s   p50 {self.p50:>9}   p99 {self.p99:>9}"
            f"   errors {self.errors}"
        )


def _wrk(url: str, headers: dict[str, str], template: str, seconds: float) -> Rate:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(f"template = {json.dumps(template)}\n")
        script.write('wrk.method = "POST"\n')
        for name, value in {**headers, "Content-Type": "application/json"}.items():
            script.write(f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}\n")
        script.write(_WRK_SCRIPT)
    try:
        out = subprocess.run(
            ["wrk", "-t2", "-c32", f"-d{seconds:.0f}s", "--latency", "-s", script.name, url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    # lines of the latency distribution only: "75.50%" ends a column of the thread stats
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1)  # type: ignore[union-attr]
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1)  # type: ignore[union-attr]
    errors = int(bad.group(1)) if bad else 0
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    return Rate(rps, errors, p50, p99)


def _python_client(url: str, headers: dict[str, str], template: str, seconds: float) -> Rate:
    result = run_load(
        url,
        method="POST",
        headers=headers,
        bodies=[template.replace("%d-%d", "p-{n}")],
        concurrency=32,
        seconds=seconds,
    )
    return Rate(
        result.rps,
        result.errors,
        f"{result.percentile(50):.2f}ms",
        f"{result.percentile(99):.2f}ms",
    )


def accept_rates(url: str, webhook_hash: str, seconds: float, client: str, rounds: int) -> None:
    """Bare and Dropwire in alternating rounds, each server measured alone: the machine is
    shared and its speed drifts by more than the margin between runs, so each round's ratio pairs
    runs taken back to back, and the median of the rounds' ratios is the figure. Only one server
    runs at a time and every run starts on an empty queue: a `dropwire serve` left running would
    spend its worker on the other runs' sales and make them look slow."""
    load = _wrk if client == "wrk" else _python_client
    database = domains.database(url)
    shipped_env = {"DROPWIRE_DATABASE_URL": url, "DROPWIRE_RATE_LIMIT_ENABLED": "false"}
    configurations = (  # label, how it is started, the environment it runs with
        (TUNED, "uvicorn", {**shipped_env, "DROPWIRE_WORKER_IN_PROCESS": "false"}),
        (SHIPPED, "serve", shipped_env),
        (LOGGED, "serve", {**shipped_env, "DROPWIRE_ACCESS_LOG": "true"}),
    )
    ratios: dict[str, list[float]] = {label: [] for label, _, _ in configurations}
    for number in range(1, rounds + 1):
        with server("bench.bare_app:app", free_port(), factory=False) as bare_base:
            bare = load(bare_base + "/manual-sale", {}, sale_body(f"b{number}", "%d-%d"), seconds)
        print(f"  round {number}")
        print(bare.line("  bare FastAPI, parses the body"))
        for label, how, env in configurations:
            started = (
                shipped_server(free_port(), env=env)
                if how == "serve"
                else server("dropwire.app:create_app", free_port(), env=env)
            )
            template = sale_body(f"{label[:1]}{number}", "%d-%d")  # new sales each run
            with started as base:
                ours = load(base + PATH, {"jetti-webhook-hash": webhook_hash}, template, seconds)
                after = ""
                if how == "serve":  # its worker applies what it accepted before the next run
                    drained = wait_for_sales(database, within=300, pause=0.2)
                    after = f"   applied {drained:.0f} s after" if drained else "   NOT applied"
            if how != "serve":
                drop_queued_sales(database)  # accepted, never to be applied: not the next run's
            ratios[label].append(ours.rps / bare.rps)
            print(ours.line("  " + label) + f"   ratio {ratios[label][-1]:.2f}{after}")
    database.dispose()
    for label, found in ratios.items():
        goal = "   (goal >= 0.35)" if label != TUNED else ""
        print(
            f"  ratio dropwire/bare, {label}: median {statistics.median(found):.2f} of {rounds}"
            f" rounds ({', '.join(f'{r:.2f}' for r in found)}){goal}   (client: {client} -c32)"
        )
    on, off = statistics.median(ratios[LOGGED]), statistics.median(ratios[SHIPPED])
    print(f"  the access log costs {(1 - on / off) * 100:.0f}% of the shipped accept rate")


def drop_queued_sales(database: Any) -> None:
    from sqlalchemy import delete

    from dropwire.jobs.models import Job

    with database.transaction() as session:
        session.execute(delete(Job).where(Job.kind == "inbound.manual_sale"))


def wait_for_sales(database: Any, *, within: float, pause: float) -> float | None:
    """Until no queued sale is left (the worker's maintenance job stays queued for later);
    returns the seconds it took, or None if some were left after `within`."""
    from dropwire.jobs.models import Job

    started = time.monotonic()
    deadline = started + within
    while time.monotonic() < deadline:
        with database.session(write=False) as session:
            left = session.scalar(
                select(func.count())
                .select_from(Job)
                .where(Job.kind == "inbound.manual_sale", Job.state.in_(("queued", "running")))
            )
        if not left:
            return time.monotonic() - started
        time.sleep(pause)
    return None


def drain_rates(url: str, jobs: int, batch: int | None) -> None:
    from dropwire.channels.models import CustomChannel
    from dropwire.inbound import service as inbound
    from dropwire.inbound.registry import InboundKinds
    from dropwire.jobs.worker import Worker

    database = domains.database(url)
    batch = batch or database.settings.job_batch_size
    for threads in (1, 4):
        with database.transaction() as session:
            channel_id = session.scalars(select(CustomChannel.channel_id)).one()
            kind = database.wiring.part(InboundKinds)["inbound.manual_sale"]
            for n in range(jobs):  # queued as the endpoint queues them
                item = json.loads(sale_body(f"drain{threads}", str(n)))
                inbound.accept(
                    session, kind=kind, owner_id=channel_id, items=[item], endpoint="bench"
                )
        worker = Worker(database, threads=threads, poll_interval=0.05, batch=batch)
        started = time.perf_counter()
        worker.start()
        wait_for_sales(database, within=float("inf"), pause=0.05)
        elapsed = time.perf_counter() - started
        worker.stop()
        print(
            f"  {threads} worker thread(s), batch {batch}: {jobs / elapsed:8.0f} jobs/s "
            f"({jobs} sales)"
        )
    database.dispose()


LAG_CONNECTIONS = 32
"""The paced client's connections at the start; it opens more when every one waits for an
answer (`bench.common._drive_paced`). A client of a fixed 32 connections, each waiting for its
answer, sent only 580-700 of the 1,000 req/s asked for when answers took 47 ms."""


AUTOANALYZE_EVERY = 15.0
"""Seconds between the ANALYZEs that stand in for autovacuum's when the server has it off:
at 1,000 sales/s autovacuum's own threshold (50 rows and a tenth of the table changed) is met
at every visit, and a default server visits each database every minute."""


def autovacuum_off(url: str) -> bool:
    from sqlalchemy import text

    database = domains.database(url)
    with database.engine.connect() as connection:
        setting = connection.execute(text("SHOW autovacuum")).scalar()
    database.dispose()
    return setting == "off"


@contextmanager
def analyzing(url: str, every: float) -> Iterator[None]:
    """ANALYZE the database every `every` seconds meanwhile, as autovacuum would."""
    from sqlalchemy import text

    database = domains.database(url)
    stop = threading.Event()

    def analyze() -> None:
        while not stop.wait(every):
            with database.engine.connect() as connection:
                connection.execute(text("ANALYZE"))
                connection.commit()

    thread = threading.Thread(target=analyze, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        database.dispose()


def lag(url: str, webhook_hash: str, seconds: float, rate: float) -> None:
    from dropwire.apilog.models import ApiLog
    from dropwire.jobs.models import Job

    env = {  # `dropwire serve` as shipped: an API process and a worker process (2 threads)
        "DROPWIRE_DATABASE_URL": url,
        "DROPWIRE_RATE_LIMIT_ENABLED": "false",
    }
    database = domains.database(url)
    with shipped_server(free_port(), env=env) as base:
        sent = run_load(
            base + PATH,
            method="POST",
            headers={"jetti-webhook-hash": webhook_hash},
            bodies=[sale_body("lag")],
            concurrency=LAG_CONNECTIONS,  # paced: `rate` req/s in all, whatever the answers take
            seconds=seconds,
            rate=rate,
        )
        wait_for_sales(database, within=60, pause=0.2)  # until drained (or a minute)
    with database.session(write=False) as session:
        applied = dict(
            session.execute(
                select(ApiLog.external_id, ApiLog.created_at).where(
                    ApiLog.external_id.like("lag-%")
                )
            ).all()
        )
        accepted = {  # a job per request: its items (one sale each)
            str(item.get("externalId")): job.created_at
            for job in session.scalars(select(Job).where(Job.kind == "inbound.manual_sale"))
            for item in job.payload.get("items", [job.payload.get("item", {})])
            if str(item.get("externalId", "")).startswith("lag-")
        }
    database.dispose()
    # an item not applied by the end counts as slower than every applied one
    lags = sorted(
        (applied[k] - accepted[k]).total_seconds() * 1000 if k in applied else float("inf")
        for k in accepted
    )
    if not lags:
        print(f"  {sent.rps:.0f} req/s for {seconds:.0f} s ({sent.errors} errors): none accepted")
        return

    def at(fraction: float) -> str:
        value = lags[min(len(lags) - 1, int(len(lags) * fraction))]
        return f"{value:.0f} ms" if value != float("inf") else "not applied within 60 s"

    print(
        f"  {sent.rps:.0f} req/s for {seconds:.0f} s ({sent.errors} errors), answered in p50 "
        f"{sent.percentile(50):.1f} ms, p99 {sent.percentile(99):.1f} ms; "
        f"{sum(k in applied for k in accepted)}/{len(accepted)} applied; "
        f"accept→applied p50 {at(0.5)}, p99 {at(0.99)}"
    )
    print(f"  accept→applied p99 by {LAG_SLICE:.0f} s of the run: {_by_slice(accepted, applied)}")
    p99 = lags[min(len(lags) - 1, int(len(lags) * 0.99))]
    met = sent.rps >= 0.98 * rate and not sent.errors and p99 <= 2000
    print(
        f"  goal: {rate:.0f} sales/s sustained for {seconds:.0f} s, accept→applied p99 <= 2 s:"
        f" {'met' if met else 'MISSED'}   (load average {os.getloadavg()[0]:.1f})"
    )


LAG_SLICE = 10.0
"""Seconds of accepts per slice of the lag's course: a lag that grows slice after slice is a
worker slower than the load; one slice's spike is a stall."""


def _by_slice(accepted: dict[str, Any], applied: dict[str, Any]) -> str:
    """The p99 lag (s) of each `LAG_SLICE` of accepts, in order ("-" where one was not applied)."""
    start = min(accepted.values())
    slices: dict[int, list[float]] = {}
    for key, at in accepted.items():
        lag = (applied[key] - at).total_seconds() if key in applied else float("inf")
        slices.setdefault(int((at - start).total_seconds() // LAG_SLICE), []).append(lag)
    p99s = [sorted(lags)[int(len(lags) * 0.99)] for _, lags in sorted(slices.items())]
    return " ".join("-" if p99 == float("inf") else f"{p99:.1f}" for p99 in p99s)


def access_log_cost(lines: int = 50_000) -> float:
    """CPU microseconds one access-log line costs an API process: uvicorn's access logger as
    `dropwire serve` configures it (its formatter, our redaction filter), written to /dev/null.
    CPU time, not wall time, so a busy machine does not inflate it."""
    import logging
    from logging.config import dictConfig

    from uvicorn.config import LOGGING_CONFIG

    from dropwire.http.access_log import redact_server_logs

    dictConfig(LOGGING_CONFIG)
    redact_server_logs()
    logger = logging.getLogger("uvicorn.access")
    with open(os.devnull, "w") as sink:
        for handler in logger.handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(sink)
        started = time.process_time()
        for _ in range(lines):
            logger.info(
                '%s - "%s %s HTTP/%s" %d', "127.0.0.1:50000", "POST", PATH + "?x=1", "1.1", 200
            )
        spent = time.process_time() - started
    logger.handlers.clear()
    return spent / lines * 1e6


def reset(url: str) -> None:
    """An empty, migrated database (SQLite: a new file)."""
    if url.startswith("sqlite:///"):
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
    fresh_database(url)


def run(url: str, args: argparse.Namespace, client: str) -> None:
    name = url.split(":")[0].split("+")[0]
    print(f"{name}: load average {os.getloadavg()}")
    reset(url)
    webhook_hash = seed(url)
    print(f"{name}: accepting, {client} -t2 -c32, {args.seconds:.0f} s a run")
    accept_rates(url, webhook_hash, args.seconds, client, args.rounds)
    if args.lag_seconds > 0:
        reset(url)  # the lag is measured on an empty queue
        webhook_hash = seed(url)
        print(f"{name}: accept → applied at a sustained {args.lag_rate:.0f} req/s, dropwire serve")
        lag(url, webhook_hash, args.lag_seconds, args.lag_rate)
        if name == "postgresql" and autovacuum_off(url):
            reset(url)
            webhook_hash = seed(url)
            print(
                f"{name}: the same, the server's autovacuum being off, with an ANALYZE every"
                f" {AUTOANALYZE_EVERY:.0f} s standing in for it (a default server's)"
            )
            with analyzing(url, AUTOANALYZE_EVERY):
                lag(url, webhook_hash, args.lag_seconds, args.lag_rate)
    if args.drain:
        reset(url)  # the drain is measured on its own jobs, not what the lag left queued
        seed(url)
        print(f"{name}: draining")
        drain_rates(url, args.jobs, args.batch)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=2, help="alternating bare/ours rounds")
    parser.add_argument("--lag-seconds", type=float, default=60.0)
    parser.add_argument("--lag-rate", type=float, default=1000.0, help="sales/s sent, paced")
    parser.add_argument("--client", choices=("wrk", "python"), default=None)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--drain", action="store_true")
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument(
        "--batch",
        type=int,
        default=None,
        help="jobs a worker thread claims (as shipped if not set)",
    )
    parser.add_argument("--pg-database", default="dw_accept_bench", help="dropped and recreated")
    args = parser.parse_args()
    client = args.client or ("wrk" if shutil.which("wrk") else "python")
    print(f"an access-log line costs {access_log_cost():.1f} µs of CPU in the API process")
    if args.database in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            run(f"sqlite:///{Path(tmp) / 'bench.db'}", args, client)
    if args.database in ("postgresql", "both"):
        run(ensure_pg_database(args.pg_database), args, client)


if __name__ == "__main__":
    main()
