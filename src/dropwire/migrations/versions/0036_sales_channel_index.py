"""sales: drop `ix_sales_channel_id`, which the unique (channel_id, external_id) index covers

Every lookup by channel (a batch of queued manual sales asks for up to 200 external ids, a
channel's deletion checks for its sales, the lists filter by channel) is served by the unique
index's leading column as well, so the single-column index only cost writes (every new sale
wrote one index more), and a generic plan could pick it and filter the channel's sales by
external id. On PostgreSQL the drop is `CONCURRENTLY`, outside the transaction, so a live
database keeps taking writes.

Revision ID: 0036_sales_channel_index
Revises: 0035_user_name_holds_an_address
Create Date: 2026-12-07 21:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0036_sales_channel_index"
down_revision: str | Sequence[str] | None = "0035_user_name_holds_an_address"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_sales_channel_id"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.drop_index(INDEX, table_name="sales", if_exists=True)
        return
    with op.get_context().autocommit_block():
        op.drop_index(INDEX, table_name="sales", postgresql_concurrently=True, if_exists=True)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.create_index(INDEX, "sales", ["channel_id"])
        return
    with op.get_context().autocommit_block():
        op.create_index(
            INDEX, "sales", ["channel_id"], postgresql_concurrently=True, if_not_exists=True
        )
