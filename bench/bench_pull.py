"""Pull-feed throughput: a big CSV and XML file served by a local HTTP server, on each database.

    python bench/bench_pull.py [--rows 1000000] [--xml-items 200000] [--db sqlite|postgres|both]
        [--batches 200]

For each database: the first run (wall time, rows/s), an unchanged re-run, a re-run with 1% of the
rows changed, each run's worker CPU time (user + system: on a shared, loaded machine wall time
partly measures the queue for a core) and peak RSS (every run is its own process, as a worker
would be), and async parse-webhooks batches of 50 applied per second by a worker. PostgreSQL
uses a fresh database `dropwire_bench_pull_<pid>` on DROPWIRE_BENCH_PG (default postgresql+psycopg://postgres@127.0.0.1:5432).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from dropwire import domains
from dropwire.core import heap

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def write_csv(path: Path, rows: int, changed_every: int = 0) -> None:
    with path.open("w") as file:
        file.write("sku,qty,price,name\n")
        for n in range(rows):
            qty = n % 50 + 1
            if changed_every and n % changed_every == 0:
                qty += 1000
            file.write(f"SKU-{n:07d},{qty},{n % 997}.50,Item {n}\n")


def write_xml(path: Path, items: int, changed_every: int = 0) -> None:
    with path.open("w") as file:
        file.write('<?xml version="1.0"?>\n<catalog>\n')
        for n in range(items):
            qty = n % 50 + 1
            if changed_every and n % changed_every == 0:
                qty += 1000
            file.write(
                f'<product id="X{n}"><sku>XSKU-{n:07d}</sku><stock><qty>{qty}</qty></stock>'
                f"<price>{n % 997}.25</price></product>\n"
            )
        file.write("</catalog>\n")


def child_run(url: str, feed_id: int) -> None:
    """One run in this process: prints the run's figures and this process's peak RSS."""
    import resource

    from dropwire.feeds.pull import runs

    database = domains.database(url)
    heap.settle()  # what a worker process does once started (`dropwire worker`, `serve`)
    started = time.perf_counter()
    run = runs.run_now(database, feed_id, trigger="bench")
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak_kb = usage.ru_maxrss
    print(
        json.dumps(
            {
                "status": run.status,
                "problem": run.problem,
                "rows": run.rows_read,
                "created": run.rows_created,
                "updated": run.rows_updated,
                "unchanged": run.rows_unchanged,
                "failed": run.rows_failed,
                "seconds": seconds,
                "cpu": usage.ru_utime + usage.ru_stime,
                "peak_mb": peak_kb / 1024,
            }
        )
    )


def run_in_child(url: str, feed_id: int) -> dict[str, object]:
    env = {**os.environ, "DROPWIRE_ALLOW_PRIVATE_TARGETS": "true", "DROPWIRE_DATABASE_URL": url}
    out = subprocess.run(
        [sys.executable, __file__, "_run", url, str(feed_id)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def make_feed(url: str, kind: str, location: str, mapping: dict[str, object]) -> int:
    from dropwire.feeds.schemas import FeedCreate
    from dropwire.feeds.service import create_feed
    from dropwire.vendors.models import DropshipProvider

    database = domains.database(url)
    with database.transaction() as session:
        vendor = DropshipProvider(name=f"bench {kind}")
        session.add(vendor)
        session.flush()
        feed = create_feed(
            session,
            data=FeedCreate.model_validate(
                {
                    "dropshipProviderId": vendor.id,
                    "resourceType": kind,
                    "resourceLocation": location,
                    "mapping": mapping,
                    "fetchFrequency": "never",
                    "fetchCleanup": True,
                }
            ),
        )
        feed_id = feed.id
    database.dispose()
    return feed_id


def report(label: str, figures: dict[str, object]) -> None:
    rows = int(figures["rows"])  # type: ignore[call-overload]
    seconds = float(figures["seconds"])  # type: ignore[arg-type]
    cpu = float(figures["cpu"])  # type: ignore[arg-type]
    print(
        f"  {label:<22} {seconds:7.1f} s  {rows / seconds:9.0f} rows/s  worker CPU {cpu:6.1f} s  "
        f"peak RSS {float(figures['peak_mb']):6.0f} MB  "  # type: ignore[arg-type]
        f"[{figures['status']}: +{figures['created']} ~{figures['updated']} "
        f"={figures['unchanged']} !{figures['failed']}]"
    )


def bench_file(url: str, serve_dir: Path, base: str, kind: str, count: int) -> None:
    name = f"bench.{kind}"
    path = serve_dir / name
    if kind == "csv":
        write_csv(path, count)
        mapping: dict[str, object] = {
            "fields": {"vendorSku": "sku", "inventoryQuantity": "qty", "price": "price"}
        }
    else:
        write_xml(path, count)
        mapping = {
            "items": "//product",
            "fields": {
                "externalId": "@id",
                "vendorSku": "sku",
                "inventoryQuantity": "stock/qty",
                "price": "price",
            },
        }
    print(f" {kind.upper()} {count:,} rows ({path.stat().st_size / 1e6:.0f} MB)")
    feed_id = make_feed(url, kind, f"{base}/{name}", mapping)
    report("first run", run_in_child(url, feed_id))
    report("unchanged re-run", run_in_child(url, feed_id))
    (write_csv if kind == "csv" else write_xml)(path, count, changed_every=100)
    report("1% changed re-run", run_in_child(url, feed_id))


def bench_async(url: str, batches: int) -> None:
    from dropwire.feeds.models import InventoryFeed
    from dropwire.inbound import service
    from dropwire.inbound.registry import InboundKinds
    from dropwire.jobs import service as jobs
    from dropwire.jobs.worker import Worker

    database = domains.database(url)
    kind = database.wiring.part(InboundKinds)["inbound.parse_webhook"]
    with database.transaction() as session:
        from sqlalchemy import select

        feed = session.scalars(select(InventoryFeed).order_by(InventoryFeed.id)).first()
        assert feed is not None
        for b in range(batches):
            items = [
                {"externalId": f"a{b}-{k}", "vendorSku": f"A{b}-{k}", "inventoryQuantity": k}
                for k in range(50)
            ]
            service.accept(session, kind=kind, owner_id=feed.id, items=items, endpoint="bench")
    worker = Worker(database, threads=2, poll_interval=0.05, batch=10)
    started = time.perf_counter()
    worker.start()
    from sqlalchemy import func, select

    from dropwire.jobs.models import Job

    while True:
        with database.session(write=False) as session:
            left = session.scalar(
                select(func.count())
                .select_from(Job)
                .where(Job.state.in_(("queued", "running")), Job.kind == kind.name)
            )
        if not left:
            break
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    worker.stop()
    _ = jobs
    print(
        f" async parse-webhooks: {batches} batches of 50 in {seconds:.1f} s = "
        f"{batches * 50 / seconds:,.0f} items/s ({batches / seconds:,.0f} batches/s)"
    )
    database.dispose()


def bench_database(label: str, url: str, args: argparse.Namespace) -> None:
    from dropwire.core.migrations import upgrade

    database = domains.database(url)
    upgrade(database)
    database.dispose()
    print(f"== {label}")
    with tempfile.TemporaryDirectory() as tmp:
        serve_dir = Path(tmp)
        handler = partial(_Quiet, directory=str(serve_dir))
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_address[1]}"
        try:
            if args.rows:
                bench_file(url, serve_dir, base, "csv", args.rows)
            if args.xml_items:
                bench_file(url, serve_dir, base, "xml", args.xml_items)
            if args.batches:
                bench_async(url, args.batches)
        finally:
            server.shutdown()


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_run":
        child_run(sys.argv[2], int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--xml-items", type=int, default=200_000)
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args()
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            bench_database("SQLite", f"sqlite:///{tmp}/bench.db", args)
    if args.db in ("postgres", "both"):
        import psycopg

        server = os.environ.get("DROPWIRE_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
        name = f"dropwire_bench_pull_{os.getpid()}"
        plain = server.replace("+psycopg", "")
        with psycopg.connect(f"{plain}/postgres", autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        try:
            bench_database("PostgreSQL", f"{server}/{name}", args)
        finally:
            with psycopg.connect(f"{plain}/postgres", autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


if __name__ == "__main__":
    main()
