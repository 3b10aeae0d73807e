"""Every domain's declaration of what it contributes, in one list, and the wiring made of them.

The entry points (the app factory, the CLI, worker processes, `dropwire.runtime`) build their
`Database` with `wiring()`; a test or a benchmark does the same with `database(url)`. Adding a
domain or a connector is one line here.
"""

from functools import cache

from dropwire import models
from dropwire.channels.contributions import CONTRIBUTIONS as CHANNELS
from dropwire.connectors.custom.contributions import CONTRIBUTIONS as CUSTOM_CHANNELS
from dropwire.connectors.elasticpath.contributions import CONTRIBUTIONS as ELASTIC_PATH
from dropwire.contributions import Contributions, assemble
from dropwire.core.db import Database
from dropwire.core.settings import Settings
from dropwire.core.wiring import Wiring
from dropwire.delivery.relay import send_due_deliveries
from dropwire.exports.contributions import CONTRIBUTIONS as EXPORTS
from dropwire.feeds.contributions import CONTRIBUTIONS as FEEDS
from dropwire.imports.contributions import CONTRIBUTIONS as IMPORTS
from dropwire.inventory.contributions import CONTRIBUTIONS as INVENTORY
from dropwire.jobs.worker import MAINTENANCE_JOB
from dropwire.mail.contributions import CONTRIBUTIONS as MAIL
from dropwire.payments.contributions import CONTRIBUTIONS as PAYMENTS
from dropwire.people.contributions import CONTRIBUTIONS as PEOPLE
from dropwire.sales.contributions import CONTRIBUTIONS as SALES

TABLES = models.Base.metadata  # every table imported, so relationships between domains resolve

MACHINERY = Contributions(
    job_kinds=(MAINTENANCE_JOB,),  # prunes old jobs, idempotency keys and API logs
    pollers=(send_due_deliveries,),  # the outbound relay rides on the worker's rounds
)

DECLARATIONS: tuple[Contributions, ...] = (
    MACHINERY,
    INVENTORY,
    FEEDS,
    CHANNELS,
    SALES,
    PAYMENTS,
    EXPORTS,
    IMPORTS,
    MAIL,
    PEOPLE,
    # channel connectors: one line each (`channels.connectors.ChannelConnector`)
    CUSTOM_CHANNELS,
    ELASTIC_PATH,
)


@cache
def wiring() -> Wiring:
    """Every declaration assembled (once per process: the parts are immutable)."""
    return assemble(DECLARATIONS)


def database(url: str | None = None, *, settings: Settings | None = None) -> Database:
    """A `Database` carrying the whole wiring."""
    return Database(url, settings=settings, wiring=wiring())
