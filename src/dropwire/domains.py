"""Every module that plugs into the shared machinery: job kinds, inbound kinds, commit steps,
transports and delivered-hooks register themselves when imported. The entry points (the app
factory, the CLI, worker processes) call `load()`, so each process knows the same kinds."""

import importlib

REGISTERING_MODULES = (
    "dropwire.models",  # every table, so relationships resolve
    "dropwire.jobs.worker",
    "dropwire.delivery.relay",
    "dropwire.channels.publishing",
    "dropwire.channels.stock_pushes",
    "dropwire.channels.tasks",
    "dropwire.feeds.tasks",
    "dropwire.exports.service",
    "dropwire.sales.tasks",
    "dropwire.sales.webhooks",
    "dropwire.payments.steps",
    "dropwire.payments.tasks",
    "dropwire.connectors.elasticpath.tasks",
    "dropwire.connectors.elasticpath.outbound",
)


def load() -> None:
    for name in REGISTERING_MODULES:
        importlib.import_module(name)
