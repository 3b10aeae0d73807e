"""indexes the dashboard's search reads: references, customer emails and vendor names by prefix

Sale and purchase-order references are unique (so indexed), but PostgreSQL answers
`LIKE 'x%'` from an index only when its operator class compares bytes (`text_pattern_ops`)
under a non-C collation: those get a twin. A sale's customer email (inside its `customer`
document) and a vendor's name get an index on their lower-cased value on both databases; the
search (`dropwire.web.search`) writes the same expressions. Built `CONCURRENTLY` on PostgreSQL,
outside the migration's transaction, so a live database keeps taking writes; an interrupted build
leaves an invalid index that the next run drops and builds again.

Revision ID: 0031_search
Revises: 0030_imports_templates
Create Date: 2026-12-07 04:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0031_search"
down_revision: str | Sequence[str] | None = "0030_imports_templates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

POSTGRESQL = {
    "ix_sales_reference_prefix": "sales (reference text_pattern_ops)",
    "ix_purchases_reference_prefix": "purchases (external_reference text_pattern_ops)",
    "ix_sales_customer_email": "sales ((lower(customer ->> 'email')) text_pattern_ops)",
    "ix_dropship_providers_name_key": "dropship_providers ((lower(name)) text_pattern_ops)",
}
SQLITE = {
    "ix_sales_customer_email": "sales (lower(json_extract(customer, '$.email')))",
    "ix_dropship_providers_name_key": "dropship_providers (lower(name))",
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        for name, target in SQLITE.items():
            op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")
        return
    with op.get_context().autocommit_block():
        for name, target in POSTGRESQL.items():
            invalid = op.get_bind().scalar(
                sa.text(
                    "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                    "WHERE c.relname = :name AND NOT i.indisvalid"
                ),
                {"name": name},
            )
            if invalid:
                op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
            op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {target}")


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name in POSTGRESQL if postgresql else SQLITE:
        op.execute(f"DROP INDEX IF EXISTS {name}")
