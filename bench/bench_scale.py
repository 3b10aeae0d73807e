"""Query costs as the data grows: the same requests against databases of three sizes.

    .venv/bin/python -m bench.bench_scale [--sizes S,M,L] [--sqlite] [--rebuild] [--repeat 20]
                                          [--plans 3]

Builds each database set-based unless one of that size is already there (PostgreSQL
`dw_scale_s`, `dw_scale_m`, `dw_scale_l`; with `--sqlite` also a SQLite M in
`$TMPDIR/dropwire-scale/scale_m.db`): one INSERT ... SELECT per table over a numbers series, with
the big tables' indexes (exactly those the migrations make) built after their rows, then
ANALYZE. L takes about 6 minutes on a busy 2-core machine, M one, S seconds. The databases stay,
so a re-run measures without building; the last lines print that command.

Measures the shipped command (`dropwire serve`, rate limit off) on each, one request at a time
from one client: the API lists an Onport client reads, every dashboard page, a sync sale, a
parse-webhook and an async accept. Prints p50 / p95 per size, the ratio of the largest size's
p50 to the smallest's, the goals (at L: API lists p95 <= 50 ms, pages p95 <= 150 ms, no p50
over 2x S) with what misses them, and the plans of the slowest reads' slowest statements (run
in-process with the same app, at the largest PostgreSQL size and on SQLite M).

| size | sales | sale lines | purchases | feed items | API-log rows | variants |
|---|---|---|---|---|---|---|
| S | 10k | 30k | 10k | 100k | 20k | 10k |
| M | 100k | 300k | 100k | 1M | 200k | 50k |
| L | 1M | 3M | 1M | 5M | 2M | 100k |

The machine may be shared: the figures are a single client's latencies (the load average is
printed at the start and the end); read the ratios more than the last digit.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from bench.common import ROOT, ensure_pg_database, free_port, fresh_database, wait_for
from dropwire import domains

SIZES: dict[str, dict[str, int]] = {
    "S": {"sales": 10_000, "feed_items": 100_000, "logs": 20_000, "variants": 10_000},
    "M": {"sales": 100_000, "feed_items": 1_000_000, "logs": 200_000, "variants": 50_000},
    "L": {"sales": 1_000_000, "feed_items": 5_000_000, "logs": 2_000_000, "variants": 100_000},
}
VENDORS = 20  # one feed each
LINES = 3  # per sale
ADMIN_EMAIL = "bench@example.com"
ADMIN_PASSWORD = "bench-password-0123"
ADMIN_TOKEN = "bench-scale-admin-token-0123456789abcdef"


# --- building ------------------------------------------------------------------------------


def _series(dialect: str, count: int) -> str:
    """`n` from 1 to count: PostgreSQL's generate_series, SQLite's recursive CTE."""
    if dialect == "postgresql":
        return f"(SELECT n FROM generate_series(1, {count}) AS n) AS s"
    return (
        f"(WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < {count}) "
        "SELECT n FROM r) AS s"
    )


def _seed_records(url: str) -> dict[str, Any]:
    """What the services must create (hashes, users, a custom channel): vendors, feeds."""
    from dropwire.auth.users import create_user
    from dropwire.channels.schemas import CustomChannelCreate
    from dropwire.channels.service import create_custom_channel
    from dropwire.feeds.schemas import FeedCreate
    from dropwire.feeds.service import create_feed
    from dropwire.vendors.models import DropshipProvider

    database = domains.database(url)
    with database.transaction() as session:
        create_user(session, email=ADMIN_EMAIL, password=ADMIN_PASSWORD)
        feeds = []
        for n in range(VENDORS):
            vendor = DropshipProvider(name=f"Vendor {n:02d}")
            session.add(vendor)
            session.flush()
            feeds.append(create_feed(session, data=FeedCreate(dropship_provider_id=vendor.id)))
        custom = create_custom_channel(session, data=CustomChannelCreate(name="Bench store"))
        seeded = {
            "channel_id": custom.channel_id,
            "webhook_hash": custom.webhook_hash,
            "feed_ids": [feed.id for feed in feeds],
            "feed_hash": feeds[0].hash,
        }
    database.dispose()
    return seeded


BIG_TABLES = ("inventory_feed_variants", "sales", "sale_items", "purchases", "api_logs")


def _postpone_indexes(connection: Any, dialect: str) -> list[str]:
    """Drop the big tables' secondary indexes for the load; returns how to build them again.

    The migrations made them (the measured database has exactly the shipped indexes); building
    each once after the rows are in is several times faster than keeping it up to date row by
    row. Foreign-key triggers are skipped for the load (`session_replication_role`): the
    generated rows reference rows inserted before them.
    """
    if dialect == "sqlite":  # the indexes a migration created (a UNIQUE constraint's stay)
        found = connection.execute(
            text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
                " AND tbl_name IN ('" + "', '".join(BIG_TABLES) + "')"
            )
        ).all()
        for name, _ in found:
            connection.execute(text(f'DROP INDEX "{name}"'))
        return [definition for _, definition in found]
    connection.execute(text("SET LOCAL statement_timeout = 0"))
    connection.execute(text("SET LOCAL session_replication_role = replica"))
    connection.execute(text("SET LOCAL synchronous_commit = off"))
    connection.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
    connection.execute(text("SET LOCAL work_mem = '64MB'"))
    rows = connection.execute(
        text(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i"
            " JOIN pg_class c ON c.relname = i.indexname"
            " WHERE i.schemaname = 'public' AND i.tablename = ANY(:tables)"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = c.oid)"
        ),
        {"tables": list(BIG_TABLES)},
    ).all()
    for name, _ in rows:
        connection.execute(text(f'DROP INDEX "{name}"'))
    return [definition for _, definition in rows]


def build(url: str, size: dict[str, int]) -> None:

    fresh_database(url)
    seeded = _seed_records(url)
    database = domains.database(url)
    dialect = database.dialect
    now = "now() AT TIME ZONE 'utc'" if dialect == "postgresql" else "datetime('now')"

    def ago(seconds: str) -> str:  # a timestamp `seconds` before now
        if dialect == "postgresql":
            return f"({now} - ({seconds}) * interval '1 second')"
        return f"datetime('now', '-' || ({seconds}) || ' seconds')"

    sales, variants, logs = size["sales"], size["variants"], size["logs"]
    span = 2 * 365 * 86400  # two years of sales, the newest now
    first_feed = min(seeded["feed_ids"])
    statements = [
        f"INSERT INTO products (name, created_at, updated_at) SELECT 'Product ' || n, {now}, "
        f"{now} FROM {_series(dialect, variants // 10)}",
        "INSERT INTO variants (product_id, sku, sku_key, name, inventory_policy, options, tags,"
        " images, created_at, updated_at) SELECT (SELECT min(id) FROM products) + (n - 1) / 10,"
        " 'SKU-' || n, 'sku-' || n, 'Variant ' || n, 'track', '[]', '[]', '[]',"
        f" {now}, {now} FROM {_series(dialect, variants)}",
        # feed items spread over the vendors' feeds; a tenth connect to a variant, 10 have a problem
        "INSERT INTO inventory_feed_variants (inventory_feed_id, external_id, vendor_sku,"
        " vendor_sku_key, name, options, images, tags, locations, inventory_quantity,"
        " inventory_quantity_override, variant_id, problem, created_at, updated_at)"
        f" SELECT {first_feed} + n % {VENDORS}, 'E-' || n, 'VS-' || n, 'vs-' || n,"
        " 'Item ' || n, '[]', '[]', '[]', '[]', n % 100, 'none',"
        f" CASE WHEN n % 10 = 0 AND n / 10 <= {variants}"
        " THEN (SELECT min(id) FROM variants) + n / 10 - 1 END,"
        " CASE WHEN n % 500000 = 7 THEN 'bad price' END,"
        f" {now}, {now} FROM {_series(dialect, size['feed_items'])}",
        "INSERT INTO sales (channel_id, external_id, reference, date_ordered, customer,"
        " sale_defaults, shipping, options, dropship_problems, inventory_status, payment_status,"
        " cancellation_status, cancel_reason, return_status, last_purchase_number,"
        " last_return_number, created_at, updated_at)"
        f" SELECT {seeded['channel_id']}, 'X-' || n, 'B' || n,"
        f" {ago(f'({sales} - n) * {span // sales}')}, '{{}}', '{{}}', '[]', '{{}}', '[]',"
        f" CASE WHEN n > {sales} - {max(1, sales // 200)} THEN 'notFulfilled' ELSE"
        " 'fulfilled' END, 'paid', 'none', NULL, 'notReturned', 1, 0,"
        f" {ago(f'({sales} - n) * {span // sales}')}, {now} FROM {_series(dialect, sales)}",
        "INSERT INTO sale_items (sale_id, external_id, quantity, taxable, properties,"
        " quantity_shipped, quantity_cancelled, price, variant_id, created_at, updated_at)"
        f" SELECT (SELECT min(id) FROM sales) + (n - 1) / {LINES}, 'L' || n, 1, true, '[]', 1,"
        f" 0, 10, (SELECT min(id) FROM variants) + n % {variants}, {now}, {now}"
        f" FROM {_series(dialect, sales * LINES)}",
        # the newest half percent still wait for their vendor, the rest were received
        "INSERT INTO purchases (sale_id, dropship_provider_id, external_reference,"
        " inventory_status, cancellation_status, order_splitting, last_fulfillment_number,"
        " created_at, updated_at)"
        " SELECT (SELECT min(id) FROM sales) + n - 1,"
        f" (SELECT min(id) FROM dropship_providers) + n % {VENDORS}, 'B' || n || '-01',"
        f" CASE WHEN n > {sales} - {max(1, sales // 200)} THEN 'notReceived' ELSE"
        " 'received' END, 'none', 'group', 0,"
        f" {ago(f'({sales} - n) * {span // sales}')}, {now} FROM {_series(dialect, sales)}",
        "INSERT INTO api_logs (direction, method, endpoint, status, http_status, problem,"
        " duration_ms, created_at)"
        " SELECT 'inbound-sync', 'GET', '/api/sales.json',"
        " CASE WHEN n % 1000 = 0 THEN 'error' ELSE 'success' END,"
        " CASE WHEN n % 1000 = 0 THEN 422 ELSE 200 END,"
        " CASE WHEN n % 1000 = 0 THEN 'where[x]: unknown field' END, 3.0,"
        f" {ago(f'({logs} - n) * 30')} FROM {_series(dialect, logs)}",
    ]
    started = time.perf_counter()
    with database.engine.begin() as connection:
        postponed = _postpone_indexes(connection, dialect)
        for statement in statements:
            table = re.search(r"INSERT INTO (\w+)", statement).group(1)  # type: ignore[union-attr]
            t0 = time.perf_counter()
            connection.execute(text(statement))
            print(f"    {table:<26} {time.perf_counter() - t0:6.1f} s", flush=True)
        t0 = time.perf_counter()
        for definition in postponed:  # one sorted build each beats maintaining them row by row
            connection.execute(text(definition))
        if postponed:
            print(
                f"    {len(postponed)} indexes rebuilt {time.perf_counter() - t0:6.1f} s",
                flush=True,
            )
    if dialect == "postgresql":
        autocommit = database.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        with autocommit as connection:
            connection.execute(text("SET statement_timeout = 0"))
            connection.execute(text("VACUUM ANALYZE"))
    else:  # in a transaction that commits (the driver's autocommit would still be in ours)
        with database.engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    print(f"    built in {time.perf_counter() - started:.0f} s", flush=True)
    database.dispose()


def migrate(url: str) -> None:
    from dropwire.core.migrations import upgrade

    database = domains.database(url)
    upgrade(database)
    database.dispose()


def built(url: str, size: dict[str, int]) -> bool:

    database = domains.database(url)
    try:
        with database.engine.connect() as connection:
            found = connection.scalar(text("SELECT max(id) FROM api_logs"))  # not a count
        return bool(found and found >= size["logs"])
    except Exception:
        return False
    finally:
        database.dispose()


# --- measuring ------------------------------------------------------------------------------


@dataclass
class Operation:
    label: str
    kind: str  # "api" (a list an Onport client reads), "page" (dashboard) or "write"
    call: Callable[[httpx.Client, int], httpx.Response]


def _seeded(url: str) -> dict[str, Any]:

    database = domains.database(url)
    with database.engine.connect() as connection:
        seeded = {
            "channel_id": connection.scalar(text("SELECT channel_id FROM custom_channels")),
            "webhook_hash": connection.scalar(text("SELECT webhook_hash FROM custom_channels")),
            "feed_id": connection.scalar(text("SELECT min(id) FROM inventory_feeds")),
            "items": connection.scalar(text("SELECT max(id) FROM inventory_feed_variants")),
            "sale_id": connection.scalar(text("SELECT max(id) FROM sales")),
            "purchase_id": connection.scalar(text("SELECT max(id) FROM purchases")),
            "vendor_id": connection.scalar(text("SELECT min(id) FROM dropship_providers")),
            "variant_id": connection.scalar(text("SELECT min(id) FROM variants")),
        }
    database.dispose()
    return seeded


def operations(seeded: dict[str, Any], size: dict[str, int]) -> list[Operation]:
    api = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    week_ago = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 7 * 86400))
    sku = f"VS-{size['feed_items'] // 2}"
    feed = seeded["feed_id"]

    def get(path: str, headers: dict[str, str] | None = None) -> Callable[..., httpx.Response]:
        return lambda client, _n: client.get(path, headers=headers)

    def cursor_page(path: str) -> Callable[..., httpx.Response]:
        def call(client: httpx.Client, _n: int) -> httpx.Response:
            first = client.get(path, headers=api)
            return client.get(first.links["next"]["url"], headers=api)

        return call

    def sale(client: httpx.Client, n: int) -> httpx.Response:
        body = {
            "externalId": f"sync-{time.time_ns()}-{n}",
            "lineItems": [
                {"externalId": "1", "quantity": 1, "price": 5, "variant": {"sku": "SKU-1"}}
            ],
        }
        return client.post(
            f"/api/channels/{seeded['channel_id']}/manual-sale.json", json=body, headers=api
        )

    def parse_webhook(client: httpx.Client, n: int) -> httpx.Response:
        body = {"externalId": f"E-{VENDORS}", "vendorSku": f"VS-{VENDORS}", "inventoryQuantity": n}
        return client.put(f"/api/inventory-feeds/{feed}/parse-webhook.json", json=body, headers=api)

    def accept(client: httpx.Client, n: int) -> httpx.Response:
        body = {
            "externalId": f"async-{time.time_ns()}-{n}",
            "lineItems": [
                {"externalId": "1", "quantity": 1, "price": 5, "variant": {"sku": "SKU-2"}}
            ],
        }
        return client.post(
            "/webhooks/custom-channels/manual-sale.json",
            json=body,
            headers={"jetti-webhook-hash": seeded["webhook_hash"]},
        )

    return [
        Operation(
            "feed items where[vendorSku] (API)",
            "api",
            get(f"/api/inventory-feed-variants.json?where[vendorSku]={sku}", api),
        ),
        Operation("feed items, page 1 (API)", "api", get("/api/inventory-feed-variants.json", api)),
        Operation(
            "feed items, offset 10,000 (API)",
            "api",
            get("/api/inventory-feed-variants.json?offset=10000", api),
        ),
        Operation(
            "feed items, next page by cursor (API)",
            "api",
            cursor_page("/api/inventory-feed-variants.json"),
        ),
        Operation(
            "sales status + 7-day dateOrdered (API)",
            "api",
            get(
                "/api/sales.json?where[inventoryStatus]=notFulfilled"
                f"&where[dateOrdered][gte]={week_ago}",
                api,
            ),
        ),
        Operation(
            "sales ordered by -dateOrdered (API)",
            "api",
            get("/api/sales.json?order=-dateOrdered", api),
        ),
        Operation("sales page 1 (API)", "api", get("/api/sales.json", api)),
        Operation("purchases page 1 (API)", "api", get("/api/purchases.json", api)),
        Operation("API logs page 1 (API)", "api", get("/api/api-logs.json", api)),
        Operation("overview (page)", "page", get("/")),
        Operation("inventory search by SKU prefix (page)", "page", get("/inventory?q=sku-123")),
        Operation("inventory (page)", "page", get("/inventory")),
        Operation("sales page 1 (page)", "page", get("/sales")),
        Operation("sales page 200 by offset (page)", "page", get("/sales?page=200")),
        Operation("purchases waiting (page)", "page", get("/purchases?waiting=1")),
        Operation("API logs, errors first (page)", "page", get("/api-logs")),
        Operation("vendors (page)", "page", get("/vendors")),
        Operation("feeds (page)", "page", get("/feeds")),
        Operation("feed items of a feed (page)", "page", get(f"/feeds/{feed}")),
        Operation("feed items, problems only (page)", "page", get(f"/feeds/{feed}?problems=1")),
        Operation("jobs (page)", "page", get("/jobs")),
        Operation("search a sale reference (page)", "page", get("/search?for=B12345")),
        Operation("search a SKU's start (page)", "page", get("/search?for=vs-4999")),
        Operation("search a customer's email (page)", "page", get("/search?for=smith@example.com")),
        Operation("deliveries (page)", "page", get("/deliveries")),
        Operation("channels (page)", "page", get("/channels")),
        Operation("mail (page)", "page", get("/mail")),
        Operation("people (page)", "page", get("/users")),
        Operation("API tokens (page)", "page", get("/tokens")),
        Operation("a sale (page)", "page", get(f"/sales/{seeded.get('sale_id')}")),
        Operation(
            "a purchase order (page)", "page", get(f"/purchases/{seeded.get('purchase_id')}")
        ),
        Operation("a vendor (page)", "page", get(f"/vendors/{seeded.get('vendor_id')}")),
        Operation("a variant (page)", "page", get(f"/inventory/{seeded.get('variant_id')}")),
        Operation("sync manual sale (write)", "write", sale),
        Operation("parse-webhook (write)", "write", parse_webhook),
        Operation("async accept (write)", "write", accept),
    ]


def _sign_in(client: httpx.Client) -> None:
    form = client.get("/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None, "no sign-in form"
    answer = client.post(
        "/sign-in",
        data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "csrf_token": token.group(1)},
    )
    assert answer.status_code < 400, answer.text


def measure(url: str, size: dict[str, int], repeat: int) -> dict[str, tuple[float, float]]:
    port = free_port()
    env = {
        **os.environ,
        "DROPWIRE_DATABASE_URL": url,
        "DROPWIRE_RATE_LIMIT_ENABLED": "false",
        "DROPWIRE_ADMIN_TOKEN": ADMIN_TOKEN,
        "DROPWIRE_LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "dropwire", "serve", "--port", str(port)], cwd=ROOT, env=env
    )
    figures: dict[str, tuple[float, float]] = {}
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(base + "/health", timeout=600)  # a loaded 2-core machine starts it slowly
        seeded = _seeded(url)
        with httpx.Client(base_url=base, timeout=60, follow_redirects=True) as client:
            _sign_in(client)
            for operation in operations(seeded, size):
                timings = []
                for n in range(repeat + 3):
                    t0 = time.perf_counter()
                    answer = operation.call(client, n)
                    elapsed = (time.perf_counter() - t0) * 1000
                    if answer.status_code >= 400:
                        raise RuntimeError(
                            f"{operation.label}: {answer.status_code} {answer.text[:300]}"
                        )
                    if n >= 3:  # the first ones warm caches and plans
                        timings.append(elapsed)
                timings.sort()
                figures[operation.label] = (
                    statistics.median(timings),
                    timings[min(len(timings) - 1, int(len(timings) * 0.95))],
                )
                print(
                    f"    {operation.label:<44} p50 {figures[operation.label][0]:7.1f} ms"
                    f"   p95 {figures[operation.label][1]:7.1f} ms",
                    flush=True,
                )
    finally:
        server.terminate()
        server.wait(timeout=60)
    return figures


def plans(url: str, size: dict[str, int], labels: list[str], top: int = 2) -> None:
    """The slowest statements of the reads `labels` name, each with its plan (PostgreSQL:
    EXPLAIN ANALYZE with buffers; SQLite: EXPLAIN QUERY PLAN). The requests run in this process
    (the same app, no worker) so each statement can be timed and explained with its parameters."""
    from fastapi.testclient import TestClient
    from sqlalchemy import create_engine, event
    from sqlalchemy.engine import Engine

    from dropwire.app import create_app
    from dropwire.core.settings import Settings

    settings = Settings(
        database_url=url,
        rate_limit_enabled=False,
        admin_token=ADMIN_TOKEN,
        worker_in_process=False,
        access_log=False,
    )
    seen: list[tuple[float, str, Any]] = []
    started: dict[int, float] = {}

    def before(_conn: Any, cursor: Any, *_args: Any) -> None:
        started[id(cursor)] = time.perf_counter()

    def after(_conn: Any, cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        t0 = started.pop(id(cursor), None)
        if t0 is not None and statement.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append(((time.perf_counter() - t0) * 1000, statement, parameters))

    explainer = create_engine(url)
    postgresql = explainer.dialect.name == "postgresql"
    app = create_app(settings=settings)
    chosen = [op for op in operations(_seeded(url), size) if op.label in labels]
    with TestClient(app) as client:
        _sign_in(client)  # type: ignore[arg-type]
        for operation in chosen:
            operation.call(client, 0)  # type: ignore[arg-type]  # warm
            event.listen(Engine, "before_cursor_execute", before)
            event.listen(Engine, "after_cursor_execute", after)
            try:
                answer = operation.call(client, 1)  # type: ignore[arg-type]
                if answer.status_code >= 400:
                    print(f"  {operation.label}: {answer.status_code} {answer.text[:200]}")
            finally:
                event.remove(Engine, "before_cursor_execute", before)
                event.remove(Engine, "after_cursor_execute", after)
            slowest = sorted(seen, key=lambda found: -found[0])[:top]
            spent = sum(found[0] for found in seen)
            print(f"\n--- {operation.label}: {len(seen)} statements, {spent:.1f} ms; the slowest")
            seen.clear()
            for elapsed, statement, parameters in slowest:
                print(f"  {elapsed:.1f} ms: {' '.join(statement.split())[:600]}")
                prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgresql else "EXPLAIN QUERY PLAN "
                with explainer.connect() as connection:
                    if postgresql:
                        connection.exec_driver_sql("SET statement_timeout = 0")
                    plan = connection.exec_driver_sql(prefix + statement, parameters).all()
                for row in plan:
                    print("      " + " | ".join(str(part) for part in row[-1:]))
    explainer.dispose()


def report(results: dict[str, dict[str, tuple[float, float]]], kinds: dict[str, str]) -> None:
    names = list(results)
    print(
        "\n| operation | " + " | ".join(f"{n} p50 / p95 ms" for n in names) + " | "
        f"{names[-1]}/{names[0]} p50 |"
    )
    print("|---|" + "---|" * (len(names) + 1))
    misses = []
    for label, kind in kinds.items():
        cells = [f"{results[n][label][0]:.1f} / {results[n][label][1]:.1f}" for n in names]
        ratio = results[names[-1]][label][0] / results[names[0]][label][0]
        print(f"| {label} | " + " | ".join(cells) + f" | {ratio:.1f}x |")
        largest = results[names[-1]][label]
        if kind == "api" and largest[1] > 50:
            misses.append(f"{label}: p95 {largest[1]:.0f} ms > 50 ms")
        if kind == "page" and largest[1] > 150:
            misses.append(f"{label}: p95 {largest[1]:.0f} ms > 150 ms")
        if ratio > 2:
            misses.append(f"{label}: p50 grows {ratio:.1f}x")
    print(f"\ngoals at {names[-1]}: " + ("all met" if not misses else "missed:"))
    for miss in misses:
        print(f"  - {miss}")


SQLITE_M = Path(tempfile.gettempdir()) / "dropwire-scale" / "scale_m.db"
"""Where the SQLite M lives between runs (outside any checkout: a re-run reuses it)."""


def _slowest_reads(
    figures: dict[str, tuple[float, float]], kinds: dict[str, str], count: int
) -> list[str]:
    reads = [label for label in figures if kinds.get(label) in ("api", "page")]
    return sorted(reads, key=lambda label: -figures[label][1])[:count]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="S,M,L", help="comma-separated of S, M, L")
    parser.add_argument("--sqlite", action="store_true", help="also a SQLite M")
    parser.add_argument("--rebuild", action="store_true", help="build even if present")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--plans", type=int, default=3, help="explain the N slowest reads")
    args = parser.parse_args()
    started = time.perf_counter()
    print(f"load average at start: {os.getloadavg()}", flush=True)
    results: dict[str, dict[str, tuple[float, float]]] = {}
    urls: dict[str, str] = {}
    targets = [
        (name, ensure_pg_database(f"dw_scale_{name.lower()}")) for name in args.sizes.split(",")
    ]
    if args.sqlite:
        SQLITE_M.parent.mkdir(parents=True, exist_ok=True)
        targets.append(("M sqlite", f"sqlite:///{SQLITE_M}"))
    for name, url in targets:
        size = SIZES[name.split()[0]]
        urls[name] = url
        if args.rebuild or not built(url, size):
            print(f"{name}: building", flush=True)
            build(url, size)
        else:  # built by an older checkout: the migrations added since (`serve` wants them all)
            migrate(url)
        print(f"{name}: measuring `dropwire serve`", flush=True)
        results[name] = measure(url, size, args.repeat)
    kinds = {
        op.label: op.kind
        for op in operations({"feed_id": 0, "channel_id": 0, "webhook_hash": ""}, SIZES["S"])
    }
    pg = {name: figures for name, figures in results.items() if "sqlite" not in name}
    if pg:
        report(pg, kinds)
    if args.sqlite:
        print("\nSQLite M (goals as at L: API lists p95 <= 50 ms, pages p95 <= 150 ms):")
        for label, (p50, p95) in results["M sqlite"].items():
            goal = {"api": 50, "page": 150}.get(kinds[label])
            mark = "" if goal is None else ("  ok" if p95 <= goal else f"  MISSES {goal} ms")
            print(f"  {label:<44} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms{mark}")
    if args.plans:
        for name in [*(list(pg)[-1:]), *(["M sqlite"] if args.sqlite else [])]:
            size = SIZES[name.split()[0]]
            print(f"\n=== {name}: plans of the {args.plans} slowest reads", flush=True)
            plans(urls[name], size, _slowest_reads(results[name], kinds, args.plans))
    print(
        f"\nload average at the end: {os.getloadavg()}; {time.perf_counter() - started:.0f} s."
        f"\nThe databases stay (PostgreSQL dw_scale_s/_m/_l, SQLite {SQLITE_M}); to measure them"
        " again without building:\n    .venv/bin/python -m bench.bench_scale --sizes"
        f" {args.sizes} {'--sqlite ' if args.sqlite else ''}--repeat {args.repeat}"
    )


if __name__ == "__main__":
    main()
