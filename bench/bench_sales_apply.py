"""Queued one-line async manual sales applied by one worker thread, in process: sales/s, CPU and
statements per sale, for a few batch sizes; optionally a cProfile of the apply.

    .venv/bin/python -m bench.bench_sales_apply [--database sqlite|postgresql|both]
        [--sales 2000] [--batch 10 100] [--profile out.prof] [--pg-database dw_apply_bench]

The sales are queued as the endpoint queues them (a job per request, ordered per channel), then
drained by `claim_batch` + `run_batch` in this process, so the figures are the worker's alone
(no HTTP, no other thread). The machine is shared: read CPU per sale before wall-clock rates.
"""

import argparse
import cProfile
import json
import tempfile
import time
from pathlib import Path

from sqlalchemy import event, func, select

from bench.bench_inbound import reset, sale_body, seed
from bench.common import ensure_pg_database
from dropwire import domains


def queue_sales(url: str, prefix: str, count: int) -> None:
    from dropwire.channels.models import CustomChannel
    from dropwire.inbound import service as inbound
    from dropwire.inbound.registry import InboundKinds

    database = domains.database(url)
    with database.transaction() as session:
        channel_id = session.scalars(select(CustomChannel.channel_id)).one()
        kind = database.wiring.part(InboundKinds)["inbound.manual_sale"]
        for n in range(count):
            inbound.accept(
                session,
                kind=kind,
                owner_id=channel_id,
                items=[json.loads(sale_body(prefix, str(n)))],
                endpoint="b",
            )
    database.dispose()


def drain(url: str, batch: int, profiler: cProfile.Profile | None) -> tuple[int, float, float, int]:
    """(jobs, wall s, CPU s, statements) to run every queued job in batches of `batch`."""
    from dropwire.core import heap
    from dropwire.core.db import Role
    from dropwire.jobs import claiming, service

    database = domains.database(url).for_role(Role.worker)  # as `dropwire worker` connects
    heap.settle()  # and as it starts its loop
    statements = 0

    def count(*_args: object) -> None:
        nonlocal statements
        statements += 1

    event.listen(database.engine, "before_cursor_execute", count)
    done = 0
    wall, cpu = time.perf_counter(), time.process_time()
    if profiler is not None:
        profiler.enable()
    with claiming.held_connection(database) as held:
        while claimed := claiming.claim_batch(database, "bench", batch, held=held):
            service.run_batch(database, "bench", claimed, held=held)
            done += len(claimed)
    if profiler is not None:
        profiler.disable()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    database.dispose()
    return done, wall, cpu, statements


def check(url: str, expected: int) -> None:
    from dropwire.inventory.service import ledger_mismatches
    from dropwire.sales.models import Purchase, Sale

    database = domains.database(url)
    with database.session(write=False) as session:
        sales = session.scalar(select(func.count()).select_from(Sale))
        purchases = session.scalar(select(func.count()).select_from(Purchase))
        assert not ledger_mismatches(session), "levels differ from the ledger"
    database.dispose()
    assert sales == expected == purchases, (sales, purchases, expected)


def run(url: str, args: argparse.Namespace) -> None:
    name = url.split(":")[0].split("+")[0]
    reset(url)
    seed(url)
    total = 0
    for batch in args.batch:
        queue_sales(url, f"b{batch}", args.sales)
        profiler = cProfile.Profile() if args.profile else None
        jobs, wall, cpu, statements = drain(url, batch, profiler)
        total += args.sales
        check(url, total)
        print(
            f"  {name} batch {batch:>4}: {jobs / wall:7.0f} sales/s, {cpu / jobs * 1000:6.2f} ms "
            f"CPU/sale, {statements / jobs:6.2f} statements/sale ({jobs} sales, {wall:.1f} s)"
        )
        if profiler is not None:
            profiler.dump_stats(f"{args.profile}.{name}.{batch}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--sales", type=int, default=2000)
    parser.add_argument("--batch", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--profile", default=None, help="write cProfile stats to PATH.db.batch")
    parser.add_argument("--pg-database", default="dw_apply_bench")
    args = parser.parse_args()
    if args.database in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            run(f"sqlite:///{Path(tmp) / 'bench.db'}", args)
    if args.database in ("postgresql", "both"):
        run(ensure_pg_database(args.pg_database), args)


if __name__ == "__main__":
    main()
