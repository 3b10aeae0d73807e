"""Idempotency records keep the Dropwire-Ignored-Fields header, so a replay carries it.

Revision ID: 0015_onport_more
Revises: 0012_web
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_onport_more"
down_revision: str | Sequence[str] | None = "0016_elasticpath_more"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ignored_fields", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_column("ignored_fields")
