"""Email messages composed when sent: a purchase order's email is recorded without its parts

Revision ID: 0034_mail_composed_when_sent
Revises: 0033_payment_transfers
Create Date: 2026-12-07 11:59:10.019581
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0034_mail_composed_when_sent"
down_revision: str | Sequence[str] | None = "0033_payment_transfers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("email_messages", schema=None) as batch_op:
        batch_op.alter_column("subject", existing_type=sa.VARCHAR(length=998), nullable=True)
        batch_op.alter_column("html", existing_type=sa.TEXT(), nullable=True)
        batch_op.alter_column("text", existing_type=sa.TEXT(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM email_messages WHERE subject IS NULL")
    with op.batch_alter_table("email_messages", schema=None) as batch_op:
        batch_op.alter_column("text", existing_type=sa.TEXT(), nullable=False)
        batch_op.alter_column("html", existing_type=sa.TEXT(), nullable=False)
        batch_op.alter_column("subject", existing_type=sa.VARCHAR(length=998), nullable=False)
