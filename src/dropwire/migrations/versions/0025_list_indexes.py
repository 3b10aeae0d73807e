"""indexes the lists and the dashboard ask for at a million rows

Filters and orders the API's Onport clients send (feed items by vendor SKU, sales by
`dateOrdered`), the dashboard's figures (today's sales, waiting purchase orders, feed items with
a problem, API errors) and SKU prefix search. On PostgreSQL each is built `CONCURRENTLY`, outside
the migration's transaction, so a live database keeps taking writes while it builds; an
interrupted build leaves an invalid index that the next run drops and builds again.

Revision ID: 0025_list_indexes
Revises: 0024_money
Create Date: 2026-12-07 01:25:26.095745
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from alembic import op

revision: str = "0025_list_indexes"
down_revision: str | Sequence[str] | None = "0024_money"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WAITING = "inventory_status <> 'received' AND cancellation_status <> 'full'"


@dataclass(frozen=True)
class NewIndex:
    name: str
    table: str
    columns: list[str]
    where: str | None = None
    postgresql_ops: dict[str, str] = field(default_factory=dict)

    @property
    def postgresql_only(self) -> bool:
        return bool(self.postgresql_ops)  # a text_pattern_ops twin of a plain index


INDEXES = (
    NewIndex("ix_feed_variants_vendor_sku", "inventory_feed_variants", ["vendor_sku"]),
    NewIndex(
        "ix_feed_variants_sku_key_prefix",
        "inventory_feed_variants",
        ["vendor_sku_key"],
        postgresql_ops={"vendor_sku_key": "text_pattern_ops"},
    ),
    NewIndex(
        "ix_feed_variants_problem",
        "inventory_feed_variants",
        ["inventory_feed_id", "id"],
        where="problem IS NOT NULL",
    ),
    NewIndex("ix_sales_date_ordered", "sales", ["date_ordered", "id"]),
    NewIndex("ix_sales_created_at", "sales", ["created_at", "id"]),
    NewIndex("ix_purchases_waiting", "purchases", ["dropship_provider_id", "id"], where=WAITING),
    NewIndex("ix_api_logs_errors", "api_logs", ["id"], where="status = 'error'"),
    NewIndex("ix_api_logs_errors_created_at", "api_logs", ["created_at"], where="status = 'error'"),
    NewIndex(
        "ix_variants_sku_key_prefix",
        "variants",
        ["sku_key"],
        postgresql_ops={"sku_key": "text_pattern_ops"},
    ),
)


def _drop_invalid(index: NewIndex) -> None:
    """A `CREATE INDEX CONCURRENTLY` that was interrupted leaves an invalid index behind."""
    invalid = op.get_bind().scalar(
        sa.text(
            "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = :name AND NOT i.indisvalid"
        ),
        {"name": index.name},
    )
    if invalid:
        op.drop_index(index.name, table_name=index.table, postgresql_concurrently=True)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        for index in INDEXES:
            if not index.postgresql_only:
                where = sa.text(index.where) if index.where else None
                op.create_index(index.name, index.table, index.columns, sqlite_where=where)
        return
    with op.get_context().autocommit_block():
        for index in INDEXES:
            _drop_invalid(index)
            op.create_index(
                index.name,
                index.table,
                index.columns,
                postgresql_where=sa.text(index.where) if index.where else None,
                postgresql_ops=index.postgresql_ops,
                postgresql_concurrently=True,
                if_not_exists=True,
            )


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for index in reversed(INDEXES):
        if postgresql or not index.postgresql_only:
            op.drop_index(index.name, table_name=index.table, if_exists=True)
