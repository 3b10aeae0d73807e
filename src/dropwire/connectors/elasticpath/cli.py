"""`dropwire elasticpath setup CHANNEL_ID --public-url URL`."""

from collections.abc import Callable
from typing import Annotated

import httpx
import typer

from dropwire.apilog.redaction import masked_url
from dropwire.connectors.elasticpath import service
from dropwire.connectors.elasticpath.client import ElasticPathError
from dropwire.core.db import Database
from dropwire.core.errors import DomainError

app = typer.Typer(help="Elastic Path Commerce stores.", no_args_is_help=True)


@app.command()
def setup(
    context: typer.Context,
    channel_id: Annotated[int, typer.Argument(help="An Elastic Path channel's id")],
    public_url: Annotated[
        str,
        typer.Option(
            "--public-url",
            help="Dropwire's base URL as the store reaches it, e.g. https://dropwire.example.com",
        ),
    ],
) -> None:
    """Create or update the store's integration that delivers order events to Dropwire.

    Calls the store through the outbound guard: a private base URL needs
    DROPWIRE_ALLOW_PRIVATE_TARGETS or DROPWIRE_ALLOWED_TARGET_NETWORKS.
    """
    open_database: Callable[[], Database] = context.obj  # the CLI's, from its settings
    database = open_database()
    try:
        integration = service.setup_integration(
            database, channel_id=channel_id, public_url=public_url
        )
    except ElasticPathError as exc:
        typer.secho(f"Elastic Path refused: {exc} {exc.text}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from exc
    except DomainError as exc:  # includes a store address the outbound guard refuses
        named = "; ".join(f"{problem.field}: {problem.message}" for problem in exc.errors)
        typer.secho(named or exc.message, fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from exc
    except httpx.HTTPError as exc:
        typer.secho(f"cannot reach the store: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from exc
    url = (integration.get("configuration") or {}).get("url")
    observes = ", ".join(integration.get("observes", []))
    typer.echo(f"integration {integration['id']} delivers {observes} to {masked_url(url)}")
