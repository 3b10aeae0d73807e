"""The application factory: routers, middleware, error handlers, lifecycle.

It sits above every domain (it mounts their routers); no domain imports it.
"""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from fastapi.telemetry import TelemetryConfig

from dropwire import __version__, domains
from dropwire.apilog.writer import ApiLogWriter
from dropwire.auth.throttle import SignInThrottle
from dropwire.catalog.endpoints import router as catalog_router
from dropwire.channels.catalog_endpoints import router as channel_catalog_router
from dropwire.channels.connectors import ChannelConnector
from dropwire.channels.endpoints import composed_router as channel_composed_router
from dropwire.channels.endpoints import router as channels_router
from dropwire.connectors.elasticpath.endpoints import router as elasticpath_router
from dropwire.core import heap
from dropwire.core.db import Database, Role
from dropwire.core.group_commit import GroupCommitter
from dropwire.core.secret_key import created_notice, with_embedded_key
from dropwire.core.settings import Settings
from dropwire.customfields.endpoints import router as custom_fields_router
from dropwire.delivery.endpoints import router as delivery_router
from dropwire.exports.endpoints import router as exports_router
from dropwire.feeds.endpoints import router as feeds_router
from dropwire.http.access_log import redact_server_logs
from dropwire.http.api_log_endpoints import router as api_log_router
from dropwire.http.api_log_middleware import ApiLogMiddleware
from dropwire.http.api_user_endpoints import router as api_user_router
from dropwire.http.auth_endpoints import router as auth_router
from dropwire.http.deps import PrincipalCache
from dropwire.http.errors import install_error_handlers
from dropwire.http.health import router as health_router
from dropwire.http.idempotency import IdempotencyMiddleware
from dropwire.http.input_policy import InputPolicyMiddleware
from dropwire.http.metrics import metrics_endpoint
from dropwire.http.openapi import install_links
from dropwire.http.request_body import RequestBodyMiddleware
from dropwire.http.routing import require_unit_of_work
from dropwire.http.throttle import ThrottleMiddleware
from dropwire.imports.endpoints import router as imports_router
from dropwire.inbound.endpoints import router as inbound_router
from dropwire.inventory.endpoints import router as inventory_router
from dropwire.inventory.warehouses import ensure_default_warehouse
from dropwire.jobs.endpoints import router as jobs_router
from dropwire.jobs.worker import Worker
from dropwire.mail.endpoints import router as mail_router
from dropwire.payments.endpoints import router as payments_router
from dropwire.people.endpoints import api_router as people_router
from dropwire.people.endpoints import auth_router as people_auth_router
from dropwire.people.throttle import ResetThrottle
from dropwire.rates.endpoints import router as rates_router
from dropwire.sales.document_endpoints import router as purchase_documents_router
from dropwire.sales.endpoints import router as sales_router
from dropwire.vendors.endpoints import router as vendors_router
from dropwire.web.routes import install_web

API_ROUTERS: tuple[APIRouter, ...] = (
    # First: the busiest routes (sync manual sales, vendors reading their orders). FastAPI tries
    # the included routers in order, each route of each one before (about 4 µs a route), and
    # no two routers' routes answer the same request, so the order changes nothing else.
    sales_router,
    vendors_router,
    catalog_router,
    inventory_router,
    channels_router,
    channel_catalog_router,
    feeds_router,
    api_log_router,
    jobs_router,
    delivery_router,
    purchase_documents_router,
    mail_router,
    people_router,
    api_user_router,
    rates_router,
    exports_router,
    custom_fields_router,
    imports_router,
    payments_router,
)


_NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


def _mount_directly(app: FastAPI, router: APIRouter) -> None:
    """Make `router`'s routes the app router's own, matched by one regex each: included, a
    request's route is matched twice (the included router's check, then its dispatch), a sixth
    of the async accept path's event-loop time. Only for routes that need nothing `include_router`
    adds (a prefix, tags, dependencies or their overrides)."""
    for route in router.routes:
        if not isinstance(route, APIRoute) or route.dependant.dependencies:
            raise RuntimeError(f"{route} needs include_router")
        app.router.routes.append(route)


def create_app(database: Database | None = None, settings: Settings | None = None) -> FastAPI:
    """The API. `dropwire serve` calls it with neither (settings from the environment); tests
    pass both, and the settings given become the database's, so every session sees them. The
    database carries every domain's declared contributions (`dropwire.domains`)."""
    redact_server_logs()
    if settings is None and database is not None:
        settings = database.settings
    elif settings is None:
        settings, created = with_embedded_key(Settings())
        if created is not None:
            logging.getLogger("dropwire").warning(created_notice(created))
    if database is None:
        database = domains.database(settings=settings)
    elif not database.wiring.kinds():  # a bare `Database` given: wire every domain into it
        database.wiring = domains.wiring()
    database.settings = settings
    writer = ApiLogWriter(database)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        with database.transaction() as session:
            ensure_default_warehouse(session)
        heap.settle()  # the start-up heap frozen, a wider young generation (see core.heap)
        writer.start()
        worker = (
            Worker(
                database,
                threads=settings.worker_threads,
                batch=settings.job_batch_size,
                lease_seconds=settings.job_lease_seconds,
            )
            if settings.worker_in_process
            else None
        )
        app.state.worker = worker
        if worker is not None:
            worker.start()
        try:
            yield
        finally:
            if worker is not None:
                worker.stop(timeout=settings.shutdown_grace_seconds)
            app.state.group_committer.stop()
            writer.stop()
            heap.unsettle()  # collectable again (a test process starts many apps)

    app = FastAPI(
        title="Dropwire",
        version=__version__,
        summary="Dropship and marketplace hub speaking Onport's public API",
        lifespan=lifespan,
        docs_url=None,  # served offline by dropwire.web.docs
        redoc_url=None,
        # FastAPI asks OpenTelemetry on every request whether a provider is configured (three
        # environment lookups); with no SDK in our lock that answer is always no.
        telemetry=None if settings.opentelemetry else _NO_TELEMETRY,
    )
    app.state.database = database
    app.state.settings = settings
    app.state.api_log_writer = writer
    app.state.group_committer = GroupCommitter(database.for_role(Role.group_commit))
    app.state.principal_cache = PrincipalCache(settings.auth_cache_seconds)
    app.state.sign_in_throttle = SignInThrottle(settings)  # web sign-in and /auth/login
    app.state.reset_throttle = ResetThrottle(settings)  # "forgot password", web and /auth

    _mount_directly(app, inbound_router)  # first: the hottest paths match without a long scan
    for router in API_ROUTERS:
        app.include_router(router, prefix="/api")
    # channel bodies and reads carry the wired connectors' settings blocks
    app.include_router(
        channel_composed_router(database.wiring.every(ChannelConnector)), prefix="/api"
    )
    app.include_router(auth_router)  # Onport serves it beside /api, not under it
    app.include_router(people_auth_router)
    app.include_router(auth_router, prefix="/api", include_in_schema=False)
    app.include_router(elasticpath_router)
    app.include_router(health_router)
    install_web(app)
    require_unit_of_work(app)  # every endpoint, however included, commits before answering
    install_links(app)
    app.add_route("/metrics", metrics_endpoint, include_in_schema=False)
    install_error_handlers(app)

    # Added innermost first: API log (and metrics) → throttle → body limit → idempotency →
    # input policy → routes.
    bootstrap = settings.admin_token.get_secret_value() if settings.admin_token else None
    app.add_middleware(InputPolicyMiddleware, strict=settings.strict_input)
    app.add_middleware(IdempotencyMiddleware, database=database, bootstrap_token=bootstrap)
    app.add_middleware(RequestBodyMiddleware, max_bytes=settings.max_body_bytes)
    if settings.rate_limit_enabled:
        app.add_middleware(ThrottleMiddleware, settings=settings)
    app.add_middleware(ApiLogMiddleware, writer=writer, body_limit=settings.api_log_body_bytes)
    return app
