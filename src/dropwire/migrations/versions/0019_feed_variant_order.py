"""Feed variants indexed by (feed, id): a run reads its feed's rows in id order, page by page

Revision ID: 0019_feed_variant_order
Revises: 0015_onport_more
Create Date: 2026-11-25 17:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019_feed_variant_order"
down_revision: str | Sequence[str] | None = "0015_onport_more"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("inventory_feed_variants", schema=None) as batch_op:
        batch_op.create_index("ix_feed_variants_feed_id", ["inventory_feed_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("inventory_feed_variants", schema=None) as batch_op:
        batch_op.drop_index("ix_feed_variants_feed_id")
