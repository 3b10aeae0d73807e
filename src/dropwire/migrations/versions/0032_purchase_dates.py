"""an index for purchase orders by creation date (the dashboard's date-range filter)

The sales list's date range reads `ix_sales_created_at`; the purchase-order list's reads this,
instead of every purchase order. Built `CONCURRENTLY` on PostgreSQL, outside the migration's
transaction; an interrupted build leaves an invalid index that the next run drops and builds again.

Revision ID: 0032_purchase_dates
Revises: 0031_search
Create Date: 2026-12-07 05:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0032_purchase_dates"
down_revision: str | Sequence[str] | None = "0031_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_purchases_created_at"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.create_index(NAME, "purchases", ["created_at", "id"], if_not_exists=True)
        return
    with op.get_context().autocommit_block():
        invalid = op.get_bind().scalar(
            sa.text(
                "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE c.relname = :name AND NOT i.indisvalid"
            ),
            {"name": NAME},
        )
        if invalid:
            op.drop_index(NAME, table_name="purchases", postgresql_concurrently=True)
        op.create_index(
            NAME,
            "purchases",
            ["created_at", "id"],
            postgresql_concurrently=True,
            if_not_exists=True,
        )


def downgrade() -> None:
    op.drop_index(NAME, table_name="purchases", if_exists=True)
