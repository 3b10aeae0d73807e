"""The `dropwire` command: run the server, migrate, manage tokens, load demo data."""

import json
import sys
from typing import Annotated

import typer

from dropwire.auth import service as auth_service
from dropwire.core.db import Database, get_database
from dropwire.core.migrations import pending, upgrade
from dropwire.core.settings import get_settings

app = typer.Typer(help="Dropwire: dropship and marketplace hub.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens: create, list, revoke.", no_args_is_help=True)
app.add_typer(token_app, name="token")

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
    workers: Annotated[int, typer.Option(help="API processes")] = 1,
) -> None:
    """Run the HTTP API (and, unless told otherwise, an in-process job worker)."""
    import uvicorn

    settings = get_settings()
    ensure_migrated(get_database())
    uvicorn.run(
        "dropwire.http.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        log_level=settings.log_level.lower(),
    )


@app.command()
def migrate() -> None:
    """Apply every pending database migration."""
    database = get_database()
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
    database = get_database()
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


@token_app.command("list")
def token_list(as_json: JsonFlag = False) -> None:
    """List API users (never their tokens)."""
    database = get_database()
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

    database = get_database()
    try:
        with database.transaction() as session:
            auth_service.revoke_api_user(session, api_user_id)
    except DomainError as exc:
        _fail(exc.message)
    typer.echo(f"Revoked API user {api_user_id}.")


@app.command()
def demo(as_json: JsonFlag = False) -> None:
    """Load a small, realistic data set (safe to run twice: it loads once)."""
    from dropwire.demo import load_demo

    database = get_database()
    ensure_migrated(database)
    with database.transaction() as session:
        summary = load_demo(session)
    if as_json:
        typer.echo(json.dumps(summary))
    else:
        for key, value in summary.items():
            typer.echo(f"{key}: {value}")


def main() -> None:  # pragma: no cover
    sys.exit(app())
