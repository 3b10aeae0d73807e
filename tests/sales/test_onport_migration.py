"""0010_onport rewrites sales stored in snake_case and seeds the purchase statuses."""

import json

from alembic import command
from sqlalchemy import text

from dropwire.core.db import Database
from dropwire.core.migrations import alembic_config


def test_existing_sales_become_camel_case(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'old.db'}")
    config = alembic_config(database)
    command.upgrade(config, "0007_users")
    now = "2026-01-01 00:00:00"
    with database.transaction() as session:
        session.execute(
            text(
                "INSERT INTO channels (id, name, parent_channel, inventory_sync,"
                " automatically_cancel_sales, connect_to_feed, created_at, updated_at)"
                " VALUES (1, 'Store', 'custom', 'all', 1, 1, :now, :now)"
            ),
            {"now": now},
        )
        session.execute(
            text(
                "INSERT INTO sales (id, channel_id, external_id, reference, customer,"
                " sale_defaults, shipping, options, dropship_problems, inventory_status,"
                " payment_status, cancellation_status, last_purchase_number, created_at,"
                " updated_at) VALUES (1, 1, 'x', '10001', :customer, :defaults, :shipping, '{}',"
                " '[]', 'notFulfilled', 'notPaid', 'none', 0, :now, :now)"
            ),
            {
                "customer": json.dumps({"first_name": "Ada"}),
                "defaults": json.dumps({"receiver_first_name": "Ada", "receiver_zip": "1"}),
                "shipping": json.dumps([{"service_level": "ground"}]),
                "now": now,
            },
        )
    command.upgrade(config, "heads")
    with database.transaction() as session:
        row = session.execute(
            text("SELECT customer, sale_defaults, shipping, return_status FROM sales")
        ).one()
        names = [r[0] for r in session.execute(text("SELECT name FROM purchase_statuses"))]
    assert json.loads(row.customer) == {"firstName": "Ada"}
    assert json.loads(row.sale_defaults) == {"receiverFirstName": "Ada", "receiverZip": "1"}
    assert json.loads(row.shipping) == [{"serviceLevel": "ground"}]
    assert row.return_status == "notReturned"
    assert sorted(names) == ["Acknowledged", "Rejected", "Unacknowledged"]
    database.dispose()
