"""Stripe transfers leave the job queue: a pending payment carries its next attempt

Revision ID: 0033_payment_transfers
Revises: 0032_purchase_dates
Create Date: 2026-12-07 04:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0033_payment_transfers"
down_revision: str | Sequence[str] | None = "0032_purchase_dates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("transfer_due_at", sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("transfer_attempts", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.create_index(
            batch_op.f("ix_payments_transfer_due_at"), ["transfer_due_at"], unique=False
        )
    # pending Stripe payments queued as jobs before: due now, sent by the poller
    op.execute(
        "UPDATE payments SET transfer_due_at = '2000-01-01 00:00:00'"
        " WHERE status = 'pending' AND source = 'stripe'"
    )
    op.execute(
        "DELETE FROM jobs WHERE kind = 'payments.transfer' AND state IN ('queued', 'running')"
    )


def downgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_transfer_due_at"))
        batch_op.drop_column("transfer_attempts")
        batch_op.drop_column("transfer_due_at")
