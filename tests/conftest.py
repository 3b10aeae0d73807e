"""Shared fixtures: a real database (SQLite by default, PostgreSQL with
DROPWIRE_TEST_DATABASE_URL), migrated once, emptied after every test."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

import dropwire.models  # noqa: F401  (every table registered)
from dropwire.auth.service import create_api_user
from dropwire.core.db import Base, Database
from dropwire.core.migrations import upgrade
from dropwire.core.settings import Settings
from dropwire.http.app import create_app
from dropwire.inventory.warehouses import ensure_default_warehouse
from dropwire.sales.statuses import seed_defaults as seed_purchase_statuses
from dropwire.vendors.models import DropshipProvider


def _test_url(tmp_dir: Path) -> str:
    return os.environ.get("DROPWIRE_TEST_DATABASE_URL") or f"sqlite:///{tmp_dir / 'test.db'}"


@pytest.fixture(scope="session")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    db = Database(_test_url(tmp_path_factory.mktemp("db")))
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
    return Settings(
        database_url=database.url,
        admin_token=None,
        rate_limit_enabled=False,
        allow_private_targets=True,
        worker_in_process=False,
        auth_cache_seconds=0,
        _env_file=None,  # type: ignore[call-arg]
    )


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
