"""The `dropwire` command: run the server, migrate, manage tokens, load demo data."""

import ipaddress
import json
import logging
from collections.abc import Callable
from typing import Annotated, Any

import typer

from dropwire import runtime
from dropwire.apilog.redaction import masked_url, redact_text
from dropwire.auth import service as auth_service
from dropwire.connectors.elasticpath import cli as elasticpath_cli
from dropwire.core import heap
from dropwire.core.db import Database
from dropwire.core.migrations import pending, upgrade

app = typer.Typer(help="Dropwire: dropship and marketplace hub.", no_args_is_help=True)


@app.callback()
def _main(context: typer.Context) -> None:
    """Commands of plugged-in packages open the process's database through the context."""
    context.obj = runtime.database


token_app = typer.Typer(help="API tokens: create, list, revoke.", no_args_is_help=True)
app.add_typer(token_app, name="token")
jobs_app = typer.Typer(help="The job queue: list, retry, purge.", no_args_is_help=True)
app.add_typer(jobs_app, name="jobs")
deliveries_app = typer.Typer(help="Outbound webhook deliveries: list, retry.", no_args_is_help=True)
app.add_typer(deliveries_app, name="deliveries")
user_app = typer.Typer(help="People who sign in: create.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(elasticpath_cli.app, name="elasticpath")
feed_app = typer.Typer(help="Inventory feeds: fetch a pull feed now.", no_args_is_help=True)
app.add_typer(feed_app, name="feed")

JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable output")]


def _fail(message: str) -> None:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(code=1)


def ensure_migrated(database: Database) -> None:
    """SQLite (the embedded default) migrates itself; any other database must be migrated first."""
    missing = pending(database)
    if not missing:
        return
    if database.dialect == "sqlite":
        upgrade(database)
        return
    _fail(
        f"The database at {database.engine.url.render_as_string(hide_password=True)} is not "
        f"migrated ({len(missing)} migrations pending). Run `dropwire migrate` first."
    )


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address")] = None,
    port: Annotated[int | None, typer.Option(help="Port")] = None,
    workers: Annotated[int | None, typer.Option(help="API processes")] = None,
    worker_processes: Annotated[
        int | None, typer.Option(help="Job worker processes (0: none here)")
    ] = None,
    worker_threads: Annotated[int | None, typer.Option(help="Threads per worker")] = None,
    in_process_worker: Annotated[
        bool | None,
        typer.Option(
            "--in-process-worker/--worker-processes-only",
            help="Run the job worker inside each API process instead of in worker processes",
        ),
    ] = None,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="Run no job worker here at all")
    ] = False,
    access_log: Annotated[
        bool | None, typer.Option("--access-log/--no-access-log", help="A line per request")
    ] = None,
) -> None:
    """Run the API processes and the job worker processes, supervised (SIGTERM stops them all)."""
    import os

    from dropwire import serving

    settings = runtime.settings()
    ensure_migrated(runtime.database())
    runtime.database().dispose()  # the children open their own connections
    in_process = settings.worker_in_process if in_process_worker is None else in_process_worker
    if no_worker:
        in_process = False
    os.environ["DROPWIRE_WORKER_IN_PROCESS"] = "true" if in_process else "false"  # API children
    count = settings.worker_processes if worker_processes is None else worker_processes
    serving.serve(
        host=host or settings.host,
        port=port or settings.port,
        api_processes=workers or settings.api_processes,
        worker_processes=0 if in_process or no_worker else count,
        worker_threads=worker_threads or settings.worker_threads,
        worker_niceness=settings.worker_niceness,
        log_level=settings.log_level.lower(),
        access_log=settings.access_log if access_log is None else access_log,
        grace=settings.shutdown_grace_seconds,
    )
    serving.exit_now()


@app.command()
def worker(
    threads: Annotated[int | None, typer.Option(help="Concurrent jobs in this process")] = None,
    niceness: Annotated[int, typer.Option(help="Lower this process's CPU priority by", min=0)] = 0,
) -> None:
    """Run a job worker until SIGTERM/SIGINT (finishing the jobs in hand)."""
    import os
    import signal
    import threading

    if niceness:
        os.nice(niceness)
    from dropwire.jobs.worker import Worker
    from dropwire.serving import LOG_FORMAT, exit_now, follow_supervisor

    follow_supervisor()
    settings = runtime.settings()
    logging.basicConfig(level=settings.log_level, format=LOG_FORMAT)
    database = runtime.database()
    ensure_migrated(database)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    heap.settle()  # as `serve` does: see core.heap
    loop = Worker(
        database,
        threads=threads or settings.worker_threads,
        batch=settings.job_batch_size,
        lease_seconds=settings.job_lease_seconds,
    )
    loop.start()
    typer.echo(f"worker running with {loop.threads} threads; Ctrl-C to stop", err=True)
    stop.wait()
    loop.stop(timeout=settings.shutdown_grace_seconds)
    database.dispose()
    exit_now()


def _newest(
    model: Any, state: str | None, limit: int, to_row: Callable[[Any], dict[str, Any]]
) -> list[dict[str, Any]]:
    """The newest rows of a queue table (jobs, deliveries), optionally in one state."""
    from sqlalchemy import select

    database = runtime.database()
    ensure_migrated(database)
    with database.session(write=False) as session:
        stmt = select(model).order_by(model.id.desc()).limit(limit)
        if state:
            stmt = stmt.where(model.state == state)
        return [to_row(row) for row in session.scalars(stmt)]


def _show(rows: list[dict[str, Any]], as_json: bool, line: Callable[[dict[str, Any]], str]) -> None:
    if as_json:
        typer.echo(json.dumps(rows))
        return
    for row in rows:
        typer.echo(line(row))


@jobs_app.command("list")
def jobs_list(
    state: Annotated[str | None, typer.Option(help="queued|running|succeeded|failed|dead")] = None,
    limit: Annotated[int, typer.Option(help="Newest N")] = 50,
    as_json: JsonFlag = False,
) -> None:
    """Show jobs, newest first."""
    from dropwire.jobs.models import Job

    rows = _newest(
        Job,
        state,
        limit,
        lambda j: {
            "id": j.id,
            "kind": j.kind,
            "state": j.state,
            "attempts": j.attempts,
            "runAt": j.run_at.isoformat(),
            "lastError": redact_text(j.last_error) if j.last_error else None,
        },
    )
    _show(
        rows,
        as_json,
        lambda r: (
            f"{r['id']:>7}  {r['state']:<9} {r['attempts']:>2}x  {r['kind']}"
            + (f"  {str(r['lastError'])[:60]}" if r["lastError"] else "")
        ),
    )


@jobs_app.command("retry")
def jobs_retry(job_id: Annotated[int, typer.Argument(help="Job id (see `jobs list`)")]) -> None:
    """Queue a dead or failed job again."""
    from dropwire.core.errors import DomainError
    from dropwire.jobs import service as jobs

    try:
        with runtime.database().transaction() as session:
            jobs.retry(session, job=jobs.get(session, job_id=job_id))
    except DomainError as exc:
        _fail(exc.message)
    typer.echo(f"Job {job_id} queued again.")


@jobs_app.command("purge")
def jobs_purge(
    days: Annotated[
        int, typer.Option(help="Remove succeeded jobs finished this many days ago")
    ] = 7,
) -> None:
    """Delete old succeeded jobs."""
    from datetime import timedelta

    from dropwire.jobs import service as jobs

    with runtime.database().transaction() as session:
        removed = jobs.prune(session, older_than=timedelta(days=days))
    typer.echo(f"Removed {removed} succeeded jobs.")


@deliveries_app.command("list")
def deliveries_list(
    state: Annotated[
        str | None, typer.Option(help="pending|delivering|delivered|failed|dead")
    ] = None,
    limit: Annotated[int, typer.Option(help="Newest N")] = 50,
    as_json: JsonFlag = False,
) -> None:
    """Show outbound deliveries, newest first."""
    from dropwire.delivery.models import Delivery

    rows = _newest(
        Delivery,
        state,
        limit,
        lambda d: {
            "id": d.id,
            "event": d.event,
            "state": d.state,
            "attempts": d.attempts,
            "url": redact_text(d.url),
            "lastStatus": d.last_status,
            "lastError": redact_text(d.last_error) if d.last_error else None,
        },
    )
    _show(
        rows,
        as_json,
        lambda r: (
            f"{r['id']:>7}  {r['state']:<10} {r['attempts']:>2}x  {r['event']:<18} "
            f"{r['url']}  {str(r['lastStatus'] or r['lastError'] or '')[:50]}"
        ),
    )


@deliveries_app.command("retry")
def deliveries_retry(delivery_id: Annotated[int, typer.Argument(help="Delivery id")]) -> None:
    """Send a delivery again from now."""
    from dropwire.core.errors import DomainError
    from dropwire.delivery import service as deliveries

    try:
        with runtime.database().transaction() as session:
            deliveries.retry(
                session, delivery=deliveries.get_delivery(session, delivery_id=delivery_id)
            )
    except DomainError as exc:
        _fail(exc.message)
    typer.echo(f"Delivery {delivery_id} queued again.")


@app.command()
def migrate() -> None:
    """Apply every pending database migration."""
    database = runtime.database()
    missing = pending(database)
    upgrade(database)
    typer.echo(f"Database is current ({len(missing)} migrations applied).")


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Option(help="Who or what uses the token")],
    vendor: Annotated[int | None, typer.Option(help="Scope the token to this vendor id")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Create an API token and print it (it is shown this once only)."""
    database = runtime.database()
    ensure_migrated(database)
    from dropwire.core.errors import DomainError

    try:
        with database.transaction() as session:
            user, token = auth_service.create_api_user(
                session, name=name, dropship_provider_id=vendor
            )
            user_id, scope = user.id, user.scope
    except DomainError as exc:
        _fail(exc.message)
        return
    if as_json:
        typer.echo(json.dumps({"id": user_id, "name": name, "scope": scope, "token": token}))
    else:
        typer.echo(token)
        typer.secho(
            f"(API user {user_id}, scope {scope}; store it now, it is not shown again)", err=True
        )


@token_app.command("ensure")
def token_ensure(
    name: Annotated[str, typer.Option(help="Who or what uses the token")] = "quickstart",
) -> None:
    """Make sure an admin token of this name exists; a new one is printed once, an existing one
    is named (tokens are stored hashed, so it cannot be shown again)."""
    database = runtime.database()
    ensure_migrated(database)
    with database.transaction() as session:
        existing = auth_service.active_admin_token(session, name=name)
        if existing is not None:
            typer.echo(
                f"Admin token '{name}' exists ({existing.token_prefix}…, API user {existing.id}); "
                "it was printed when it was made. Lost it? `dropwire token revoke "
                f"{existing.id}`, then run this again."
            )
            return
        user, token = auth_service.create_api_user(session, name=name)
        user_id = user.id
    typer.echo(f"Admin token '{name}' (API user {user_id}; shown this once, store it now):")
    typer.echo(token)


@token_app.command("list")
def token_list(as_json: JsonFlag = False) -> None:
    """List API users (never their tokens)."""
    database = runtime.database()
    ensure_migrated(database)
    with database.session(write=False) as session:
        rows = [
            {
                "id": u.id,
                "name": u.name,
                "scope": u.scope,
                "vendorId": u.dropship_provider_id,
                "prefix": u.token_prefix,
                "createdAt": u.created_at.isoformat(),
                "revoked": u.revoked_at is not None,
            }
            for u in auth_service.list_api_users(session)
        ]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    for row in rows:
        state = "revoked" if row["revoked"] else "active"
        vendor = f" vendor={row['vendorId']}" if row["vendorId"] else ""
        typer.echo(
            f"{row['id']:>5}  {row['prefix']}…  {row['scope']:<6} {state:<8} {row['name']}{vendor}"
        )


@token_app.command("revoke")
def token_revoke(
    api_user_id: Annotated[int, typer.Argument(help="API user id (see `token list`)")],
) -> None:
    """Revoke a token: it stops working at once."""
    from dropwire.core.errors import DomainError

    database = runtime.database()
    try:
        with database.transaction() as session:
            auth_service.revoke_api_user(session, api_user_id=api_user_id)
    except DomainError as exc:
        _fail(exc.message)
    typer.echo(f"Revoked API user {api_user_id}.")


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Argument(help="The user's email (their sign-in name)")],
    vendor: Annotated[int | None, typer.Option(help="Make it a vendor user of this id")] = None,
    name: Annotated[str, typer.Option(help="Display name")] = "",
    as_json: JsonFlag = False,
) -> None:
    """Create a user; the password is read from stdin when piped, else prompted for."""
    import sys

    from dropwire.auth import users
    from dropwire.core.errors import DomainError

    if sys.stdin.isatty():
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    database = runtime.database()
    ensure_migrated(database)
    try:
        with database.transaction() as session:
            user = users.create_user(
                session, email=email, password=password, name=name, dropship_provider_id=vendor
            )
            user_id, scope = user.id, user.scope
    except DomainError as exc:
        _fail(exc.message + "".join(f" ({p.field}: {p.message})" for p in exc.errors))
        return
    if as_json:
        typer.echo(json.dumps({"id": user_id, "email": email, "scope": scope}))
    else:
        typer.echo(f"User {user_id} ({scope}) created: {users.normalize_email(email)}")


@user_app.command("ensure")
def user_ensure(
    email: Annotated[str, typer.Argument(help="The admin's email")] = "admin@dropwire.local",
) -> None:
    """Make sure an admin user exists; a new one gets a generated password, printed once."""
    import secrets

    from dropwire.auth import users

    database = runtime.database()
    ensure_migrated(database)
    settings = runtime.settings()
    url = f"http://{settings.host}:{settings.port}/"
    with database.transaction() as session:
        if users.find_user(session, email=email) is not None:
            typer.echo(
                f"Sign in at {url} as {users.normalize_email(email)} (password set earlier; "
                f"choose a new one with `dropwire user password {users.normalize_email(email)}`)."
            )
            return
        password = secrets.token_urlsafe(12)
        users.create_user(session, email=email, password=password, name="Admin")
    typer.echo(f"Sign in at {url} as {users.normalize_email(email)} with password: {password}")


@user_app.command("password")
def user_password(email: Annotated[str, typer.Argument(help="The user's email")]) -> None:
    """Set a user's password (read from stdin when piped, else prompted for)."""
    import sys

    from dropwire.auth import users
    from dropwire.core.errors import DomainError

    if sys.stdin.isatty():
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    database = runtime.database()
    ensure_migrated(database)
    try:
        with database.transaction() as session:
            user = users.find_user(session, email=email)
            if user is None:
                _fail(f"No user with the email {users.normalize_email(email)}")
                return
            users.set_password(session, user_id=user.id, password=password)
    except DomainError as exc:
        _fail(exc.message)
    typer.echo(f"Password changed for {users.normalize_email(email)}.")


def _reachable(host: str) -> str:
    """The address a process on this machine reaches a server bound to `host` at."""
    try:
        unspecified = ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return host  # a name
    return "127.0.0.1" if unspecified else host


@app.command()
def demo(as_json: JsonFlag = False) -> None:
    """Load a small, realistic data set (safe to run twice: it loads once)."""
    from dropwire.demo import load_demo

    database = runtime.database()
    ensure_migrated(database)
    settings = runtime.settings()
    base_url = f"http://{_reachable(settings.host)}:{settings.port}"
    with database.transaction() as session:
        summary = load_demo(session, base_url=base_url)
    if as_json:
        typer.echo(json.dumps(summary))
    else:
        for key, value in summary.items():
            typer.echo(f"{key}: {value}")


@app.command()
def quickstart() -> None:
    """What `make run` does before serving, in one process (each command loads the whole app
    again, seconds of CPU): migrate, load the demo data once, make sure of the `quickstart`
    admin token and of an admin's web sign-in."""
    migrate()
    demo()
    token_ensure(name="quickstart")
    typer.echo("Web sign-in (admin dashboard at /, API docs at /docs):")
    user_ensure(email="admin@dropwire.local")


class _FeedProgress:
    """A progress bar of bytes downloaded, then rows read, for `dropwire feed fetch`."""

    def __init__(self, progress: Any) -> None:
        self.progress = progress
        self.download = progress.add_task("download", total=None, unit="bytes")
        self.rows = progress.add_task("rows", total=None, visible=False)

    def downloaded(self, size: int) -> None:
        self.progress.update(self.download, completed=size, description=f"download {size:,} B")

    def read(self, rows: int) -> None:
        self.progress.update(self.rows, completed=rows, visible=True, description=f"rows {rows:,}")


@feed_app.command("fetch")
def feed_fetch(
    feed_id: Annotated[int, typer.Argument(help="The inventory feed's id")],
    as_json: JsonFlag = False,
) -> None:
    """Fetch and apply a pull feed now, in the foreground, with a progress bar."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from dropwire.core.errors import DomainError
    from dropwire.feeds.pull import runs
    from dropwire.feeds.schemas import FeedRunRead

    database = runtime.database()
    ensure_migrated(database)
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    heap.settle()  # as a worker does: about a fifth less CPU per row (core.heap)
    try:
        with Progress(*columns, disable=as_json, transient=True) as bar:
            run = runs.run_now(database, feed_id, progress=_FeedProgress(bar))
    except DomainError as exc:
        _fail(masked_url(exc.message) or "")
        return
    body = FeedRunRead.model_validate(run).model_dump(mode="json", by_alias=True)
    if as_json:
        typer.echo(json.dumps(body))
        return
    typer.echo(
        f"Run {run.id}: {run.status} — {run.bytes:,} bytes, {run.rows_read:,} rows read, "
        f"{run.rows_created:,} created, {run.rows_updated:,} updated, "
        f"{run.rows_unchanged:,} unchanged, {run.rows_failed:,} failed, "
        f"{run.rows_cleaned:,} zeroed as missing"
    )
    for error in run.errors[:10]:
        typer.echo(f"  row {error['row']}: {error['field']}: {error['message']}")
    if run.problem:
        typer.echo(f"  {run.problem}")
    if run.status in ("failed", "held"):
        raise typer.Exit(code=1)


if __name__ == "__main__":  # `python -m dropwire.cli ...`
    app()
