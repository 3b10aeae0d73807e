"""Shared fixtures: a real database (SQLite by default, PostgreSQL with
DROPWIRE_TEST_DATABASE_URL), migrated once, emptied after every test."""

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, make_url, text

from dropwire import runtime
from dropwire.app import create_app
from dropwire.auth.service import create_api_user
from dropwire.core.db import Base, Database
from dropwire.core.migrations import upgrade
from dropwire.core.settings import Settings
from dropwire.inventory.warehouses import ensure_default_warehouse
from dropwire.sales.statuses import seed_defaults as seed_purchase_statuses
from dropwire.vendors.models import DropshipProvider
from tests.jobs.handlers import TEST_WIRING


def _test_url(tmp_dir: Path) -> str:
    """SQLite in a temporary folder, or DROPWIRE_TEST_DATABASE_URL; under pytest-xdist each
    worker gets its own PostgreSQL database (`<name>_gw0`, ...), created on first use."""
    url = os.environ.get("DROPWIRE_TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_dir / 'test.db'}"
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker is None or not url.startswith("postgresql"):
        return url
    base = make_url(url)
    own = base.set(database=f"{base.database}_{worker}")
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": own.database}
        )
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{own.database}"'))
    admin.dispose()
    return own.render_as_string(hide_password=False)


def baseline_settings(url: str) -> Settings:
    """What every test starts from (no environment, no .env file)."""
    return Settings(
        database_url=url,
        admin_token=None,
        rate_limit_enabled=False,
        allow_private_targets=True,
        worker_in_process=False,
        auth_cache_seconds=0,
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture(scope="session")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    url = _test_url(tmp_path_factory.mktemp("db"))
    db = Database(url, settings=baseline_settings(url), wiring=TEST_WIRING)
    if db.dialect == "postgresql":
        with db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    upgrade(db)
    yield db
    db.dispose()


def empty_all_tables(db: Database) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with db.transaction() as session:
        if db.dialect == "postgresql":
            session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            session.execute(text("ALTER SEQUENCE sale_reference_seq RESTART WITH 10001"))
        else:
            for name in tables:
                session.execute(text(f"DELETE FROM {name}"))
            session.execute(text("DELETE FROM sqlite_sequence")) if _has_sequence(session) else None
        ensure_default_warehouse(session)
        seed_purchase_statuses(session)  # what the migration seeds


def _has_sequence(session: object) -> bool:
    return bool(
        session.execute(  # type: ignore[attr-defined]
            text("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'")
        ).first()
    )


@pytest.fixture(autouse=True)
def _clean_database(database: Database) -> Iterator[None]:
    database.settings = baseline_settings(database.url)
    empty_all_tables(database)
    yield


@pytest.fixture
def is_postgres(database: Database) -> bool:
    return database.dialect == "postgresql"


@pytest.fixture
def postgres_only(database: Database) -> None:
    if database.dialect != "postgresql":
        pytest.skip("needs PostgreSQL (set DROPWIRE_TEST_DATABASE_URL)")


@pytest.fixture
def settings(database: Database) -> Settings:
    return database.settings


@pytest.fixture
def configure(database: Database) -> Callable[..., Settings]:
    """Change settings for one test, as an operator would in the environment (the next test
    starts from the baseline again)."""

    def change(**values: Any) -> Settings:
        database.settings = Settings.model_validate(database.settings.model_dump() | values)
        return database.settings

    return change


@pytest.fixture
def cli_in_this_process(database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """`dropwire ...` commands invoked here use the test database and its (configured)
    settings, as a real process reads them from its environment."""
    monkeypatch.setattr(runtime, "settings", lambda: database.settings)
    monkeypatch.setattr(runtime, "database", lambda: database)


@pytest.fixture
def app(database: Database, settings: Settings) -> FastAPI:
    return create_app(database, settings)


@pytest.fixture
def anonymous(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def make_token(database: Database, name: str = "tests", vendor_id: int | None = None) -> str:
    with database.transaction() as session:
        _, token = create_api_user(session, name=name, dropship_provider_id=vendor_id)
    return token


@pytest.fixture
def admin_token(database: Database) -> str:
    return make_token(database, "admin")


@pytest.fixture
def client(anonymous: TestClient, admin_token: str) -> TestClient:
    """An HTTP client authenticated as an admin."""
    anonymous.headers["Authorization"] = f"Bearer {admin_token}"
    return anonymous


@pytest.fixture
def vendor_client(app: FastAPI, database: Database) -> Iterator[TestClient]:
    """An HTTP client whose token is scoped to a fresh vendor (its id in `.vendor_id`)."""
    with database.transaction() as session:
        vendor = DropshipProvider(name="Scoped Vendor")
        session.add(vendor)
        session.flush()
        vendor_id = vendor.id
    token = make_token(database, "vendor", vendor_id)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        test_client.headers["Authorization"] = f"Bearer {token}"
        test_client.vendor_id = vendor_id  # type: ignore[attr-defined]
        yield test_client


class LiveServer:
    """The app under uvicorn on a real socket, in a thread: answers reach the client exactly
    when uvicorn sends them, unlike `TestClient`, which waits for the whole ASGI call."""

    def __init__(self, app: FastAPI) -> None:
        import uvicorn

        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="live-server", daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the live server did not start")
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[str]:
    """Base URL of the app served by uvicorn on 127.0.0.1 (a free port)."""
    with LiveServer(app) as base_url:
        yield base_url


@pytest.fixture
def live_client(live_server: str, admin_token: str) -> Iterator[httpx.Client]:
    """An admin HTTP client talking to `live_server` over a real socket."""
    headers = {"Authorization": f"Bearer {admin_token}"}
    with httpx.Client(base_url=live_server, headers=headers, timeout=30) as http:
        yield http
