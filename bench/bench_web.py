"""Page load times of the admin dashboard with 10,000 sales in the database.

.venv/bin/python -m bench.bench_web [--sales 10000] [--requests 20]
    [--sqlite-only | --postgres-only] [--pg-database NAME]

Seeds sales through the real service (3 vendors, 2 lines each), serves the app with uvicorn,
signs in like a browser and times each page over loopback (the whole HTTP round trip).
"""

import argparse
import re
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from bench.bench_sales import seed
from bench.common import ensure_pg_database, free_port, fresh_database, server
from dropwire import domains

PASSWORD = "bench password 1"
PAGES = [
    "/",
    "/sales",
    "/sales?sort=reference&dir=asc&page=100",
    "/sales/5000",
    "/purchases?waiting=1",
    "/purchases/5000",
    "/inventory",
    "/inventory?q=s-1",
    "/inventory/1",
    "/vendors",
    "/feeds",
    "/feeds/1",
    "/feeds/1/runs",
    "/api-logs",
    "/deliveries",
    "/jobs",
    "/vendor-portal",
    "/search?for=1000",
    "/search?for=c123",
    "/sales?from=2000-01-01&to=2100-12-31&sort=reference&dir=asc",
    "/sales.csv",
]


def seed_sales(url: str, sales: int) -> None:
    from dropwire.auth.users import create_user
    from dropwire.channels.models import Channel
    from dropwire.sales.manual import upsert_manual_sale
    from dropwire.sales.schemas import ManualSale

    channel_id = seed(url)
    database = domains.database(url)
    with database.transaction() as session:
        create_user(session, email="admin@bench.test", password=PASSWORD)
        create_user(session, email="vendor@bench.test", password=PASSWORD, dropship_provider_id=1)
    done = 0
    while done < sales:
        with database.transaction() as session:
            channel = session.get(Channel, channel_id)
            assert channel is not None
            for n in range(done, min(sales, done + 500)):
                data = ManualSale.model_validate(
                    {
                        "externalId": f"bench-{n}",
                        "customer": {"email": f"c{n}@bench.test"},
                        "lineItems": [
                            {
                                "externalId": "a",
                                "quantity": 1,
                                "price": 10,
                                "variant": {"sku": f"S-{n % 60}"},
                            },
                            {
                                "externalId": "b",
                                "quantity": 2,
                                "price": 5,
                                "variant": {"sku": f"S-{(n + 1) % 60}"},
                            },
                        ],
                    }
                )
                upsert_manual_sale(session, channel=channel, data=data, actor="bench")
        done = min(sales, done + 500)
    database.dispose()


def signed_in(base: str, email: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    form = client.get("/sign-in").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token is not None
    answer = client.post(
        "/sign-in",
        data={"email": email, "password": PASSWORD, "csrf_token": token.group(1), "next": "/"},
    )
    assert answer.status_code == 303, answer.text[:200]
    return client


def measure(base: str, requests: int) -> None:
    admin = signed_in(base, "admin@bench.test")
    vendor = signed_in(base, "vendor@bench.test")
    for path in PAGES:
        client, target = (vendor, "/vendor") if path == "/vendor-portal" else (admin, path)
        client.get(target).raise_for_status()  # warm up
        times = []
        for _ in range(requests):
            started = time.perf_counter()
            answer = client.get(target)
            times.append((time.perf_counter() - started) * 1000)
            answer.raise_for_status()
        times.sort()
        p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
        print(f"  {target:<42} p50 {statistics.median(times):7.1f} ms   p95 {p95:7.1f} ms")


def run(url: str, sales: int, requests: int, label: str, seed_it: bool = True) -> None:
    if seed_it:
        fresh_database(url)
        started = time.perf_counter()
        seed_sales(url, sales)
        print(f"{label}: {sales} sales seeded in {time.perf_counter() - started:.0f} s")
    env = {"DROPWIRE_DATABASE_URL": url, "DROPWIRE_WORKER_IN_PROCESS": "false"}
    with server("dropwire.app:create_app", free_port(), env=env) as base:
        measure(base, requests)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sales", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=20)
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--sqlite-only", action="store_true")
    only.add_argument("--postgres-only", action="store_true")
    parser.add_argument(
        "--pg-database",
        default="dropwire_bench_web",
        help="PostgreSQL database on 127.0.0.1 to empty and seed (its schema is dropped)",
    )
    parser.add_argument(
        "--keep",
        type=Path,
        help="SQLite file to seed once and reuse on later runs (time pages only)",
    )
    args = parser.parse_args()
    if args.postgres_only:
        pass
    elif args.keep:
        fresh = not args.keep.exists()
        run(f"sqlite:///{args.keep.resolve()}", args.sales, args.requests, "SQLite", fresh)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            run(f"sqlite:///{Path(tmp) / 'web.db'}", args.sales, args.requests, "SQLite")
    if not args.sqlite_only:
        url = ensure_pg_database(args.pg_database)
        run(url, args.sales, args.requests, "PostgreSQL")


if __name__ == "__main__":
    main()
