"""Migrations that rewrite stored sales: 0010_onport (snake_case, purchase statuses) and
0021_sale_former_references (references renamed sales gave up, read off their documents).

It runs on the test database's engine: a temporary SQLite file, or, when
DROPWIRE_TEST_DATABASE_URL is PostgreSQL, a scratch database on that server (created and dropped
here, since the shared test database is already migrated).
"""

import json
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import create_engine, make_url, text

from dropwire.core.db import Database
from dropwire.core.migrations import alembic_config


@pytest.fixture
def unmigrated(tmp_path: Path) -> Iterator[Database]:
    """An empty database of the kind the tests run on."""
    url = os.environ.get("DROPWIRE_TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        database = Database(f"sqlite:///{tmp_path / 'old.db'}")
        yield database
        database.dispose()
        return
    base = make_url(url)
    scratch = base.set(database=f"{base.database}_migration_{uuid.uuid4().hex[:8]}")
    server = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{scratch.database}"'))
    database = Database(scratch.render_as_string(hide_password=False))
    try:
        yield database
    finally:
        database.dispose()
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{scratch.database}" WITH (FORCE)'))
        server.dispose()


def _json(value: Any) -> Any:
    """JSON columns come back as text from SQLite and already parsed from PostgreSQL."""
    return json.loads(value) if isinstance(value, str) else value


def _insert_channel(session: Any, now: datetime) -> None:
    """Channel 1, as an older schema stores it (raw SQL: the models are of the newest one)."""
    session.execute(
        text(
            "INSERT INTO channels (id, name, parent_channel, inventory_sync,"
            " automatically_cancel_sales, connect_to_feed, created_at, updated_at)"
            " VALUES (1, 'Store', 'custom', 'all', :yes, :yes, :now, :now)"
        ),
        {"yes": True, "now": now},
    )


def test_existing_sales_become_camel_case(unmigrated: Database) -> None:
    config = alembic_config(unmigrated)
    command.upgrade(config, "0007_users")
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with unmigrated.transaction() as session:
        _insert_channel(session, now)
        session.execute(
            text(
                "INSERT INTO sales (id, channel_id, external_id, reference, customer,"
                " sale_defaults, shipping, options, dropship_problems, inventory_status,"
                " payment_status, cancellation_status, last_purchase_number, created_at,"
                " updated_at) VALUES (1, 1, 'x', '10001', :customer, :defaults, :shipping,"
                " :options, :problems, 'notFulfilled', 'notPaid', 'none', 0, :now, :now)"
            ),
            {
                "customer": json.dumps({"first_name": "Ada"}),
                "defaults": json.dumps({"receiver_first_name": "Ada", "receiver_zip": "1"}),
                "shipping": json.dumps([{"service_level": "ground"}]),
                "options": "{}",
                "problems": "[]",
                "now": now,
            },
        )
    command.upgrade(config, "heads")
    with unmigrated.transaction() as session:
        row = session.execute(
            text("SELECT customer, sale_defaults, shipping, return_status FROM sales")
        ).one()
        names = [r[0] for r in session.execute(text("SELECT name FROM purchase_statuses"))]
    assert _json(row.customer) == {"firstName": "Ada"}
    assert _json(row.sale_defaults) == {"receiverFirstName": "Ada", "receiverZip": "1"}
    assert _json(row.shipping) == [{"serviceLevel": "ground"}]
    assert row.return_status == "notReturned"
    assert sorted(names) == ["Acknowledged", "Rejected", "Unacknowledged"]


def test_references_renamed_sales_gave_up_are_reserved(unmigrated: Database) -> None:
    """Sale 1 was 10001 (orders 10001-01, return 10001-R01), then R-NEW (order R-NEW-02); sale 2
    is 10002, and sale 3 has an order named after sale 2's reference (kept by sale 2)."""
    config = alembic_config(unmigrated)
    command.upgrade(config, "0020_jobs_waiting_line")
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with unmigrated.transaction() as session:
        _insert_channel(session, now)
        for sale_id, reference in ((1, "R-NEW"), (2, "10002"), (3, "10003")):
            session.execute(
                text(
                    "INSERT INTO sales (id, channel_id, external_id, reference, customer,"
                    " sale_defaults, shipping, options, dropship_problems, inventory_status,"
                    " payment_status, cancellation_status, last_purchase_number, created_at,"
                    " updated_at) VALUES (:id, 1, :id, :reference, '{}', '{}', '[]', '{}', '[]',"
                    " 'notFulfilled', 'notPaid', 'none', 2, :now, :now)"
                ),
                {"id": sale_id, "reference": reference, "now": now},
            )
        for sale_id, reference in (
            (1, "10001-01"),
            (1, "R-NEW-02"),
            (2, "10002-01"),
            (3, "10002-02"),
        ):
            session.execute(
                text(
                    "INSERT INTO purchases (sale_id, external_reference, inventory_status,"
                    " cancellation_status, order_splitting, last_fulfillment_number,"
                    " created_at, updated_at) VALUES (:sale_id, :reference, 'notReceived',"
                    " 'none', 'group', 0, :now, :now)"
                ),
                {"sale_id": sale_id, "reference": reference, "now": now},
            )
        session.execute(
            text(
                "INSERT INTO sale_returns (sale_id, reference, restock, created_at, updated_at)"
                " VALUES (1, '10001-R01', :no, :now, :now)"
            ),
            {"no": False, "now": now},
        )
    command.upgrade(config, "heads")
    with unmigrated.transaction() as session:
        rows = session.execute(text("SELECT reference, sale_id FROM sale_former_references"))
        assert sorted(tuple(row) for row in rows) == [("10001", 1)]
