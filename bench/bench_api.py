"""GET /api/dropship-providers.json against a bare FastAPI endpoint, same machine, same load.

    .venv/bin/python -m bench.bench_api [--seconds 5] [--concurrency 16] [--database-url URL]

Both servers run in their own uvicorn process; the load comes from a third process.
"""

import argparse
import tempfile
from pathlib import Path

from bench.common import free_port, run_load, server
from dropwire import domains


def seed(database_url: str) -> str:
    from dropwire.auth.service import create_api_user
    from dropwire.core.migrations import upgrade
    from dropwire.vendors.models import DropshipProvider

    database = domains.database(database_url)
    upgrade(database)
    with database.transaction() as session:
        session.add_all(DropshipProvider(name=f"Vendor {i}") for i in range(20))
        _, token = create_api_user(session, name="bench")
    database.dispose()
    return token


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        token = seed(url)
        env = {"DROPWIRE_DATABASE_URL": url, "DROPWIRE_RATE_LIMIT_ENABLED": "false"}
        with server("bench.bare_app:app", free_port(), factory=False) as base:
            run_load(base + "/list", seconds=1, concurrency=args.concurrency)  # warm-up
            bare = run_load(base + "/list", seconds=args.seconds, concurrency=args.concurrency)
        with server("dropwire.app:create_app", free_port(), env=env) as base:
            headers = {"Authorization": f"Bearer {token}"}
            target = base + "/api/dropship-providers.json"
            run_load(target, headers=headers, seconds=1, concurrency=args.concurrency)
            ours = run_load(
                target, headers=headers, seconds=args.seconds, concurrency=args.concurrency
            )
    print(
        f"database: {url.split(':')[0]}, concurrency {args.concurrency}, {args.seconds:.0f} s each"
    )
    print(bare.line("bare FastAPI GET (constant list)"))
    print(ours.line("GET /api/dropship-providers.json (20 rows)"))
    print(f"throughput ratio dropwire/bare: {ours.rps / bare.rps:.2f}")


if __name__ == "__main__":
    main()
